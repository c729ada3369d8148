/**
 * Scratch-off code checks at the API (GET /verify?id=…&code=…, docs/alerts.md "Scratch-off
 * codes"): the entered code is hashed with the pack's salt and compared with the commitment its
 * commissioning put on chain. A right code is recorded on chain (a `pack` tx `code-check` signed by
 * this node, carrying the proof, never the code); the answer says whether the pack was checked
 * before, when and where. Wrong codes are counted per pack: the limit's last wrong try reports the
 * guessing on chain (`code-guess`, an alert to the manufacturer) and further tries of that pack,
 * right or wrong, are refused until the window ends, so codes cannot be guessed through the API.
 *
 * Right codes are recorded at most 3 times per pack and hour through one node (later ones are
 * answered, with the first check, but not recorded), so a loop over a known code cannot flood
 * the chain. The counters and the node's own recent checks live in memory, bounded (oldest pack
 * forgotten first), per node: each node limits the tries made through it.
 */
import { keyIdHex, keyPairFromSecret } from '../chain/keys.js';
import { actionTxBody, canonicalTx, signTx } from '../chain/tx.js';
import type { PackRecord } from '../chain/alerts.js';
import type { PackAction } from '../chain/types.js';
import { toHex } from '../common/bytes.js';
import { normaliseCode, scratchCommit, scratchProof } from '../trace/scratch-code.js';
import type { ApiContext } from './context.js';
import { HttpProblem } from './problem.js';

export interface ScratchGuardOptions {
  /** Wrong codes per pack within the window before tries are refused (default 5). */
  maxWrong: number;
  /** The window, ms (default one hour). */
  windowMs: number;
  /** Packs remembered at most (default 10,000; the oldest is forgotten first). */
  maxPacks: number;
  /** Right checks of one pack this node records on chain per window (default 3); later ones are answered, not recorded. */
  maxRecorded: number;
}

export const DEFAULT_SCRATCH_GUARD: ScratchGuardOptions = { maxWrong: 5, windowMs: 3_600_000, maxPacks: 10_000, maxRecorded: 3 };

export interface CheckRef {
  time: number;
  location: string | null;
  member: string;
  txId: string;
}

interface PackTries {
  /** Start of the current window (ms). */
  since: number;
  wrong: number;
  right: number;
}

/** Per-pack wrong-code counters and this node's recent right checks (not yet on chain, maybe). */
export class ScratchGuard {
  private readonly tries = new Map<string, PackTries>();
  private readonly recent = new Map<string, CheckRef>();

  constructor(readonly opts: ScratchGuardOptions = DEFAULT_SCRATCH_GUARD) {
    if (!(opts.maxWrong >= 1 && opts.windowMs > 0 && opts.maxPacks >= 1 && opts.maxRecorded >= 1)) throw new RangeError('scratch guard needs maxWrong ≥ 1, windowMs > 0, maxPacks ≥ 1, maxRecorded ≥ 1');
  }

  private current(key: string, now: number): PackTries | undefined {
    const t = this.tries.get(key);
    if (t !== undefined && now - t.since >= this.opts.windowMs) {
      this.tries.delete(key);
      return undefined;
    }
    return t;
  }

  /** Milliseconds until tries of this pack are allowed again (0: allowed now). */
  blockedFor(key: string, now: number): number {
    const t = this.current(key, now);
    return t !== undefined && t.wrong >= this.opts.maxWrong ? t.since + this.opts.windowMs - now : 0;
  }

  /** Count a wrong code; returns the wrong codes of the window so far. */
  wrong(key: string, now: number): number {
    const t = this.current(key, now) ?? { since: now, wrong: 0, right: 0 };
    t.wrong++;
    remember(this.tries, key, t, this.opts.maxPacks);
    return t.wrong;
  }

  /** Count a right code; true while this one may still be recorded on chain (at most maxRecorded per window). */
  right(key: string, now: number): boolean {
    const t = this.current(key, now) ?? { since: now, wrong: 0, right: 0 };
    t.right++;
    remember(this.tries, key, t, this.opts.maxPacks);
    return t.right <= this.opts.maxRecorded;
  }

  /** This node's first right check of a pack, until the chain has one. */
  localFirst(key: string): CheckRef | undefined {
    return this.recent.get(key);
  }

  rememberCheck(key: string, ref: CheckRef): void {
    if (!this.recent.has(key)) remember(this.recent, key, ref, this.opts.maxPacks);
  }
}

function remember<V>(m: Map<string, V>, key: string, v: V, max: number): void {
  m.delete(key);
  m.set(key, v);
  while (m.size > max) m.delete(m.keys().next().value as string);
}

