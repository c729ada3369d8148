/**
 * Consortium governance as chain state (pure). The member registry at height h is genesis plus
 * the governance txs of the main chain below h:
 *
 *   - a proposal (one change and an activation height) counts as its proposer's approval;
 *   - an approval names a proposal by its tx ID; each voting (active) member approves once;
 *   - once the approvals exceed the policy's share of the voting members at the block that
 *     brings them (the quorum block q), the change takes effect at the first block at or above
 *     max(activation, q + 1): never in the block that completes the quorum;
 *   - a proposal not approved within `proposalLifetimeBlocks` blocks of its own block expires;
 *   - a change that is no longer possible when it activates (its member was revoked meanwhile,
 *     it would leave no sealer) fails, deterministically, and changes nothing.
 *
 * `GovernanceState` is plain JSON (stored as one value with the previous value as undo data, see
 * chain/connect.ts); every function here returns a new state and never mutates its input.
 * Refusals throw TxError with a governance code (docs/governance.md has the table).
 */
import { TxError } from '../common/errors.js';
import { concatBytes, fromHex, isHex, toHex, utf8 } from '../common/bytes.js';
import { keyIdHex, sign, verify } from './keys.js';
import { sha256Text } from './sha256.js';
import { ROLES, type GovAction, type GovChange, type GovernancePolicy, type Genesis, type Member, type MemberPublic, type Role } from './types.js';

export type { GovAction, GovChange, GovernancePolicy, MemberPublic } from './types.js';

export const DEFAULT_POLICY: GovernancePolicy = { quorumNum: 1, quorumDen: 2, proposalLifetimeBlocks: 1_000 };

export type MemberStatus = 'active' | 'suspended' | 'revoked';

export interface MemberChangeRecord {
  height: number;
  /** The proposal that made it (null: genesis). */
  proposal: string | null;
  change: GovChange['type'] | 'genesis';
}

export interface MemberRecord extends Member {
  status: MemberStatus;
  /** Every signing key ID the member has held, oldest first (the last is its current key). */
  keys: string[];
  history: MemberChangeRecord[];
}

export type ProposalStatus = 'pending' | 'approved' | 'applied' | 'failed' | 'expired';

export interface ProposalRecord {
  id: string;
  /** Member ID of the proposer. */
  proposer: string;
  height: number;
  change: GovChange;
  activation: number;
  approvals: { member: string; height: number }[];
  /** Stored status; `pending` past its lifetime reads as expired (proposalStatusAt). */
  status: 'pending' | 'approved' | 'applied' | 'failed';
  quorumHeight?: number;
  effectiveHeight?: number;
  failure?: string;
}

export interface GovernanceState {
  v: 1;
  policy: GovernancePolicy;
  policyHistory: { height: number; proposal: string | null; policy: GovernancePolicy }[];
  members: MemberRecord[];
  /** Every key ever held: key ID → member ID and public key (old proofs keep verifying). */
  keys: Record<string, { member: string; publicKey: string }>;
  proposals: ProposalRecord[];
}

const ROTATE_DOMAIN = utf8.encode('tracechain/gov-rotate/v1');

/** What the new key signs to prove possession: domain ‖ chain ID ‖ member ID ‖ new public key. */
export function rotationMessage(chainId: string, memberId: string, newKey: string): Uint8Array {
  return concatBytes(ROTATE_DOMAIN, fromHex(chainId, 32), fromHex(memberId, 20), fromHex(newKey, 32));
}

export function signRotation(chainId: string, memberId: string, newKey: string, newSecret: Uint8Array): string {
  return toHex(sign(newSecret, rotationMessage(chainId, memberId, newKey)));
}

/** The genesis governance state (policy from genesis, default if absent). */
export function genesisGovernance(genesis: Genesis): GovernanceState {
  const policy = genesis.governance ?? DEFAULT_POLICY;
  const keys: GovernanceState['keys'] = {};
  const members = genesis.members.map((m): MemberRecord => {
    keys[m.id] = { member: m.id, publicKey: m.signingKey };
    return { ...m, gs1CompanyPrefixes: [...m.gs1CompanyPrefixes], status: 'active', keys: [m.id], history: [{ height: 0, proposal: null, change: 'genesis' }] };
  });
  return { v: 1, policy: { ...policy }, policyHistory: [{ height: 0, proposal: null, policy: { ...policy } }], members, keys, proposals: [] };
}

