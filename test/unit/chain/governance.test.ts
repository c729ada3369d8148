/** Governance rules (src/chain/governance.ts): one test per refusal code, quorum and activation, expiry. */
import { describe, expect, it } from 'vitest';
import {
  activateAt,
  applyGovTx,
  approvalsNeeded,
  checkGovAction,
  genesisGovernance,
  proposalStatusAt,
  signRotation,
  signerIn,
  type GovernanceState,
} from '../../../src/chain/governance.js';
import { MemberRegistry } from '../../../src/chain/registry.js';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { decodeTx, encodeTx, governanceTxBody, signTx } from '../../../src/chain/tx.js';
import { verifyTxSync } from '../../../src/chain/tx-verifier.js';
import { TxError } from '../../../src/common/errors.js';
import { toHex } from '../../../src/common/bytes.js';
import { memberOf, makeGenesis } from '../../../src/node/dev-consortium.js';
import { testRules, TEST_PARAMS } from '../../helpers/chain-fixture.js';
import type { GovAction, GovChange, MemberPublic } from '../../../src/chain/types.js';

const CHAIN = 'ab'.repeat(32);
const keys = [generateKeyPair(), generateKeyPair(), generateKeyPair()] as const;
const [A, B, C] = keys;
const id = (k: KeyPair): string => keyIdHex(k.publicKey);
const peer = (n: number): string => `12D3KooW${'A'.repeat(40)}${n}`;

function genesis3(policy?: { quorumNum: number; quorumDen: number; proposalLifetimeBlocks: number }) {
  const g = makeGenesis(
    'gov',
    [
      memberOf({ name: 'A', role: 'manufacturer', key: A, peerId: peer(1) }),
      memberOf({ name: 'B', role: 'wholesaler', key: B, peerId: peer(2) }),
      memberOf({ name: 'C', role: 'pharmacy', key: C, peerId: peer(3), canSeal: false }),
    ],
    1_700_000_000_000,
    TEST_PARAMS,
  );
  if (policy) g.governance = policy;
  return g;
}

function newcomer(k: KeyPair = generateKeyPair(), n = 9): MemberPublic {
  return { name: 'Hospital', role: 'hospital', signingKey: toHex(k.publicKey), peerId: peer(n), gs1CompanyPrefixes: [], canSeal: false };
}

let txn = 0;
function tx(state: GovernanceState, gov: GovAction, by: KeyPair, height: number): { state: GovernanceState; id: string } {
  const txId = (++txn).toString(16).padStart(64, '0');
  return { state: applyGovTx(state, gov, { chainId: CHAIN, height, txId, submitter: id(by) }), id: txId };
}

