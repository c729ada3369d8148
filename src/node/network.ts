/**
 * Builds, starts and stops the node's p2p service, and wires it to the chain and the miner:
 * blocks this node seals and txs it admits locally (or gets back from a reorg) are gossiped;
 * sync progress drives a progress bar when stderr is a terminal.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { PrivateKey } from '@libp2p/interface';
import type { Chain, TxOrigin } from '../chain/chain.js';
import type { Block } from '../chain/block.js';
import type { SignedTx } from '../chain/types.js';
import { chainPort, type ChainPort } from '../p2p/chain-port.js';
import { P2PNetwork, type NetworkOptions } from '../p2p/network.js';
import { parseSwarmKey } from '../p2p/swarm-key.js';
import type { SyncProgress } from '../p2p/sync.js';
import { progressBar, type Progress } from './progress.js';
import type { DataDir } from './data-dir.js';
import type { NodeConfig } from './config.js';
import type { NetworkView } from '../api/context.js';

export const SWARM_KEY_FILE = 'swarm.key';

/** Only a sync this far behind gets a progress bar. */
const BAR_MIN_BLOCKS = 20;

export interface SealedSource {
  on(event: 'sealed', listener: (block: Block, bytes: Uint8Array) => void): unknown;
  off(event: 'sealed', listener: (block: Block, bytes: Uint8Array) => void): unknown;
}

export interface NetworkService {
  network: P2PNetwork;
  stop(): Promise<void>;
}

/** Gossip what this node makes: sealed blocks, and txs admitted here or returned by a reorg. */
export function wireChainToNetwork(chain: Chain, network: P2PNetwork, sealed?: SealedSource): () => void {
  const onSealed = (_block: Block, bytes: Uint8Array): void => {
    void network.publishBlock(bytes);
  };
  const onTx = (_tx: SignedTx, _id: string, origin: TxOrigin, bytes: Uint8Array): void => {
    if (origin !== 'gossip') void network.publishTx(bytes);
  };
  sealed?.on('sealed', onSealed);
  chain.on('tx', onTx);
  return () => {
    sealed?.off('sealed', onSealed);
    chain.off('tx', onTx);
  };
}

/** A terminal progress bar for long syncs (nothing when stderr is not a TTY). */
export function syncProgressBar(network: P2PNetwork): () => void {
  let bar: Progress | undefined;
  const onProgress = (p: SyncProgress): void => {
    if (p.syncing && p.target - p.height >= BAR_MIN_BLOCKS) {
      bar ??= progressBar('sync');
      bar.update(p.height, p.target);
    } else if (!p.syncing && bar) {
      bar.update(p.height, Math.max(p.height, p.target));
      bar.stop();
      bar = undefined;
    }
  };
  network.on('progress', onProgress);
  return () => {
    network.off('progress', onProgress);
    bar?.stop();
  };
}

async function readSwarmKey(dir: DataDir): Promise<Uint8Array | undefined> {
  if (!(await dir.exists(SWARM_KEY_FILE))) return undefined;
  return parseSwarmKey(await readFile(dir.file(SWARM_KEY_FILE), 'utf8'));
}

/**
 * Start the p2p service when this node is part of a network, i.e. the consortium has other
 * members. A one-member dev chain has no one to talk to and runs without it (then /health does
 * not ask for peers).
 */
export async function startNetwork(args: {
  config: NodeConfig;
  dir: DataDir;
  chain: Chain;
  peerKey: PrivateKey;
  sealed?: SealedSource;
  logger: Logger;
  options?: Partial<NetworkOptions>;
}): Promise<NetworkService | undefined> {
  const { config, dir, chain, peerKey, logger } = args;
  if (chain.registry.members.length < 2) {
    if (config.p2p.listen.length > 0 || config.p2p.bootstrap.length > 0) logger.warn({ module: 'p2p' }, 'a one-member consortium has no peers: p2p options ignored');
    return undefined;
  }
  const port: ChainPort = chainPort(chain);
  let network: P2PNetwork;
  try {
    network = await P2PNetwork.create(
      {
        privateKey: peerKey,
        listen: config.p2p.listen,
        bootstrap: config.p2p.bootstrap,
        swarmKey: await readSwarmKey(dir),
        ...args.options,
      },
      { chain: port, logger },
    );
    await network.start();
  } catch (err) {
    port.dispose();
    throw err;
  }
  if (config.p2p.listen.length === 0) logger.warn({ module: 'p2p' }, 'no p2p listen address: this node only dials out (use --p2p)');
  const unwire = wireChainToNetwork(chain, network, args.sealed);
  const unbar = syncProgressBar(network);
  return {
    network,
    async stop() {
      unbar();
      unwire();
      await network.stop();
      port.dispose();
    },
  };
}

/** What the API shows and switches of the network (GET /peers, /admin/partition). */
export function networkView(network: P2PNetwork): NetworkView {
  return {
    self: () => ({ peerId: network.peerId, addresses: network.addresses() }),
    peers: () => network.peers(),
    sync: () => {
      const p = network.syncProgress();
      return { height: p.height, bestKnownHeight: p.target, syncing: p.syncing, synced: network.synced() };
    },
    blocked: () => network.blocked(),
    setBlocked: (ids) => network.setBlocked(ids),
    banned: () => network.banned(),
    isMember: (id) => network.isMember(id),
  };
}