/** SHA-256 of the state's canonical JSON (hex): nodes compare registries with it. */
export function governanceHash(state: GovernanceState, jcs: (v: unknown) => string): string {
  return toHex(sha256Text(jcs(state)));
}

function clone(state: GovernanceState): GovernanceState {
  return structuredClone(state);
}

function gov(code: Parameters<typeof govError>[0], message: string): never {
  throw govError(code, message);
}

function govError(
  code: 'GOV_UNKNOWN_PROPOSAL' | 'GOV_ALREADY_APPROVED' | 'GOV_PROPOSAL_EXPIRED' | 'GOV_PROPOSAL_CLOSED' | 'GOV_NO_SEALER' | 'GOV_QUORUM_UNREACHABLE' | 'GOV_IDENTITY_IN_USE' | 'GOV_BAD_PROOF' | 'GOV_UNKNOWN_MEMBER' | 'GOV_INVALID_CHANGE',
  message: string,
): TxError {
  return new TxError(code, message);
}

/** Approvals needed among `voters` voting members. */
export function approvalsNeeded(policy: GovernancePolicy, voters: number): number {
  return Math.floor((voters * policy.quorumNum) / policy.quorumDen) + 1;
}

export function proposalStatusAt(state: GovernanceState, p: ProposalRecord, height: number): ProposalStatus {
  if (p.status === 'pending' && height > p.height + state.policy.proposalLifetimeBlocks) return 'expired';
  return p.status;
}

function memberById(state: GovernanceState, id: string): MemberRecord | undefined {
  return state.members.find((m) => m.id === id);
}

function activeMembers(state: GovernanceState): MemberRecord[] {
  return state.members.filter((m) => m.status === 'active');
}

// ---------------------------------------------------------------------------------------------
// Shape checks of a governance action (stateless: tx.ts calls this from the decoder).

