/**
 * Stateless verification of transactions (signature, chain ID, submitter, event IDs, roles).
 * CPU work: the inline implementation checks in small slices and yields to the event loop
 * between them; a worker-pool implementation can stand behind the same interface.
 */
import { TxError } from '../common/errors.js';
import { txId as computeTxId, verifyTxSignature } from './tx.js';
import type { MemberRegistry } from './registry.js';
import type { TxRules } from './tx-rules-port.js';
import type { SignedTx } from './types.js';
import type { SealItem } from './verifier-protocol.js';

/**
 * `full`: also the submitter's standing and role rules, in the registry the verifier holds (the
 * tip's successor: mempool admission). Without it (a block's txs at import, which may sit on
 * a side branch) only what holds at every height: chain ID, a key the consortium knows, the
 * signature and the events; the block's connect checks standing and roles at its own height.
 * `registry`: check against this registry instead of the tip's (a block on a side branch).
 */
export interface TxVerifier {
  /** Resolves with null for a valid tx, else the TxError, per tx in order. */
  verify(txs: readonly SignedTx[], txIds?: readonly Uint8Array[], full?: boolean, registry?: MemberRegistry): Promise<(TxError | null)[]>;
  /** The registry at the tip's successor (the chain sets it at every tip change). */
  setRegistry(registry: MemberRegistry): void;
  /**
   * Optional: check blocks' sealer signatures off the main thread (true = the sealer's key
   * verifies it), per item in order. Without it the chain checks each signature on import.
   */
  verifySeals?(seals: readonly SealItem[]): Promise<boolean[]>;
  close(): Promise<void>;
}

/** The checks themselves, synchronous, shared by every verifier implementation. */
export function verifyTxSync(tx: SignedTx, chainId: string, registry: MemberRegistry, rules: TxRules, id?: Uint8Array, full = true): void {
  if (tx.chain !== chainId) throw new TxError('WRONG_CHAIN', `tx is for chain ${tx.chain}, this is ${chainId}`);
  const key = registry.publicKey(tx.submitter);
  if (!key) throw new TxError('UNKNOWN_SUBMITTER', `submitter ${tx.submitter} is not a member of this consortium`);
  if (!verifyTxSignature(tx, key, id ?? computeTxId(tx))) throw new TxError('BAD_SIGNATURE', `signature does not verify for submitter ${registry.get(tx.submitter)?.name ?? tx.submitter}`);
  if (!full) {
    if (tx.kind === 'epcis' || tx.kind === 'private') rules.checkEvents(tx, null);
    return;
  }
  const s = registry.signer(tx.submitter);
  if ('error' in s) throw s.error;
  if (tx.kind === 'epcis' || tx.kind === 'private') rules.checkEvents(tx, s.member);
}

const SLICE_MS = 8;

export class InlineTxVerifier implements TxVerifier {
  constructor(
    private readonly opts: { chainId: string },
    private readonly modules: { registry: MemberRegistry; rules: TxRules },
  ) {}

  setRegistry(registry: MemberRegistry): void {
    this.modules.registry = registry;
  }

  async verify(txs: readonly SignedTx[], txIds?: readonly Uint8Array[], full = true, registry: MemberRegistry = this.modules.registry): Promise<(TxError | null)[]> {
    const out: (TxError | null)[] = [];
    let sliceStart = performance.now();
    for (let i = 0; i < txs.length; i++) {
      try {
        verifyTxSync(txs[i] as SignedTx, this.opts.chainId, registry, this.modules.rules, txIds?.[i], full);
        out.push(null);
      } catch (err) {
        if (!(err instanceof TxError)) throw err; // a bug, not a bad tx: let it surface
        out.push(err);
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}