function propose(state: GovernanceState, change: GovChange, by: KeyPair, height: number, activation = 0) {
  return tx(state, { op: 'propose', change, activation }, by, height);
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TxError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('governance: quorum and activation', () => {
  it('needs more than half of the voting members by default', () => {
    const p = genesisGovernance(genesis3()).policy;
    expect([1, 2, 3, 4, 5].map((n) => approvalsNeeded(p, n))).toEqual([1, 2, 2, 3, 3]);
  });

  it('a proposal counts as its proposer approval; 2 of 3 approve; the change activates at the first block after the quorum block, never in it', () => {
    const s0 = genesisGovernance(genesis3());
    const k = generateKeyPair();
    const p = propose(s0, { type: 'add', member: newcomer(k) }, A, 5);
    expect(p.state.proposals[0]?.status).toBe('pending');
    expect(p.state.proposals[0]?.approvals).toEqual([{ member: id(A), height: 5 }]);
    const a = tx(p.state, { op: 'approve', proposal: p.id }, B, 7);
    expect(a.state.proposals[0]).toMatchObject({ status: 'approved', quorumHeight: 7, effectiveHeight: 8 });
    // At the quorum block's own height nothing changes; at the next it does.
    expect(activateAt(a.state, 7, CHAIN)).toBe(a.state);
    const s8 = activateAt(a.state, 8, CHAIN);
    expect(s8.members.map((m) => m.name)).toEqual(['A', 'B', 'C', 'Hospital']);
    expect(s8.proposals[0]?.status).toBe('applied');
    expect(s8.members[3]?.history).toEqual([{ height: 8, proposal: p.id, change: 'add' }]);
    expect('member' in signerIn(s8, id(k))).toBe(true);
    expect(new MemberRegistry(s8, 9).byPeerId(peer(9))?.name).toBe('Hospital');
  });

  it('an activation height above the quorum block is waited for', () => {
    const s0 = genesisGovernance(genesis3());
    const p = propose(s0, { type: 'suspend', member: id(C) }, A, 5, 20);
    const a = tx(p.state, { op: 'approve', proposal: p.id }, B, 6);
    expect(a.state.proposals[0]?.effectiveHeight).toBe(20);
    expect(activateAt(a.state, 19, CHAIN)).toBe(a.state);
    expect(activateAt(a.state, 20, CHAIN).members[2]?.status).toBe('suspended');
  });

  it('with one approval of three nothing changes, and the proposal expires after its lifetime', () => {
    const s0 = genesisGovernance(genesis3({ quorumNum: 1, quorumDen: 2, proposalLifetimeBlocks: 10 }));
    const p = propose(s0, { type: 'add', member: newcomer() }, A, 5);
    for (let h = 6; h < 30; h++) expect(activateAt(p.state, h, CHAIN)).toBe(p.state);
    const rec = p.state.proposals[0];
    expect(rec && proposalStatusAt(p.state, rec, 15)).toBe('pending');
    expect(rec && proposalStatusAt(p.state, rec, 16)).toBe('expired');
  });

  it('a change no longer possible when it activates fails and changes nothing else', () => {
    const s0 = genesisGovernance(genesis3());
    const p1 = propose(s0, { type: 'update', member: id(C), role: 'hospital' }, A, 2);
    const p2 = propose(p1.state, { type: 'revoke', member: id(C) }, A, 2);
    let s = tx(p2.state, { op: 'approve', proposal: p2.id }, B, 3).state; // revoke: effective at 4
    s = activateAt(s, 4, CHAIN);
    s = tx(s, { op: 'approve', proposal: p1.id }, B, 5).state; // update of a revoked member: effective at 6
    s = activateAt(s, 6, CHAIN);
    expect(s.proposals.find((x) => x.id === p1.id)).toMatchObject({ status: 'failed' });
    expect(s.members[2]).toMatchObject({ status: 'revoked', role: 'pharmacy' });
  });
});

describe('governance: refusals (one per code)', () => {
  const s0 = genesisGovernance(genesis3());

  it('UNKNOWN_SUBMITTER: a non-member proposes', () => {
    expect(code(() => propose(s0, { type: 'add', member: newcomer() }, generateKeyPair(), 1))).toBe('UNKNOWN_SUBMITTER');
  });

  it('SUBMITTER_SUSPENDED: a suspended member approves', () => {
    let s = propose(s0, { type: 'suspend', member: id(C) }, A, 1);
    s = { ...tx(s.state, { op: 'approve', proposal: s.id }, B, 1), id: s.id };
    const after = activateAt(s.state, 2, CHAIN);
    const p = propose(after, { type: 'update', member: id(B), canSeal: false }, A, 3);
    expect(code(() => tx(p.state, { op: 'approve', proposal: p.id }, C, 3))).toBe('SUBMITTER_SUSPENDED');
  });

  it('SUBMITTER_REVOKED: a revoked member proposes', () => {
    const p = propose(s0, { type: 'revoke', member: id(C) }, A, 1);
    const after = activateAt(tx(p.state, { op: 'approve', proposal: p.id }, B, 1).state, 2, CHAIN);
    expect(code(() => propose(after, { type: 'add', member: newcomer() }, C, 3))).toBe('SUBMITTER_REVOKED');
  });

  it('KEY_RETIRED: the old key after a rotation; the new key signs', () => {
    const k2 = generateKeyPair();
    const change: GovChange = { type: 'rotate', member: id(C), signingKey: toHex(k2.publicKey), proof: signRotation(CHAIN, id(C), toHex(k2.publicKey), k2.secretKey) };
    const p = propose(s0, change, C, 1);
    const after = activateAt(tx(p.state, { op: 'approve', proposal: p.id }, A, 1).state, 2, CHAIN);
    expect(code(() => propose(after, { type: 'add', member: newcomer() }, C, 3))).toBe('KEY_RETIRED');
    expect(code(() => propose(after, { type: 'add', member: newcomer() }, k2, 3))).toBe('no error');
    // The old key still verifies what it signed before: the key book keeps it.
    expect(new MemberRegistry(after, 3).publicKey(id(C))).toEqual(C.publicKey);
    expect(after.members[2]?.keys).toEqual([id(C), id(k2)]);
  });

  it('GOV_UNKNOWN_PROPOSAL: approving a proposal that is not on the chain', () => {
    expect(code(() => tx(s0, { op: 'approve', proposal: 'cd'.repeat(32) }, A, 1))).toBe('GOV_UNKNOWN_PROPOSAL');
  });

  it('GOV_ALREADY_APPROVED: a second approval by the same member (the proposer included)', () => {
    const p = propose(s0, { type: 'add', member: newcomer() }, A, 1);
    expect(code(() => tx(p.state, { op: 'approve', proposal: p.id }, A, 2))).toBe('GOV_ALREADY_APPROVED');
  });

  it('GOV_PROPOSAL_EXPIRED: approving after the lifetime', () => {
    const p = propose(s0, { type: 'add', member: newcomer() }, A, 1);
    expect(code(() => tx(p.state, { op: 'approve', proposal: p.id }, B, 1 + s0.policy.proposalLifetimeBlocks + 1))).toBe('GOV_PROPOSAL_EXPIRED');
  });

  it('GOV_PROPOSAL_CLOSED: approving an approved or applied proposal', () => {
    const p = propose(s0, { type: 'add', member: newcomer() }, A, 1);
    const a = tx(p.state, { op: 'approve', proposal: p.id }, B, 1);
    expect(code(() => tx(a.state, { op: 'approve', proposal: p.id }, C, 1))).toBe('GOV_PROPOSAL_CLOSED');
    expect(code(() => tx(activateAt(a.state, 2, CHAIN), { op: 'approve', proposal: p.id }, C, 2))).toBe('GOV_PROPOSAL_CLOSED');
  });

  it('GOV_NO_SEALER: a change that would leave no sealer', () => {
    const p = propose(s0, { type: 'update', member: id(A), canSeal: false }, A, 1);
    const after = activateAt(tx(p.state, { op: 'approve', proposal: p.id }, B, 1).state, 2, CHAIN);
    expect(code(() => propose(after, { type: 'suspend', member: id(B) }, A, 3))).toBe('GOV_NO_SEALER');
  });

  it('GOV_QUORUM_UNREACHABLE: a policy that no vote can meet', () => {
    expect(code(() => propose(s0, { type: 'policy', policy: { quorumNum: 1, quorumDen: 1, proposalLifetimeBlocks: 10 } }, A, 1))).toBe('GOV_QUORUM_UNREACHABLE');
    expect(code(() => propose(s0, { type: 'policy', policy: { quorumNum: 1, quorumDen: 2, proposalLifetimeBlocks: 0 } }, A, 1))).toBe('GOV_QUORUM_UNREACHABLE');
  });

  it('GOV_IDENTITY_IN_USE: adding a key or peer ID another member holds', () => {
    expect(code(() => propose(s0, { type: 'add', member: { ...newcomer(), signingKey: toHex(B.publicKey) } }, A, 1))).toBe('GOV_IDENTITY_IN_USE');
    expect(code(() => propose(s0, { type: 'add', member: { ...newcomer(), peerId: peer(2) } }, A, 1))).toBe('GOV_IDENTITY_IN_USE');
  });

  it('GOV_BAD_PROOF: a rotation the new key did not sign', () => {
    const k2 = generateKeyPair();
    const wrong = signRotation(CHAIN, id(C), toHex(k2.publicKey), generateKeyPair().secretKey);
    expect(code(() => propose(s0, { type: 'rotate', member: id(C), signingKey: toHex(k2.publicKey), proof: wrong }, C, 1))).toBe('GOV_BAD_PROOF');
    // A proof for another consortium does not carry over either.
    const elsewhere = signRotation('ef'.repeat(32), id(C), toHex(k2.publicKey), k2.secretKey);
    expect(code(() => propose(s0, { type: 'rotate', member: id(C), signingKey: toHex(k2.publicKey), proof: elsewhere }, C, 1))).toBe('GOV_BAD_PROOF');
  });

  it('GOV_UNKNOWN_MEMBER: a change naming no member', () => {
    expect(code(() => propose(s0, { type: 'suspend', member: '12'.repeat(20) }, A, 1))).toBe('GOV_UNKNOWN_MEMBER');
  });

  it('GOV_INVALID_CHANGE: resuming an active member, or rotating another member', () => {
    expect(code(() => propose(s0, { type: 'resume', member: id(B) }, A, 1))).toBe('GOV_INVALID_CHANGE');
    expect(code(() => propose(s0, { type: 'rotate', member: id(B), peerId: peer(7) }, A, 1))).toBe('GOV_INVALID_CHANGE');
  });

  it('MALFORMED: gov shapes the decoder refuses', () => {
    expect(code(() => checkGovAction({ op: 'vote', proposal: 'x' }))).toBe('MALFORMED');
    expect(code(() => checkGovAction({ op: 'propose', change: { type: 'add', member: { ...newcomer(), extra: 1 } }, activation: 0 }))).toBe('MALFORMED');
    expect(code(() => checkGovAction({ op: 'propose', change: { type: 'rotate', member: id(C), signingKey: toHex(B.publicKey) }, activation: 0 }))).toBe('MALFORMED');
    expect(code(() => checkGovAction({ op: 'propose', change: { type: 'suspend', member: id(C) }, activation: -1 }))).toBe('MALFORMED');
  });

  it('WRONG_CHAIN: a governance tx signed for another consortium is refused (no replay)', () => {
    const g = genesis3();
    const registry = MemberRegistry.fromGenesis(g);
    const t = signTx(governanceTxBody('ef'.repeat(32), id(A), 1, { op: 'propose', change: { type: 'suspend', member: id(C) }, activation: 0 }), A.secretKey);
    expect(code(() => verifyTxSync(t, CHAIN, registry, testRules))).toBe('WRONG_CHAIN');
    expect(code(() => verifyTxSync({ ...t, chain: CHAIN }, CHAIN, registry, testRules))).toBe('BAD_SIGNATURE');
  });
});

describe('governance tx format', () => {
  it('round-trips through the canonical decoder; events must be empty; gov only on governance txs', () => {
    const t = signTx(governanceTxBody(CHAIN, id(A), 5, { op: 'approve', proposal: 'cd'.repeat(32) }), A.secretKey);
    const limits = { maxTxBytes: 1 << 16, maxEventsPerTx: 10 };
    expect(decodeTx(encodeTx(t), limits)).toEqual(t);
    expect(code(() => decodeTx(encodeTx({ ...t, events: [{}], eventIds: [] }), limits))).toBe('MALFORMED');
    expect(code(() => decodeTx(encodeTx({ ...t, kind: 'epcis' }), limits))).toBe('MALFORMED');
  });
});

describe('governance: party identifiers (docs/confidentiality.md)', () => {
  it('an update sets a member\'s parties; an added member brings its own; both shown in the registry', () => {
    const s0 = genesisGovernance(genesis3());
    const parties = ['urn:epc:id:pgln:0614141.00002', 'https://id.gs1.org/414/0614141000036'];
    const p = propose(s0, { type: 'update', member: id(B), parties }, A, 5);
    const a = tx(p.state, { op: 'approve', proposal: p.id }, C, 6);
    const s7 = activateAt(a.state, 7, CHAIN);
    expect(new MemberRegistry(s7, 8).get(id(B))?.parties).toEqual(parties);
    const k = generateKeyPair();
    const q = propose(s7, { type: 'add', member: { ...newcomer(k), parties: ['urn:epc:id:sgln:0614141.00009.0'] } }, A, 8);
    const s10 = activateAt(tx(q.state, { op: 'approve', proposal: q.id }, B, 9).state, 10, CHAIN);
    expect(new MemberRegistry(s10, 11).get(id(k))?.parties).toEqual(['urn:epc:id:sgln:0614141.00009.0']);
  });

  it('MALFORMED: parties that are not a list of identifiers, name one twice, or are too many', () => {
    const update = (parties: unknown) => () => checkGovAction({ op: 'propose', change: { type: 'update', member: id(B), parties }, activation: 0 });
    expect(code(update(['urn:epc:id:pgln:0614141.00002']))).toBe('no error');
    expect(code(update('urn:epc:id:pgln:0614141.00002'))).toBe('MALFORMED');
    expect(code(update(['a b']))).toBe('MALFORMED');
    expect(code(update(['x', 'x']))).toBe('MALFORMED');
    expect(code(update(Array.from({ length: 65 }, (_, i) => `p${i}`)))).toBe('MALFORMED');
    expect(code(() => checkGovAction({ op: 'propose', change: { type: 'add', member: { ...newcomer(), parties: [1] } }, activation: 0 }))).toBe('MALFORMED');
  });
});