function checkPrefixes(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > 100 || !v.every((x) => typeof x === 'string' && /^[0-9]{4,12}$/.test(x))) {
    throw new TxError('MALFORMED', `${what} must be at most 100 GS1 company prefixes of 4 to 12 digits`);
  }
  return v as string[];
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new TxError('MALFORMED', `unexpected field "${k}" in ${what}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{20,100}$/;

export function checkMemberPublic(v: unknown, what = 'member'): MemberPublic {
  if (!isObj(v)) throw new TxError('MALFORMED', `${what} must be an object`);
  checkKeys(v, ['name', 'role', 'signingKey', 'peerId', 'gs1CompanyPrefixes', 'canSeal', 'parties'], what);
  if (typeof v.name !== 'string' || v.name.length === 0 || v.name.length > 200) throw new TxError('MALFORMED', `${what}.name must be 1 to 200 characters`);
  if (typeof v.role !== 'string' || !ROLES.includes(v.role as Role)) throw new TxError('MALFORMED', `${what}.role must be one of ${ROLES.join(', ')}`);
  if (!isHex(v.signingKey, 32)) throw new TxError('MALFORMED', `${what}.signingKey must be a 32-byte Ed25519 key in lowercase hex`);
  if (typeof v.peerId !== 'string' || !PEER_ID.test(v.peerId)) throw new TxError('MALFORMED', `${what}.peerId must be a base58btc libp2p peer ID`);
  checkPrefixes(v.gs1CompanyPrefixes, `${what}.gs1CompanyPrefixes`);
  if (typeof v.canSeal !== 'boolean') throw new TxError('MALFORMED', `${what}.canSeal must be a boolean`);
  if (v.parties !== undefined) checkParties(v.parties, `${what}.parties`);
  return v as unknown as MemberPublic;
}

/** Most party identifiers (PGLN, GLNs) one member names. */
export const MAX_PARTIES = 64;

/** A member's party identifiers (docs/confidentiality.md): GS1 party or location identifiers, as URN or Digital Link. */
export function checkParties(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_PARTIES || !v.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 200 && !/\s/.test(p))) {
    throw new TxError('MALFORMED', `${what} must be at most ${MAX_PARTIES} party identifiers (PGLN or GLN, as urn:epc:id:pgln:… / sgln:… or a GS1 Digital Link)`);
  }
  if (new Set(v).size !== v.length) throw new TxError('MALFORMED', `${what} names a party twice`);
  return v as string[];
}

function checkPolicy(v: unknown): GovernancePolicy {
  if (!isObj(v)) throw new TxError('MALFORMED', 'policy must be an object');
  checkKeys(v, ['quorumNum', 'quorumDen', 'proposalLifetimeBlocks'], 'policy');
  for (const k of ['quorumNum', 'quorumDen', 'proposalLifetimeBlocks'] as const) {
    const n = v[k];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > 1_000_000_000) throw new TxError('MALFORMED', `policy.${k} must be an integer from 0 to 10^9`);
  }
  return v as unknown as GovernancePolicy;
}

/** Structural check of a tx's `gov` member; throws TxError MALFORMED. */
export function checkGovAction(v: unknown): GovAction {
  if (!isObj(v)) throw new TxError('MALFORMED', 'gov must be an object');
  if (v.op === 'approve') {
    checkKeys(v, ['op', 'proposal'], 'gov');
    if (!isHex(v.proposal, 32)) throw new TxError('MALFORMED', 'gov.proposal must be a proposal tx ID (32 bytes of lowercase hex)');
    return v as unknown as GovAction;
  }
  if (v.op !== 'propose') throw new TxError('MALFORMED', 'gov.op must be "propose" or "approve"');
  checkKeys(v, ['op', 'change', 'activation'], 'gov');
  if (typeof v.activation !== 'number' || !Number.isSafeInteger(v.activation) || v.activation < 0) throw new TxError('MALFORMED', 'gov.activation must be a block height');
  const c = v.change;
  if (!isObj(c)) throw new TxError('MALFORMED', 'gov.change must be an object');
  const target = (): void => {
    if (!isHex(c.member, 20)) throw new TxError('MALFORMED', 'gov.change.member must be a member ID (20 bytes of lowercase hex)');
  };
  switch (c.type) {
    case 'add':
      checkKeys(c, ['type', 'member'], 'gov.change');
      checkMemberPublic(c.member, 'gov.change.member');
      break;
    case 'update':
      checkKeys(c, ['type', 'member', 'role', 'gs1CompanyPrefixes', 'canSeal', 'parties'], 'gov.change');
      target();
      if (c.role === undefined && c.gs1CompanyPrefixes === undefined && c.canSeal === undefined && c.parties === undefined) throw new TxError('MALFORMED', 'an update changes role, gs1CompanyPrefixes, canSeal or parties');
      if (c.parties !== undefined) checkParties(c.parties, 'gov.change.parties');
      if (c.role !== undefined && (typeof c.role !== 'string' || !ROLES.includes(c.role as Role))) throw new TxError('MALFORMED', `gov.change.role must be one of ${ROLES.join(', ')}`);
      if (c.gs1CompanyPrefixes !== undefined) checkPrefixes(c.gs1CompanyPrefixes, 'gov.change.gs1CompanyPrefixes');
      if (c.canSeal !== undefined && typeof c.canSeal !== 'boolean') throw new TxError('MALFORMED', 'gov.change.canSeal must be a boolean');
      break;
    case 'rotate':
      checkKeys(c, ['type', 'member', 'signingKey', 'peerId', 'proof'], 'gov.change');
      target();
      if (c.signingKey === undefined && c.peerId === undefined) throw new TxError('MALFORMED', 'a rotation changes signingKey, peerId or both');
      if (c.signingKey !== undefined && !isHex(c.signingKey, 32)) throw new TxError('MALFORMED', 'gov.change.signingKey must be a 32-byte Ed25519 key in lowercase hex');
      if (c.signingKey !== undefined && !isHex(c.proof, 64)) throw new TxError('MALFORMED', 'a new signingKey needs proof: its signature (64 bytes hex) of the rotation message');
      if (c.signingKey === undefined && c.proof !== undefined) throw new TxError('MALFORMED', 'proof comes with a new signingKey');
      if (c.peerId !== undefined && (typeof c.peerId !== 'string' || !PEER_ID.test(c.peerId))) throw new TxError('MALFORMED', 'gov.change.peerId must be a base58btc libp2p peer ID');
      break;
    case 'suspend':
    case 'resume':
    case 'revoke':
      checkKeys(c, ['type', 'member'], 'gov.change');
      target();
      break;
    case 'policy':
      checkKeys(c, ['type', 'policy'], 'gov.change');
      checkPolicy(c.policy);
      break;
    default:
      throw new TxError('MALFORMED', 'gov.change.type must be add, update, rotate, suspend, resume, revoke or policy');
  }
  return v as unknown as GovAction;
}

// ---------------------------------------------------------------------------------------------
// Rules against a state.

/** The state after `change`, checked against `state` (throws a governance TxError). */
export function applyChange(state: GovernanceState, change: GovChange, ctx: { chainId: string; height: number; proposal: string | null; proposer?: string }): GovernanceState {
  const next = clone(state);
  const record = (m: MemberRecord): void => {
    m.history.push({ height: ctx.height, proposal: ctx.proposal, change: change.type });
  };
  const target = (id: string): MemberRecord => {
    const m = memberById(next, id);
    if (!m) gov('GOV_UNKNOWN_MEMBER', `no member ${id}`);
    if (m.status === 'revoked') gov('GOV_INVALID_CHANGE', `member ${m.name} is revoked: it can no longer change`);
    return m;
  };
  const peerInUse = (peerId: string, except?: string): void => {
    const holder = next.members.find((m) => m.peerId === peerId && m.status !== 'revoked' && m.id !== except);
    if (holder) gov('GOV_IDENTITY_IN_USE', `peer ID ${peerId} is member ${holder.name}'s`);
  };
  const keyInUse = (keyHex: string): void => {
    const id = keyIdHex(fromHex(keyHex, 32));
    const holder = next.keys[id];
    if (holder) gov('GOV_IDENTITY_IN_USE', `signing key ${id} is (or was) member ${memberById(next, holder.member)?.name ?? holder.member}'s`);
  };
  switch (change.type) {
    case 'add': {
      const p = change.member;
      keyInUse(p.signingKey);
      peerInUse(p.peerId);
      const id = keyIdHex(fromHex(p.signingKey, 32));
      next.keys[id] = { member: id, publicKey: p.signingKey };
      next.members.push({ id, ...p, gs1CompanyPrefixes: [...p.gs1CompanyPrefixes], status: 'active', keys: [id], history: [{ height: ctx.height, proposal: ctx.proposal, change: 'add' }] });
      break;
    }
    case 'update': {
      const m = target(change.member);
      if (change.role !== undefined) m.role = change.role;
      if (change.gs1CompanyPrefixes !== undefined) m.gs1CompanyPrefixes = [...change.gs1CompanyPrefixes];
      if (change.canSeal !== undefined) m.canSeal = change.canSeal;
      if (change.parties !== undefined) m.parties = [...change.parties];
      record(m);
      break;
    }
    case 'rotate': {
      const m = target(change.member);
      if (ctx.proposer !== undefined && ctx.proposer !== m.id) gov('GOV_INVALID_CHANGE', 'a rotation is proposed by the member itself, signed with its current key');
      if (change.signingKey !== undefined) {
        keyInUse(change.signingKey);
        if (!verify(fromHex(change.signingKey, 32), rotationMessage(ctx.chainId, m.id, change.signingKey), fromHex(change.proof ?? '', 64))) {
          gov('GOV_BAD_PROOF', 'the new key did not sign the rotation message (no proof of possession)');
        }
        const id = keyIdHex(fromHex(change.signingKey, 32));
        next.keys[id] = { member: m.id, publicKey: change.signingKey };
        m.signingKey = change.signingKey;
        m.keys.push(id);
      }
      if (change.peerId !== undefined) {
        peerInUse(change.peerId, m.id);
        m.peerId = change.peerId;
      }
      record(m);
      break;
    }
    case 'suspend': {
      const m = target(change.member);
      if (m.status !== 'active') gov('GOV_INVALID_CHANGE', `member ${m.name} is not active`);
      m.status = 'suspended';
      record(m);
      break;
    }
    case 'resume': {
      const m = target(change.member);
      if (m.status !== 'suspended') gov('GOV_INVALID_CHANGE', `member ${m.name} is not suspended`);
      m.status = 'active';
      record(m);
      break;
    }
    case 'revoke': {
      const m = target(change.member);
      m.status = 'revoked';
      record(m);
      break;
    }
    case 'policy': {
      next.policy = { ...change.policy };
      next.policyHistory.push({ height: ctx.height, proposal: ctx.proposal, policy: { ...change.policy } });
      break;
    }
  }
  const active = activeMembers(next);
  if (!active.some((m) => m.canSeal)) gov('GOV_NO_SEALER', 'the change would leave no active member with the seal right');
  const { quorumNum, quorumDen, proposalLifetimeBlocks } = next.policy;
  if (quorumDen === 0 || quorumNum >= quorumDen || active.length === 0 || approvalsNeeded(next.policy, active.length) > active.length || proposalLifetimeBlocks < 1) {
    gov('GOV_QUORUM_UNREACHABLE', 'the change would make the quorum unreachable (policy share must be below 1, lifetime at least 1 block, at least one voter)');
  }
  return next;
}