export interface CodeCheckAnswer {
  /** `genuine`: the first check of this pack's code; `already_checked`: checked before (a copied code shows here). */
  result: 'genuine' | 'already_checked';
  message: string;
  firstCheck: { time: string; location: string | null; by: string; txId: string } | null;
  /** The tx that records this check (pending until mined); null when the pack's checks at this node within the hour are recorded enough already. */
  txId: string | null;
}

export type CheckOutcome = 'genuine' | 'already_checked' | 'wrong' | 'rate_limited' | 'no_code';

/** Submit a pack tx signed by this node's member key; returns its ID. */
export async function submitPackTx(ctx: ApiContext, pack: PackAction): Promise<string> {
  if (ctx.signer === undefined) throw new HttpProblem('NO_SIGNER', 'this node has no member key to sign pack txs with');
  const key = keyPairFromSecret(ctx.signer.secretKey);
  const tx = signTx(actionTxBody(ctx.chain.chainId, keyIdHex(key.publicKey), (ctx.clock ?? Date.now)(), { pack }), key.secretKey);
  const c = canonicalTx(tx);
  await ctx.chain.submitTx(tx, { id: c.id, raw: c.bytes, origin: 'local' });
  return toHex(c.id);
}

/**
 * Check an entered code for the pack with item key `key`. Throws HttpProblem: BAD_SCRATCH_CODE
 * (not a code at all), NO_SCRATCH_CODE (no commitment on chain), SCRATCH_CODE_WRONG,
 * SCRATCH_CODE_RATE_LIMITED. `observe` is told each outcome (metrics).
 */
export async function checkScratchCode(
  ctx: ApiContext,
  guard: ScratchGuard,
  input: { key: string; code: string; location: string | null },
  observe: (outcome: CheckOutcome) => void = () => {},
): Promise<CodeCheckAnswer> {
  const now = (ctx.clock ?? Date.now)();
  const code = normaliseCode(input.code);
  if (code === undefined) throw new HttpProblem('BAD_SCRATCH_CODE', 'a scratch-off code is 4 to 64 printable ASCII characters without spaces');
  const waitMs = guard.blockedFor(input.key, now);
  if (waitMs > 0) {
    observe('rate_limited');
    throw new HttpProblem('SCRATCH_CODE_RATE_LIMITED', `too many wrong codes for this pack; tries are refused for ${Math.ceil(waitMs / 60_000)} more minute(s)`, { retryAfterSeconds: Math.ceil(waitMs / 1000) });
  }
  const [rec] = await ctx.chain.store.getRecords('pack', [input.key]);
  const pack = rec as PackRecord | undefined;
  if (pack?.code == null) {
    observe('no_code');
    throw new HttpProblem('NO_SCRATCH_CODE', 'no scratch-off code was committed on this chain for this pack (unknown pack, or its manufacturer prints none)');
  }
  const proof = scratchProof(pack.code.salt, code);
  if (scratchCommit(proof) !== pack.code.commit) {
    observe('wrong');
    const wrong = guard.wrong(input.key, now);
    const left = guard.opts.maxWrong - wrong;
    if (left === 0) {
      // The limit is reached: the manufacturer hears of the guessing (once per window).
      await submitPackTx(ctx, { op: 'code-guess', item: input.key, failures: wrong, location: input.location });
    }
    throw new HttpProblem(
      'SCRATCH_CODE_WRONG',
      left > 0
        ? `the code does not match this pack's; ${left} more wrong code(s) and tries are refused for a while`
        : `the code does not match this pack's; ${wrong} wrong codes: further tries are refused for ${Math.round(guard.opts.windowMs / 60_000)} minutes and the manufacturer is alerted`,
      { triesLeft: left },
    );
  }
  const record = guard.right(input.key, now);
  const txId = record ? await submitPackTx(ctx, { op: 'code-check', item: input.key, proof, location: input.location }) : null;
  const self = ctx.signer?.member.id ?? '';
  const onChain = pack.checks[0];
  const first: CheckRef | undefined = onChain !== undefined ? { time: onChain.time, location: onChain.location, member: onChain.member, txId: onChain.txId } : guard.localFirst(input.key);
  if (txId !== null) guard.rememberCheck(input.key, { time: now, location: input.location, member: self, txId });
  if (first === undefined) {
    observe('genuine');
    return { result: 'genuine', message: 'genuine: the code matches, and this is the first check of this pack (now recorded)', firstCheck: null, txId };
  }
  observe('already_checked');
  const by = ctx.chain.registry.get(first.member)?.name ?? first.member;
  const when = new Date(first.time).toISOString();
  return {
    result: 'already_checked',
    message: `already checked on ${when} at ${first.location ?? by}: if this pack was not checked then, its code was copied (the manufacturer is alerted)`,
    firstCheck: { time: when, location: first.location, by, txId: first.txId },
    txId,
  };
}
