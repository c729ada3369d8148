/**
 * The chain's rules for a `private` tx (docs/confidentiality.md), as trace/chain-rules.ts plugs
 * them in: every projection well formed, every entry of eventIds a commitment, the role rules
 * that can be checked without the body, and item status from the projection alone.
 */
import type { Member, SignedTx } from '../chain/types.js';
import { TraceError, type TraceProblem } from './errors.js';
import { applyEvent, type ItemStateReader, type StatusInput, type StatusOutput } from './status.js';
import { asProjection, commitmentOfId, keyOfTag, projectionAsEvent, projectionProblems, projectionRoleProblems, tagKey, tagKeysOfProjection, type Projection } from './private-event.js';

/** Stateless checks of a private tx: projections well formed, eventIds commitments, roles (when member is given). Throws TraceError (chain-rules.ts makes it a TxError). */
export function checkPrivateTx(tx: SignedTx, member: Member | null): void {
  const problems: TraceProblem[] = [];
  tx.events.forEach((p, i) => problems.push(...projectionProblems(p, `/events/${i}`)));
  tx.eventIds.forEach((id, i) => {
    if (commitmentOfId(id) === undefined) problems.push({ path: `/eventIds/${i}`, message: 'a private event\'s ID is its commitment', code: 'BAD_EVENT_ID' });
  });
  if (problems.length > 0) throw TraceError.fromProblems(problems);
  if (member !== null) checkPrivateTxRoles(tx, member);
}

/** The role rules of a private tx's projections for its submitter; throws TraceError ROLE_VIOLATION or FOREIGN_PREFIX. */
export function checkPrivateTxRoles(tx: SignedTx, member: Member): void {
  const problems: (TraceProblem & { rule: string })[] = [];
  tx.events.forEach((p, i) => problems.push(...projectionRoleProblems(member, asProjection(p, `/events/${i}`), `/events/${i}`)));
  const first = problems[0];
  if (first) throw new TraceError(first.code ?? 'ROLE_VIOLATION', first.message, problems, first.rule);
}

/** The item keys a projection names (tag keys), for the EPC history index. */
export function itemKeysOfProjection(event: Record<string, unknown>): string[] {
  return tagKeysOfProjection(event as unknown as Projection);
}

/**
 * Item status from a projection: the status machine on the replayed projection, items under
 * their tag keys; a commissioning's records get the lot's GTIN (so lot recalls reach them).
 */
export async function applyProjection(reader: ItemStateReader, input: StatusInput): Promise<StatusOutput> {
  const p = input.event as unknown as Projection;
  const out = await applyEvent(reader, { ...input, event: projectionAsEvent(p), keyOf: keyOfTag });
  if (p.lot !== undefined) {
    const named = new Set(p.tags.map(tagKey));
    for (const rec of out.items) if (named.has(rec.key) && rec.gtin === null) rec.gtin = p.lot.gtin;
  }
  return out;
}