/** Apply the changes that take effect at `height` (approved, effective at this height). */
export function activateAt(state: GovernanceState, height: number, chainId: string): GovernanceState {
  const due = state.proposals.filter((p) => p.status === 'approved' && p.effectiveHeight === height);
  if (due.length === 0) return state;
  let next = clone(state);
  for (const d of due) {
    const p = next.proposals.find((x) => x.id === d.id) as ProposalRecord;
    try {
      const after = applyChange(next, p.change, { chainId, height, proposal: p.id });
      const q = after.proposals.find((x) => x.id === d.id) as ProposalRecord;
      q.status = 'applied';
      next = after;
    } catch (err) {
      if (!(err instanceof TxError)) throw err;
      p.status = 'failed';
      p.failure = err.message;
    }
  }
  return next;
}

/** Whether a key may sign new txs/blocks in `state`: its member, or the TxError that refuses it. */
export function signerIn(state: GovernanceState, keyId: string): { member: MemberRecord } | { error: TxError } {
  const k = state.keys[keyId];
  const m = k === undefined ? undefined : memberById(state, k.member);
  if (!m) return { error: new TxError('UNKNOWN_SUBMITTER', `submitter ${keyId} is not a member of this consortium`) };
  if (m.status === 'revoked') return { error: new TxError('SUBMITTER_REVOKED', `member ${m.name} is revoked`) };
  if (m.status === 'suspended') return { error: new TxError('SUBMITTER_SUSPENDED', `member ${m.name} is suspended`) };
  if (m.keys[m.keys.length - 1] !== keyId) return { error: new TxError('KEY_RETIRED', `key ${keyId} of member ${m.name} was rotated out`) };
  return { member: m };
}

