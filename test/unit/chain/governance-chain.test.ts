/**
 * Membership as chain state (src/chain/connect.ts, chain.ts): a member added by quorum seals and
 * submits from its activation, never before; a reorg across the activation switches the
 * registry, the seal right and the gater's view back and forth exactly; the stored registry
 * equals a replay (audit).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditChain } from '../../../src/chain/audit.js';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { jcs } from '../../../src/chain/tx.js';
import { genesisGovernance, signRotation } from '../../../src/chain/governance.js';
import { BlockError, TxError } from '../../../src/common/errors.js';
import { toHex } from '../../../src/common/bytes.js';
import type { HeaderEntry } from '../../../src/chain/store.js';
import type { Block } from '../../../src/chain/block.js';
import type { MemberPublic } from '../../../src/chain/types.js';
import { registryAdmits } from '../../../src/p2p/gater.js';
import { buildBlock, makeFixture, makeGovTx, makeTx, testRules, type Fixture } from '../../helpers/chain-fixture.js';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => fx.close());

const NEW_PEER = '12D3KooWNewcomerPeerForTheGovernanceTest';

function newcomer(k: KeyPair): MemberPublic {
  return { name: 'Hospital', role: 'hospital', signingKey: toHex(k.publicKey), peerId: NEW_PEER, gs1CompanyPrefixes: [], canSeal: true };
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof BlockError || err instanceof TxError) return err.code;
  throw err ?? new Error('expected a refusal');
}

async function importOn(parent: HeaderEntry, spec: Parameters<typeof buildBlock>[1] = {}): Promise<Block> {
  const b = buildBlock(fx, { ...spec, parent });
  await fx.chain.importBlock(b);
  return b;
}

const entry = (b: Block): HeaderEntry => fx.chain.header(b.hashHex) as HeaderEntry;
/** What the connection gater decides of a peer from the chain's registry at the tip's successor (p2p/network.ts). */
const gaterAdmits = (peerId: string): boolean => registryAdmits((p) => fx.chain.registry.peerStanding(p), peerId, new Set());

