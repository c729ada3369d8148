/**
 * A bench node process: the node's chain (store, EPCIS rules, worker-pool tx verifier) and its
 * network service, driven by the bench over IPC. It reports, with a cross-process clock, every
 * block it connects, every tx it admits, and sync progress; on request it seals a block or
 * captures an event itself and gossips it as a node would.
 */
import { governanceHash } from '../src/chain/governance.js';
import { jcs } from '../src/chain/tx.js';
import '../src/runtime/shims.js';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { encodeBlock, type Block } from '../src/chain/block.js';
import { signTx } from '../src/chain/tx.js';
import { keyIdHex, type KeyPair } from '../src/chain/keys.js';
import { MemberRegistry } from '../src/chain/registry.js';
import { WorkerPoolTxVerifier } from '../src/chain/verifier-pool.js';
import type { Member } from '../src/chain/types.js';
import { prepareDocument } from '../src/trace/document.js';
import { DataDir } from '../src/node/data-dir.js';
import { defaultConfig } from '../src/node/config.js';
import { startNetwork, type NetworkService } from '../src/node/network.js';
import { nowMs, openChain, sealBlock, type FromNode, type OpenedChain, type ToNode } from './p2p-common.js';

// TRACECHAIN_BENCH_LOG=debug TRACECHAIN_BENCH_LOG_DIR=/tmp/x: each node's log in its own file.
const logDir = process.env.TRACECHAIN_BENCH_LOG_DIR;
const logger = pino({ level: process.env.TRACECHAIN_BENCH_LOG ?? 'warn' }, pino.destination(logDir ? `${logDir}/node-${process.pid}.log` : 2));

interface State {
  opened: OpenedChain;
  net: NetworkService;
  key: KeyPair;
  member: Member;
  sealed: EventEmitter<{ sealed: [block: Block, bytes: Uint8Array] }>;
}
let state: State | undefined;
let serial = 0;

function send(m: FromNode): void {
  process.send?.(m);
}

function need(): State {
  if (!state) throw new Error('not initialised');
  return state;
}

function commissioningDocument(): unknown {
  const now = new Date().toISOString();
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: now,
    epcisBody: {
      eventList: [
        {
          type: 'ObjectEvent',
          eventTime: now,
          eventTimeZoneOffset: '+00:00',
          epcList: [`urn:epc:id:sgtin:0614141.107346.${process.pid}${++serial}`],
          action: 'ADD',
          bizStep: 'commissioning',
          disposition: 'active',
        },
      ],
    },
  };
}

async function handle(m: ToNode): Promise<void> {
  switch (m.type) {
    case 'init': {
      const dir = new DataDir(m.dir);
      const genesis = await dir.readGenesis();
      const key = await dir.readMemberKey();
      const peerKey = await dir.readPeerKey();
      if (!genesis || !key || !peerKey) throw new Error(`${m.dir} is not a member's data dir`);
      const member = MemberRegistry.fromGenesis(genesis).get(keyIdHex(key.publicKey));
      if (!member) throw new Error('not a member');
      const opened = await openChain(m.dir, genesis, logger, new WorkerPoolTxVerifier({ workers: 1 }, { genesis }));
      const config = defaultConfig();
      config.p2p.listen = m.listen;
      config.p2p.bootstrap = m.bootstrap;
      const sealed = new EventEmitter<{ sealed: [block: Block, bytes: Uint8Array] }>();
      const net = await startNetwork({ config, dir, chain: opened.chain, peerKey, sealed, logger, options: { sync: { statusIntervalMs: m.statusIntervalMs } } });
      if (!net) throw new Error('no network');
      if (m.reportBlocks) opened.chain.on('block', (b) => send({ type: 'block', hash: b.hashHex, height: b.header.height, t: nowMs() }));
      const reach = m.reachHeight;
      if (reach !== undefined) {
        const onTip = (tip: { height: number }): void => {
          if (tip.height < reach) return;
          send({ type: 'reached', height: tip.height, t: nowMs(), registryHash: governanceHash(opened.chain.governance, jcs) });
          opened.chain.off('tip', onTip);
        };
        opened.chain.on('tip', onTip);
      }
      opened.chain.on('tx', (_tx, id, origin) => send({ type: 'tx', id, origin, t: nowMs() }));
      net.network.on('progress', (p) => send({ type: 'progress', height: p.height, target: p.target, syncing: p.syncing, t: nowMs() }));
      state = { opened, net, key, member, sealed };
      send({ type: 'ready', peerId: net.network.peerId, addresses: net.network.addresses(), height: opened.chain.tip.height, registryHash: governanceHash(opened.chain.governance, jcs) });
      return;
    }
    case 'seal': {
      const s = need();
      const block = sealBlock(s.opened.chain, s.key, Date.now());
      const bytes = encodeBlock(block);
      await s.opened.chain.importBlock(block, bytes);
      const t = nowMs();
      s.sealed.emit('sealed', block, bytes);
      send({ type: 'sealed', hash: block.hashHex, t });
      return;
    }
    case 'tx': {
      const s = need();
      const prepared = prepareDocument(commissioningDocument(), { member: s.member });
      const tx = signTx(
        { v: 1, chain: s.opened.chain.chainId, kind: 'epcis', submitter: s.member.id, time: Date.now(), events: prepared.events, eventIds: prepared.eventIds },
        s.key.secretKey,
      );
      const { txId } = await s.opened.chain.submitTx(tx);
      send({ type: 'txSent', id: txId, t: nowMs() });
      return;
    }
    case 'status': {
      const s = need();
      const tip = s.opened.chain.tip;
      send({ type: 'status', peers: s.net.network.peerCount(), topicPeers: s.net.network.topicPeers(), height: tip.height, hash: tip.hash });
      return;
    }
    case 'stop': {
      if (state) {
        await state.net.stop();
        await state.opened.close();
      }
      process.exit(0);
    }
  }
}

let queue: Promise<void> = Promise.resolve();
process.on('message', (m: ToNode) => {
  queue = queue.then(() => handle(m)).catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});
process.on('disconnect', () => process.exit(0));