/** Apply one governance tx (already signature-checked; its submitter active) at `height`. */
export function applyGovTx(state: GovernanceState, action: GovAction, ctx: { chainId: string; height: number; txId: string; submitter: string }): GovernanceState {
  checkGovAction(action); // whatever path it came by, only a well-formed action enters the state
  const s = signerIn(state, ctx.submitter);
  if ('error' in s) throw s.error;
  const voter = s.member.id;
  const next = clone(state);
  let p: ProposalRecord;
  if (action.op === 'propose') {
    // The change must be possible now (it is checked again when it activates).
    applyChange(state, action.change, { chainId: ctx.chainId, height: ctx.height, proposal: ctx.txId, proposer: voter });
    p = { id: ctx.txId, proposer: voter, height: ctx.height, change: action.change, activation: action.activation, approvals: [], status: 'pending' };
    next.proposals.push(p);
  } else {
    const found = next.proposals.find((x) => x.id === action.proposal);
    if (!found) gov('GOV_UNKNOWN_PROPOSAL', `no proposal ${action.proposal} on this chain`);
    p = found;
    const status = proposalStatusAt(next, p, ctx.height);
    if (status === 'expired') gov('GOV_PROPOSAL_EXPIRED', `proposal ${p.id} expired at height ${p.height + next.policy.proposalLifetimeBlocks}`);
    if (status !== 'pending') gov('GOV_PROPOSAL_CLOSED', `proposal ${p.id} is ${status}`);
    if (p.approvals.some((a) => a.member === voter)) gov('GOV_ALREADY_APPROVED', `member ${s.member.name} has approved proposal ${p.id} already`);
  }
  p.approvals.push({ member: voter, height: ctx.height });
  const voters = activeMembers(state).length;
  if (p.approvals.length >= approvalsNeeded(state.policy, voters)) {
    p.status = 'approved';
    p.quorumHeight = ctx.height;
    p.effectiveHeight = Math.max(p.activation, ctx.height + 1);
  }
  return next;
}

/** The member with this ID, or the member that held this key ID (naming old signatures). */
export function memberOfId(state: GovernanceState, id: string): MemberRecord | undefined {
  const k = state.keys[id];
  return memberById(state, k === undefined ? id : k.member);
}
