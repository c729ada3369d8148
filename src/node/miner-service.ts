/**
 * Sealing loop: build a template on the tip from the mempool, let the miner (worker threads)
 * find a nonce, sign as the sealer, import. A new tip aborts the job at once; the template is
 * refreshed on a schedule so new txs and a fresh time get in without restarting workers.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.js';
import { makeBlock, blockSigningMessage, encodeBlock, type Block } from '../chain/block.js';
import { decodeHeader, encodeHeader, hashHeaderBytes } from '../chain/header.js';
import { BlockError } from '../common/errors.js';
import { sign, keyId, type KeyPair } from '../chain/keys.js';
import { toHex } from '../common/bytes.js';
import { buildTemplate } from '../chain/template.js';
import { targetFromBits } from '../consensus/target.js';

export interface MineJob {
  header: Uint8Array;
  target: bigint;
}

export interface MineResult {
  header: Uint8Array;
  nonce: bigint;
  hash: Uint8Array;
}

/** What the sealing loop needs of a miner (consensus/miner implements it). */
export interface BlockMiner {
  mine(job: MineJob, signal?: AbortSignal): Promise<MineResult | null>;
  hashrate(): number;
  close(): Promise<void>;
}

export interface MinerServiceOptions {
  /** Rebuild the template this often while mining (new txs, new time). */
  refreshMs: number;
  key: KeyPair;
}

export interface MinerServiceModules {
  chain: Chain;
  miner: BlockMiner;
  clock: () => number;
  logger: Logger;
  /** Why the chain cannot take a block right now (disk full), or undefined: mining pauses meanwhile. */
  writeBlocked?: () => string | undefined;
}

export interface MinerServiceEvents {
  /** A block this node sealed and imported, with its encoded bytes (for gossip: encoded once). */
  sealed: [block: Block, bytes: Uint8Array];
}

export class MinerService extends EventEmitter<MinerServiceEvents> {
  private running = false;
  private loop: Promise<void> | undefined;
  private current: AbortController | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly sealerId: Uint8Array;
  /** Waiting for a seal right (logged once per change). */
  private idle = false;
  blocksMined = 0;

  constructor(
    private readonly opts: MinerServiceOptions,
    private readonly modules: MinerServiceModules,
  ) {
    super();
    this.log = modules.logger.child({ module: 'miner' });
    this.sealerId = keyId(opts.key.publicKey);
  }

  private readonly onTip = (): void => {
    this.current?.abort(new Error('new tip'));
  };

  start(): void {
    if (this.running) return;
    this.running = true;
    this.modules.chain.on('tip', this.onTip);
    this.refreshTimer = setInterval(() => this.current?.abort(new Error('template refresh')), this.opts.refreshMs);
    this.refreshTimer.unref();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.modules.chain.off('tip', this.onTip);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.current?.abort(new Error('stopping'));
    await this.loop;
  }

  hashrate(): number {
    return this.modules.miner.hashrate();
  }

  private async run(): Promise<void> {
    const { chain, miner, clock } = this.modules;
    let paused = false;
    while (this.running) {
      const blocked = this.modules.writeBlocked?.();
      if (blocked !== undefined) {
        // A block sealed now could not be stored: do not burn the CPU on it.
        if (!paused) this.log.warn({ reason: blocked }, 'mining paused: the chain store refuses writes');
        paused = true;
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      if (paused) this.log.info('mining resumed');
      paused = false;
      const tip = chain.tip;
      if (!chain.registry.canSealAt(toHex(this.sealerId), tip.height + 1)) {
        // Membership is chain state: not (or no longer, or not yet) a sealer at the next height.
        if (!this.idle) this.log.warn({ height: tip.height + 1 }, 'not sealing: this member has no seal right at the next height');
        this.idle = true;
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      if (this.idle) this.log.info({ height: tip.height + 1 }, 'sealing: this member has the seal right');
      this.idle = false;
      const selected = chain.selectForBlock(chain.params.maxBlockBytes - 64 * 1024);
      const template = buildTemplate({
        parent: tip,
        mtp: chain.medianTimePast(tip),
        bits: chain.nextBitsAfter(tip),
        now: clock(),
        sealer: this.sealerId,
        txs: selected.map((e) => ({ tx: e.tx, id: e.id })),
      });
      const canonical = selected.map((e) => ({ id: e.id, bytes: e.raw }));
      const controller = new AbortController();
      this.current = controller;
      let result: MineResult | null;
      try {
        result = await miner.mine({ header: encodeHeader(template.header), target: targetFromBits(template.header.bits) }, controller.signal);
      } catch (err) {
        if (!this.running) return;
        this.log.error({ err }, 'miner failed; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!result || !this.running) continue;
      if (chain.tip.hash !== tip.hash) continue; // lost the race to a peer's block
      const header = decodeHeader(result.header);
      const signed = makeBlock(header, sign(this.opts.key.secretKey, blockSigningMessage(hashHeaderBytes(result.header))), template.txs, canonical);
      const bytes = encodeBlock(signed);
      try {
        await chain.importBlock(signed, bytes);
        this.blocksMined++;
        this.emit('sealed', signed, bytes);
        this.log.info({ height: header.height, hash: signed.hashHex, txs: signed.txs.length }, 'sealed block');
      } catch (err) {
        if (err instanceof BlockError && err.code === 'TIME_TOO_NEW') continue;
        this.log.error({ err, hash: signed.hashHex }, 'own block rejected');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
