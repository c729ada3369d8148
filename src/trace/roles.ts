/**
 * Role rules: what each consortium member may sign. The whole table is data, in one place;
 * docs/trace.md lists it. An event is allowed when EVERY action it performs (see actions.ts) has
 * a rule for the member's role, and, where the rule says so, every identifier it acts on carries
 * one of the member's own GS1 company prefixes.
 */
import type { Member, Role } from '../chain/types.js';
import { actionsOf, eventFacts, type EventFacts, type TraceAction } from './actions.js';
import { TraceError, type TraceProblem } from './errors.js';
import type { JsonObject } from '../common/json.js';
import { companyPrefixOf } from './identifiers.js';
import type { PrefixMap } from './vocabulary.js';

export interface RoleRule {
  /** Stable name, reported in ROLE_VIOLATION / FOREIGN_PREFIX errors. */
  name: string;
  role: Role;
  action: TraceAction;
  /** The items acted on must carry one of the member's GS1 company prefixes. */
  ownPrefixesOnly: boolean;
  /** Why the rule exists when DESIGN.md does not say it. */
  deviation?: string;
}

/**
 * DESIGN.md (Permissioning): manufacturers commission and decommission items of their own GS1
 * company prefixes and recall them; wholesalers ship, receive, pack and unpack; pharmacies and
 * hospitals receive and dispense; the regulator may recall anything; `dev` may do everything.
 */
export const ROLE_RULES: readonly RoleRule[] = [
  { name: 'manufacturer-commissions-own', role: 'manufacturer', action: 'commission', ownPrefixesOnly: true },
  { name: 'manufacturer-decommissions-own', role: 'manufacturer', action: 'decommission', ownPrefixesOnly: true },
  {
    name: 'manufacturer-destroys-own',
    role: 'manufacturer',
    action: 'destroy',
    ownPrefixesOnly: true,
    deviation: 'destroying is a kind of decommissioning (CBV bizStep destroying), so it follows the decommission rule',
  },
  { name: 'manufacturer-recalls-own', role: 'manufacturer', action: 'recall', ownPrefixesOnly: true },
  {
    name: 'manufacturer-packs-own',
    role: 'manufacturer',
    action: 'pack',
    ownPrefixesOnly: true,
    deviation: 'a manufacturer packs what it made into cases and pallets before shipping them',
  },
  {
    name: 'manufacturer-unpacks-own',
    role: 'manufacturer',
    action: 'unpack',
    ownPrefixesOnly: true,
    deviation: 'the counterpart of packing its own products (re-work, returns)',
  },
  {
    name: 'manufacturer-ships-own',
    role: 'manufacturer',
    action: 'ship',
    ownPrefixesOnly: true,
    deviation: 'a manufacturer ships what it made to wholesalers; without it no pack could leave the factory',
  },
  { name: 'wholesaler-ships', role: 'wholesaler', action: 'ship', ownPrefixesOnly: false },
  { name: 'wholesaler-receives', role: 'wholesaler', action: 'receive', ownPrefixesOnly: false },
  { name: 'wholesaler-packs', role: 'wholesaler', action: 'pack', ownPrefixesOnly: false },
  { name: 'wholesaler-unpacks', role: 'wholesaler', action: 'unpack', ownPrefixesOnly: false },
  { name: 'pharmacy-receives', role: 'pharmacy', action: 'receive', ownPrefixesOnly: false },
  { name: 'pharmacy-dispenses', role: 'pharmacy', action: 'dispense', ownPrefixesOnly: false },
  { name: 'hospital-receives', role: 'hospital', action: 'receive', ownPrefixesOnly: false },
  { name: 'hospital-dispenses', role: 'hospital', action: 'dispense', ownPrefixesOnly: false },
  { name: 'regulator-recalls-any', role: 'regulator', action: 'recall', ownPrefixesOnly: false },
  ...(['manufacturer', 'wholesaler', 'pharmacy', 'hospital', 'regulator'] as const).map(
    (role): RoleRule => ({
      name: `${role}-observes`,
      role,
      action: 'observe',
      ownPrefixesOnly: false,
      deviation: 'observation-only bizSteps (inspecting, storing, holding, …) change no custody or lifecycle state; every member records them',
    }),
  ),
  ...(['commission', 'decommission', 'destroy', 'recall', 'pack', 'unpack', 'ship', 'receive', 'dispense', 'observe'] as const).map(
    (action): RoleRule => ({ name: `dev-${action}s-any`, role: 'dev', action, ownPrefixesOnly: false }),
  ),
];

const RULE_INDEX: ReadonlyMap<string, RoleRule> = new Map(ROLE_RULES.map((r) => [`${r.role}/${r.action}`, r]));

export function ruleFor(role: Role, action: TraceAction): RoleRule | undefined {
  return RULE_INDEX.get(`${role}/${action}`);
}

export interface RoleContext {
  /** Document @context prefixes, for vocabulary CURIEs (events carry their own otherwise). */
  prefixes?: PrefixMap;
  /** Path of the event in the submitted document, for error messages. */
  path?: string;
}

/** Identifiers whose company prefix the own-prefix rules check. */
function subjects(f: EventFacts): string[] {
  const out = [...f.epcs, ...f.classes];
  if (f.parentID !== undefined && f.type !== 'TransformationEvent') out.push(f.parentID);
  return out;
}

/** Problems (empty when allowed) of one event signed by `member`. */
export function roleProblems(member: Member, event: JsonObject, ctx: RoleContext = {}): (TraceProblem & { rule: string })[] {
  const path = ctx.path ?? '';
  const f = eventFacts(event, ctx.prefixes);
  const out: (TraceProblem & { rule: string })[] = [];
  for (const action of actionsOf(f)) {
    const rule = ruleFor(member.role, action);
    if (rule === undefined) {
      const allowed = ROLE_RULES.filter((r) => r.action === action && r.role !== 'dev').map((r) => r.role);
      out.push({
        path,
        code: 'ROLE_VIOLATION',
        rule: `no-rule:${member.role}-${action}`,
        message: `a ${member.role} may not ${action} (event bizStep ${f.bizStep ?? 'none'}${f.recall ? ', disposition recalled' : ''}); only ${[...new Set(allowed)].join(', ') || 'no role'} may`,
      });
      continue;
    }
    if (!rule.ownPrefixesOnly) continue;
    const own = member.gs1CompanyPrefixes;
    const ids = subjects(f);
    for (const id of ids) {
      const cp = companyPrefixOf(id, own);
      if (cp === undefined || !own.includes(cp)) {
        out.push({
          path,
          code: 'FOREIGN_PREFIX',
          rule: rule.name,
          message: `${member.name} (${member.role}) may ${action} only items of its own GS1 company prefixes (${own.join(', ') || 'none'}); ${id} is not one`,
        });
      }
    }
  }
  return out;
}

/** Throws TraceError (ROLE_VIOLATION or FOREIGN_PREFIX, with the rule's name) unless allowed. */
export function checkRole(member: Member, event: JsonObject, ctx: RoleContext = {}): void {
  const problems = roleProblems(member, event, ctx);
  const first = problems[0];
  if (first === undefined) return;
  throw new TraceError(first.code ?? 'ROLE_VIOLATION', first.message, problems, first.rule);
}
