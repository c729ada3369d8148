/**
 * The member registry for a block on any branch: genesis plus the governance txs of ITS
 * ancestors, not the main chain's. Block import needs it for a block whose parent is not the
 * tip (a side branch that may become the main chain): its sealer's right and its txs' keys are
 * judged by the registry of its own branch, so a reorg across an activation neither accepts a
 * block its branch forbids nor marks invalid one its branch allows.
 *
 * The state after a main-chain entry is read back from the tip through the undo records (each
 * holds the state before its block when the block changed it); the state after a side entry is
 * the state after its parent with its block's changes replayed. Results are cached by block
 * hash (bounded; the state after a block depends on its ancestry alone, so a cached state never
 * goes stale), so a long side branch arriving block by block costs one step per block.
 */
import { LruCache } from '../common/lru.js';
import { StoreDamagedError, TxError } from '../common/errors.js';
import { toHex } from '../common/bytes.js';
import { activateAt, applyGovTx, type GovernanceState } from './governance.js';
import { MemberRegistry } from './registry.js';
import type { StoredBlocks } from './stored-blocks.js';
import type { ChainStore, HeaderEntry } from './store.js';

const CACHE_ENTRIES = 256;

export interface BranchRegistryModules {
  store: ChainStore;
  blocks: StoredBlocks;
  /** The header entry of a hash (the header index). */
  header(hash: string): HeaderEntry | undefined;
  /** The main chain's tip and the governance state after it, now. */
  tip(): { entry: HeaderEntry; state: GovernanceState };
  genesisState: GovernanceState;
}

export class BranchRegistry {
  private readonly cache = new LruCache<string, GovernanceState>(CACHE_ENTRIES);

  constructor(
    private readonly opts: { chainId: string },
    private readonly modules: BranchRegistryModules,
  ) {}

  /** The registry a child of `parent` is checked against (at parent.height + 1). */
  async registryForChildOf(parent: HeaderEntry): Promise<MemberRegistry> {
    const state = await this.stateAfter(parent);
    const height = parent.height + 1;
    return new MemberRegistry(activateAt(state, height, this.opts.chainId), height);
  }

  private async stateAfter(entry: HeaderEntry): Promise<GovernanceState> {
    const { store, header } = this.modules;
    // Walk back to an entry whose state is known: the tip, a cached one, or one on the main chain.
    const side: HeaderEntry[] = [];
    let at: HeaderEntry = entry;
    let base: GovernanceState | undefined;
    for (;;) {
      const tip = this.modules.tip();
      if (at.hash === tip.entry.hash) {
        base = tip.state;
        break;
      }
      const cached = this.cache.get(at.hash);
      if (cached) {
        base = cached;
        break;
      }
      if (at.height <= tip.entry.height && (await store.getMainHash(at.height)) === at.hash) {
        base = await this.mainStateAfter(at);
        break;
      }
      side.push(at);
      const parent = header(at.prevHash);
      if (!parent) throw new StoreDamagedError(at.hash, `is stored but its parent ${at.prevHash} has no header entry (run tracechain reindex)`);
      at = parent;
    }
    let state = base;
    for (let i = side.length - 1; i >= 0; i--) {
      const e = side[i] as HeaderEntry;
      state = await this.replay(state, e);
      this.cache.set(e.hash, state);
    }
    return state;
  }

  /** The state after a main-chain entry below the tip: the earliest undo above it that changed the state holds it. */
  private async mainStateAfter(entry: HeaderEntry): Promise<GovernanceState> {
    const { store } = this.modules;
    const tip = this.modules.tip();
    let state = tip.state;
    for (let h = tip.entry.height; h > entry.height; h--) {
      const hash = await store.getMainHash(h);
      const undo = hash === undefined ? undefined : await store.getUndo(hash);
      if (undo?.governance === undefined) continue;
      state = undo.governance === null ? this.modules.genesisState : (JSON.parse(undo.governance) as GovernanceState);
    }
    return state;
  }

  /** The state after a stored side block, from the state after its parent (a tx its branch refuses changes nothing: that block fails when it connects). */
  private async replay(before: GovernanceState, entry: HeaderEntry): Promise<GovernanceState> {
    const block = await this.modules.blocks.read(entry.hash);
    let state = activateAt(before, entry.height, this.opts.chainId);
    for (const [i, tx] of block.txs.entries()) {
      if (tx.gov === undefined) continue;
      try {
        state = applyGovTx(state, tx.gov, { chainId: this.opts.chainId, height: entry.height, txId: toHex(block.txIds[i] as Uint8Array), submitter: tx.submitter });
      } catch (err) {
        if (!(err instanceof TxError)) throw err;
      }
    }
    return state;
  }
}
