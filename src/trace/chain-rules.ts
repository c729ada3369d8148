/**
 * The trace rules as the chain consumes them (chain/tx-rules-port.ts): stateless event checks for a
 * tx (EPCIS rules, event IDs, role), item keys for the EPC history index, and item status.
 * TraceErrors become TxErrors here, so the chain and its callers see one error family.
 */
import { TxError, type EventProblems } from '../common/errors.js';
import type { AlertRules, EventEffects, ItemReader, TxRules } from '../chain/tx-rules-port.js';
import type { StoredItem } from '../chain/store.js';
import type { Member, SignedTx } from '../chain/types.js';
import { eventFacts } from './actions.js';
import { verifyEventIds } from './document.js';
import { TraceError, type TraceProblem } from './errors.js';
import type { JsonObject } from '../common/json.js';
import { prefixesOfContext } from './event-hash.js';
import { itemKeyOrUndefined } from './identifiers.js';
import { linksOfEvent } from './journey.js';
import { roleProblems } from './roles.js';
import { applyEvent, type ItemRecord } from './status.js';
import { checkEventRules } from './epcis-validate.js';
import { checkPrivateTx, checkPrivateTxRoles, applyProjection, itemKeysOfProjection } from './private-rules.js';
import { isProjection, projectionAsEvent, type Projection } from './private-event.js';
import { applyDeclaration, declaredEventIdOf, isErrorDeclaration } from './correction.js';
import { queryTermsOf } from './query-terms.js';
import { alertRules } from './alerts.js';

/** TraceError → TxError with every problem (and the role rule, if any) in the details. */
export function toTxError(err: TraceError): TxError {
  const details: EventProblems = err.rule === undefined ? { problems: err.problems } : { problems: err.problems, rule: err.rule };
  switch (err.code) {
    case 'BAD_EVENT_ID':
      return new TxError('BAD_EVENT_ID', err.message, details);
    case 'ROLE_VIOLATION':
    case 'FOREIGN_PREFIX':
      return new TxError('ROLE_VIOLATION', err.message, details);
    case 'TOO_MANY_EVENTS':
      return new TxError('TOO_MANY_EVENTS', err.message, details);
    case 'NO_EVENTS':
      return new TxError('NO_EVENTS', err.message, details);
    default:
      return new TxError('INVALID_EVENT', err.message, details);
  }
}

/** Runs a check, its TraceError turned into a TxError. */
function asTxError(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof TraceError) throw toTxError(err);
    throw err;
  }
}

/** Stateless checks of a tx's events for its submitter; throws TxError listing every problem. */
export function checkTxEvents(tx: SignedTx, member: Member | null): void {
  if (tx.kind === 'private') return asTxError(() => checkPrivateTx(tx, member));
  const problems: TraceProblem[] = [];
  let rule: string | undefined;
  tx.events.forEach((event, i) => {
    const prefixes = prefixesOfContext(event['@context']);
    problems.push(...checkEventRules(event, `/events/${i}`, prefixes));
  });
  if (problems.length > 0) throw toTxError(TraceError.fromProblems(problems));
  try {
    verifyEventIds(tx.events as JsonObject[], tx.eventIds);
  } catch (err) {
    if (err instanceof TraceError) throw toTxError(err);
    throw err;
  }
  if (member !== null) checkTxRoles(tx, member);
}

/** The role and prefix rules of a tx's events for its submitter; throws TxError ROLE_VIOLATION listing every problem. */
export function checkTxRoles(tx: SignedTx, member: Member): void {
  if (tx.kind === 'private') return asTxError(() => checkPrivateTxRoles(tx, member));
  const problems: TraceProblem[] = [];
  let rule: string | undefined;
  tx.events.forEach((event, i) => {
    for (const p of roleProblems(member, event as JsonObject, { path: `/events/${i}` })) {
      rule ??= p.rule;
      problems.push({ path: p.path, message: `${p.message} [rule ${p.rule}]`, code: p.code ?? 'ROLE_VIOLATION' });
    }
  });
  const first = problems[0];
  if (first) throw toTxError(new TraceError(first.code ?? 'ROLE_VIOLATION', first.message, problems, rule));
}

/** Every item an event names (acted-on EPCs, parent, inputs, lots), as canonical keys. */
export function itemKeysOfEvent(event: Record<string, unknown>): string[] {
  if (isProjection(event)) return itemKeysOfProjection(event);
  const f = eventFacts(event as JsonObject);
  const ids = [...f.epcs, ...f.inputs, ...f.classes];
  if (f.parentID !== undefined) ids.push(f.parentID);
  const keys = new Set<string>();
  for (const id of ids) {
    const k = itemKeyOrUndefined(id);
    if (k !== undefined) keys.add(k);
  }
  return [...keys];
}

export function traceRules(): TxRules {
  return {
    checkEvents: checkTxEvents,
    checkRoles: checkTxRoles,
    itemKeysOf: itemKeysOfEvent,
    // A private event's projection and an error declaration (which repeats its event's content)
    // move nothing into or out of a container.
    linksOf: (event) => (isProjection(event) || isErrorDeclaration(event) ? [] : linksOfEvent(event)),
    queryTermsOf: (event) => queryTermsOf(event),
    declaredEventOf: (event) => (isErrorDeclaration(event) ? declaredEventIdOf(event as JsonObject) : undefined),
    async applyEvent(reader: ItemReader, input): Promise<EventEffects> {
      const itemReader = {
        getItem: async (key: string) => (await reader.getItem(key)) as ItemRecord | undefined,
        isLotRecalled: (gtin: string, lot: string) => reader.isLotRecalled({ gtin, lot }),
      };
      // A private event applies its projection (trace/private-rules.ts); an error declaration takes
      // its event's effect out instead of applying it again (trace/correction.ts).
      const out = isProjection(input.event)
        ? await applyProjection(itemReader, input)
        : isErrorDeclaration(input.event)
          ? await applyDeclaration(itemReader, input, declaredEventIdOf(input.event as JsonObject))
          : await applyEvent(itemReader, input);
      return { items: out.items as unknown as StoredItem[], recalledLots: out.recalledLots };
    },
    alerts: privateAwareAlerts(alertRules()),
  };
}

/**
 * The alert rules on a private event (docs/confidentiality.md): read from its projection replayed
 * as an event (the business step, a recall), as the status machine reads it; what the projection
 * does not carry (locations, scratch-off codes, a theft's disposition) is no part of its alerts.
 */
function privateAwareAlerts(rules: AlertRules): AlertRules {
  return { ...rules, eventFacts: (event) => rules.eventFacts(isProjection(event) ? projectionAsEvent(event as unknown as Projection) : event) };
}