describe('governance on the chain', () => {
  it('adds a member by 2 of 2 approvals: refused before activation, seals and submits after; a reorg across the activation switches it back and forth; audit agrees', async () => {
    const k = generateKeyPair();
    const newId = keyIdHex(k.publicKey);
    const g0 = fx.chain.tip;
    const propose = makeGovTx(fx, { op: 'propose', change: { type: 'add', member: newcomer(k) }, activation: 0 });
    await fx.chain.submitTx(propose);
    const proposalId = (await fx.chain.submitTx(makeGovTx(fx, { op: 'approve', proposal: 'cd'.repeat(32) })).catch((e: unknown) => e)) as TxError;
    expect(proposalId.code).toBe('GOV_UNKNOWN_PROPOSAL');
    const b1 = await importOn(g0, { txs: fx.chain.selectForBlock(1 << 20).map((e) => e.tx) });
    expect(b1.txs).toHaveLength(1);
    const pid = toHex(b1.txIds[0] as Uint8Array);

    // Before activation: its txs are refused, it may not seal, its peer is not admitted.
    expect(await code(fx.chain.submitTx(makeTx(fx, [{ epc: 'urn:n1', action: 'commission' }], k)))).toBe('UNKNOWN_SUBMITTER');
    expect(fx.chain.registry.byPeerId(NEW_PEER)).toBeUndefined();
    expect(gaterAdmits(NEW_PEER)).toBe(false);

    // The second approval completes the quorum in block 2: the member is not in block 2's registry...
    const approve = makeGovTx(fx, { op: 'approve', proposal: pid }, fx.nonSealer);
    expect(await code(importOn(entry(b1), { txs: [approve], key: k }))).toBe('NOT_A_SEALER');
    const b2 = await importOn(entry(b1), { txs: [approve] });
    expect(fx.chain.governance.proposals[0]).toMatchObject({ status: 'approved', quorumHeight: 2, effectiveHeight: 3 });
    // ...but is in block 3's: the mempool, the gater and the seal right follow.
    expect(fx.chain.registry.height).toBe(3);
    expect(fx.chain.registry.byPeerId(NEW_PEER)?.name).toBe('Hospital');
    expect(gaterAdmits(NEW_PEER)).toBe(true);
    await fx.chain.submitTx(makeTx(fx, [{ epc: 'urn:n1', action: 'commission' }], k));
    const b3 = await importOn(entry(b2), { key: k, txs: fx.chain.selectForBlock(1 << 20).map((e) => e.tx) });
    expect(fx.chain.tip.hash).toBe(b3.hashHex);
    expect(fx.chain.governance.members.map((m) => m.name)).toEqual(['sealer', 'observer', 'Hospital']);
    const stateWithMember = jcs(fx.chain.governance);
    expect(await fx.store.getGovernance()).toBe(stateWithMember);
    expect((await auditChain(fx.store, fx.genesis, testRules)).problem).toBeNull();

    // A heavier branch from block 1 without the approval: the member is gone again.
    const c2 = await importOn(entry(b1));
    const c3 = await importOn(entry(c2));
    const c4 = await importOn(entry(c3));
    expect(fx.chain.tip.hash).toBe(c4.hashHex);
    expect(fx.chain.registry.get(newId)).toBeUndefined();
    expect(fx.chain.registry.byPeerId(NEW_PEER)).toBeUndefined();
    expect(gaterAdmits(NEW_PEER)).toBe(false);
    expect(fx.chain.governance.proposals[0]).toMatchObject({ status: 'pending', approvals: [{ height: 1 }] });
    expect(JSON.parse((await fx.store.getGovernance()) as string)).toEqual(fx.chain.governance);
    expect((await auditChain(fx.store, fx.genesis, testRules)).problem).toBeNull();
    // On this branch the newcomer may not seal.
    expect(await code(importOn(entry(c4), { key: k }))).toBe('NOT_A_SEALER');

    // The first branch grows heavier again: the member is back, with the same history.
    const b4 = await importOn(entry(b3));
    const b5 = await importOn(entry(b4), { key: k });
    expect(fx.chain.tip.hash).toBe(b5.hashHex);
    expect(fx.chain.registry.get(newId)?.name).toBe('Hospital');
    expect(gaterAdmits(NEW_PEER)).toBe(true);
    expect(fx.chain.governance.members[2]?.history).toEqual([{ height: 3, proposal: pid, change: 'add' }]);
    expect((await auditChain(fx.store, fx.genesis, testRules)).problem).toBeNull();

    // Back to genesis (a reorg to a longer branch without the proposal): the stored state goes.
    let parent = g0;
    for (let i = 0; i < 6; i++) parent = entry(await importOn(parent));
    expect(fx.chain.tip.hash).toBe(parent.hash);
    expect(await fx.store.getGovernance()).toBeUndefined();
    expect(jcs(fx.chain.governance)).toBe(jcs(genesisGovernance(fx.genesis)));

    // The registry survives a restart: reopen on the first branch made heaviest once more.
    let p2 = entry(b5);
    for (let i = 0; i < 2; i++) p2 = entry(await importOn(p2));
    await fx.reopen();
    expect(fx.chain.registry.get(newId)?.name).toBe('Hospital');
  });

  it('rotates a key: the old key is refused for new txs after activation, what it signed before stays valid (audit), and the key history shows both', async () => {
    const oldKey = fx.nonSealer;
    const memberId = keyIdHex(oldKey.publicKey);
    const fresh = generateKeyPair();
    const b1 = await importOn(fx.chain.tip, { txs: [makeTx(fx, [{ epc: 'urn:r1', action: 'commission' }], oldKey)] });
    const change = { type: 'rotate' as const, member: memberId, signingKey: toHex(fresh.publicKey), proof: signRotation(fx.chain.chainId, memberId, toHex(fresh.publicKey), fresh.secretKey) };
    // Proposed by the member itself, with its current key.
    expect(await code(fx.chain.submitTx(makeGovTx(fx, { op: 'propose', change, activation: 0 }, fx.sealer)))).toBe('GOV_INVALID_CHANGE');
    const b2 = await importOn(entry(b1), { txs: [makeGovTx(fx, { op: 'propose', change, activation: 0 }, oldKey)] });
    const b3 = await importOn(entry(b2), { txs: [makeGovTx(fx, { op: 'approve', proposal: toHex(b2.txIds[0] as Uint8Array) })] });
    expect(await code(fx.chain.submitTx(makeTx(fx, [{ epc: 'urn:r2', action: 'commission' }], oldKey)))).toBe('KEY_RETIRED');
    expect(await code(importOn(entry(b3), { txs: [makeTx(fx, [{ epc: 'urn:r3', action: 'commission' }], oldKey)] }))).toBe('BAD_TX');
    await fx.chain.submitTx(makeTx(fx, [{ epc: 'urn:r4', action: 'commission' }], fresh));
    await importOn(entry(b3), { txs: fx.chain.selectForBlock(1 << 20).map((e) => e.tx) });
    const m = fx.chain.governance.members[1];
    expect(m?.keys).toEqual([memberId, keyIdHex(fresh.publicKey)]);
    expect(m?.history.map((x) => x.change)).toEqual(['genesis', 'rotate']);
    expect(fx.chain.registry.get(memberId)?.name).toBe('observer');
    expect(fx.chain.registry.publicKey(memberId)).toEqual(oldKey.publicKey);
    expect((await auditChain(fx.store, fx.genesis, testRules)).problem).toBeNull();
  });

  it('a suspended member can no longer sign or seal; its block at the activation height is refused; audit spots a tampered registry', async () => {
    const g0 = fx.chain.tip;
    const obsId = keyIdHex(fx.nonSealer.publicKey);
    const obsPeer = fx.chain.registry.get(obsId)?.peerId as string;
    expect(gaterAdmits(obsPeer)).toBe(true);
    const b1 = await importOn(g0, { txs: [makeGovTx(fx, { op: 'propose', change: { type: 'suspend', member: obsId }, activation: 0 })] });
    const pid = toHex(b1.txIds[0] as Uint8Array);
    await fx.chain.submitTx(makeTx(fx, [{ epc: 'urn:o1', action: 'commission' }], fx.nonSealer));
    const b2 = await importOn(entry(b1), { txs: [makeGovTx(fx, { op: 'approve', proposal: pid }, fx.nonSealer)] });
    expect(fx.chain.registry.signer(obsId)).toMatchObject({ error: { code: 'SUBMITTER_SUSPENDED' } });
    // The gater hangs up on its peer from here, even were it named as a bootstrap peer.
    expect(gaterAdmits(obsPeer)).toBe(false);
    expect(registryAdmits((p) => fx.chain.registry.peerStanding(p), obsPeer, new Set([obsPeer]))).toBe(false);
    // Its pending tx is left out of the next block (and out of the pool), never sealed into a refused block.
    expect(fx.chain.selectForBlock(1 << 20)).toEqual([]);
    expect(fx.chain.mempool.size).toBe(0);
    expect(await code(importOn(entry(b2), { txs: [makeTx(fx, [{ epc: 'urn:o2', action: 'commission' }], fx.nonSealer)] }))).toBe('BAD_TX');
    expect(await code(fx.chain.submitTx(makeTx(fx, [{ epc: 'urn:o3', action: 'commission' }], fx.nonSealer)))).toBe('SUBMITTER_SUSPENDED');
    await importOn(entry(b2));
    expect((await auditChain(fx.store, fx.genesis, testRules)).problem).toBeNull();
    // Damage the stored registry: audit names it.
    const tampered = JSON.parse((await fx.store.getGovernance()) as string) as { members: { status: string }[] };
    (tampered.members[1] as { status: string }).status = 'active';
    await fx.store.repositories.governance.putRaw('state', new TextEncoder().encode(JSON.stringify(tampered)));
    const report = await auditChain(fx.store, fx.genesis, testRules);
    expect(report.ok).toBe(false);
    expect(report.problem?.reason).toMatch(/member registry/);
  });
});
