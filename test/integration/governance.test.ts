/**
 * Consortium governance with real `tracechain start` processes (docs/governance.md): three
 * members add a fourth with 2 of 3 approvals, through the CLI. Before the activation the
 * newcomer's peer is refused at the connection and its signed tx by every node; after it, it
 * connects, syncs from genesis, captures, receives and dispenses a pack the maker shipped to it,
 * and every node shows the same 4 members with the same history and registry hash. A proposal
 * with only 1 of 3 approvals changes nothing and expires. Revoked (3 of 4), its peer is
 * disconnected within one block of the activation, its new tx refused everywhere, its old event
 * verifies. Then the maker (the only sealer) rotates its key: the old key stops sealing and
 * signing at the activation height, its earlier event still verifies, the node restarted with the
 * new key seals on, and /members shows the key history.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor, type NodeProc } from '../helpers/node-process.js';
import { fetchSettled } from '../helpers/retry.js';
import { initMember } from '../../src/node/commands/init.js';
import { DataDir } from '../../src/node/data-dir.js';
import { makeGenesis } from '../../src/node/dev-consortium.js';
import { paramsForInterval } from '../../src/chain/genesis.js';
import { keyIdHex } from '../../src/chain/keys.js';
import { encodeTx, signTx } from '../../src/chain/tx.js';
import { genesisBlock } from '../../src/chain/genesis.js';
import type { Member } from '../../src/chain/types.js';
import { commissioningDocument, freshEpc, stepDocument } from '../helpers/epcis-docs.js';

const NODE_ARGS = ['--p2p', '/ip4/127.0.0.1/tcp/0', '--workers', '1', '--log-level', 'info'];
// ~5 blocks a second: long enough for an approval round trip under load, short enough to watch one expire.
const LIFETIME = 150;

const dirs: string[] = [];
afterAll(async () => {
  stopAll();
  for (const d of dirs) await removeDir(d);
});

async function json<T>(n: NodeProc, path: string): Promise<T> {
  return (await (await fetchSettled(n.api + path)).json()) as T;
}

interface MembersView {
  height: number;
  registryHash: string;
  members: { id: string; name: string; status: string; history: { height: number; proposal: string | null; change: string }[] }[];
}
interface ProposalsView {
  height: number;
  proposals: { id: string; status: string; approvals: { name: string }[]; effectiveHeight?: number }[];
}

async function newDir(): Promise<string> {
  const d = await tempDir('tracechain-gov-');
  dirs.push(d);
  return d;
}


async function capture(n: NodeProc, doc: string = commissioningDocument()): Promise<{ status: number; body: { txId?: string; eventIds?: string[]; code?: string } }> {
  const res = await fetchSettled(n.api + '/capture', {
    requestTimeoutMs: 20_000,
    init: { method: 'POST', headers: { authorization: `Bearer ${await n.token()}`, 'content-type': 'application/ld+json' }, body: doc },
  });
  return { status: res.status, body: (await res.json()) as { txId?: string; eventIds?: string[]; code?: string } };
}

const cli = async (args: string[]): Promise<string> => {
  const r = await runCli(args, { timeoutMs: 30_000 });
  expect(r.code, `tracechain ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
};

describe('consortium governance (real processes)', () => {
  it('3 members add a 4th with 2 of 3 approvals; 1 of 3 changes nothing and expires; 3 of 4 revoke it; the sealer rotates its key', async () => {
    const t0 = Date.now();
    const step = (what: string): void => void process.stderr.write(`[governance test] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    // Genesis difficulty sized for the interval (not the easiest target): no burst of hundreds of
    // blocks while the retarget catches up, so a proposal's lifetime in blocks is a steady time.
    const params = { ...paramsForInterval(200), powLimitBits: 0x207fffff };
    const memberDirs: string[] = [];
    const members: Member[] = [];
    for (const name of ['maker', 'carrier', 'shop']) {
      const d = await newDir();
      memberDirs.push(d);
      members.push(await initMember({ data: d, name, role: 'dev', prefixes: [], seal: true }));
    }
    const genesis = makeGenesis('governance integration', members, Date.now(), params);
    genesis.governance = { quorumNum: 1, quorumDen: 2, proposalLifetimeBlocks: LIFETIME };
    const chainId = genesisBlock(genesis).hashHex;
    const newcomerDir = await newDir();
    const newcomer = await initMember({ data: newcomerDir, name: 'hospital', role: 'dev', prefixes: [], seal: false });
    const outsiderDir = await newDir();
    const outsider = await initMember({ data: outsiderDir, name: 'never', role: 'dev', prefixes: [], seal: false });
    for (const d of [...memberDirs, newcomerDir]) await new DataDir(d).writeGenesis(genesis);
    const publicFile = async (m: Member, name: string): Promise<string> => {
      const f = join(newcomerDir, name);
      await writeFile(f, JSON.stringify(m));
      return f;
    };

    const a = await startNode(NODE_ARGS, { dataDir: memberDirs[0] });
    const addrA = (await json<{ self: { addresses: string[] } }>(a, '/peers')).self.addresses[0] as string;
    const b = await startNode([...NODE_ARGS, '--no-mine', '--bootstrap', addrA], { dataDir: memberDirs[1] });
    const c = await startNode([...NODE_ARGS, '--no-mine', '--bootstrap', addrA], { dataDir: memberDirs[2] });
    const nodes = [a, b, c];
    step('three nodes started');
    await waitFor('the three members connected', async () => (await Promise.all(nodes.map((n) => json<{ peers: number }>(n, '/health')))).every((h) => h.peers >= 1), 30_000);
    const viaA = ['--api', a.api, '--data', memberDirs[0] as string];
    const viaB = ['--api', b.api, '--data', memberDirs[1] as string];

    // 1 of 3: a proposal nobody else approves changes nothing, then expires.
    // (Checked at the end: its lifetime runs while the rest goes on.)
    const lonely = /proposal ([0-9a-f]{64})/.exec(await cli(['member', 'propose', 'add', await publicFile(outsider, 'outsider.json'), ...viaA]))?.[1] as string;

    step('lonely proposed');
    // The newcomer's node: started from the genesis file and a bootstrap address, refused by the members.
    const d = await startNode([...NODE_ARGS, '--no-mine', '--bootstrap', addrA], { dataDir: newcomerDir });
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await json<{ peers: number }>(d, '/health')).peers).toBe(0);
    expect((await capture(d)).body.code).toBe('UNKNOWN_SUBMITTER');
    const key = (await new DataDir(newcomerDir).readMemberKey())!;
    const signed = signTx({ v: 1, chain: chainId, kind: 'epcis', submitter: keyIdHex(key.publicKey), time: Date.now(), events: [{ type: 'ObjectEvent' }], eventIds: [`ni:///sha-256;${'0'.repeat(64)}?ver=CBV2.0`] }, key.secretKey);
    for (const n of nodes) {
      const res = await fetchSettled(n.api + '/txs', { init: { method: 'POST', headers: { authorization: `Bearer ${await n.token()}`, 'content-type': 'application/json' }, body: Buffer.from(encodeTx(signed)) } });
      expect(((await res.json()) as { code: string }).code).toBe('UNKNOWN_SUBMITTER');
    }

    step('newcomer refused');
    // 2 of 3: proposed at A (its approval), approved at B.
    const pid = /proposal ([0-9a-f]{64})/.exec(await cli(['member', 'propose', 'add', await publicFile(newcomer, 'hospital.json'), ...viaA]))?.[1] as string;
    await waitFor('the proposal at B', async () => (await json<ProposalsView>(b, '/governance/proposals')).proposals.some((p) => p.id === pid), 20_000, 200);
    expect(await cli(['member', 'approve', pid, ...viaB])).toContain(`approved: proposal ${pid}`);
    const applied = await waitFor('the proposal applied at every member', async () => {
      const views = await Promise.all(nodes.map((n) => json<ProposalsView>(n, '/governance/proposals')));
      const p = views.map((v) => v.proposals.find((x) => x.id === pid));
      return p.every((x) => x?.status === 'applied') ? p[0] : undefined;
    }, 60_000, 200);
    expect(applied?.approvals.map((x) => x.name).sort()).toEqual(['carrier', 'maker']);

    step('applied');
    // After the activation: the newcomer connects, syncs from genesis and captures.
    await waitFor('the newcomer connected and synced', async () => {
      const [h, tip] = await Promise.all([json<{ peers: number; height: number }>(d, '/health'), json<{ height: number }>(a, '/blocks/tip')]);
      return h.peers >= 1 && h.height >= (applied?.effectiveHeight ?? 0) && tip.height - h.height <= 3;
    }, 60_000, 200);
    const captured = await waitFor('a capture at the newcomer accepted', async () => {
      const r = await capture(d);
      return r.status === 202 ? r.body : undefined; // its node may still be a block behind the activation
    }, 20_000, 300);
    const eventId = captured.eventIds?.[0] as string;
    for (const n of [...nodes, d]) await waitFor(`the newcomer's event mined, at ${n.api}`, async () => {
      const r = await fetchSettled(`${n.api}/events/${encodeURIComponent(eventId)}/proof`);
      return r.status === 200 && ((await r.json()) as { block: unknown }).block !== null ? true : undefined;
    }, 30_000, 200);

    step('captured and mined');
    // A pack the maker commissions and ships to the hospital: the hospital's node receives and
    // dispenses it, and every node sees it dispensed in the hospital's custody, with no alert.
    interface ItemAnswer { status: string; custodian: string | null; alerts: unknown[] }
    const item = (n: NodeProc, epc: string): Promise<ItemAnswer> => json<ItemAnswer>(n, `/verify?id=${encodeURIComponent(epc)}`);
    const pack = freshEpc();
    const mined = async (n: NodeProc, what: string, want: (i: ItemAnswer) => boolean): Promise<void> => {
      await waitFor(`${what} at ${n.api}`, async () => want(await item(n, pack)), 30_000, 200);
    };
    expect((await capture(a, commissioningDocument(pack))).status).toBe(202);
    await mined(a, 'the pack commissioned', (i) => i.status === 'active');
    expect((await capture(a, stepDocument(pack, 'shipping', 'in_transit'))).status).toBe(202);
    await mined(d, 'the pack shipped, seen by the hospital', (i) => i.status === 'in_transit');
    expect((await capture(d, stepDocument(pack, 'receiving', 'in_progress', 'urn:epc:id:sgln:0614141.00888.0'))).status).toBe(202);
    await mined(d, 'the pack received by the hospital', (i) => i.status === 'active' && i.custodian === 'hospital');
    expect((await capture(d, stepDocument(pack, 'dispensing', 'dispensed', 'urn:epc:id:sgln:0614141.00888.0'))).status).toBe(202);
    for (const n of [...nodes, d]) await mined(n, 'the pack dispensed', (i) => i.status === 'dispensed');
    for (const n of [...nodes, d]) expect(await item(n, pack)).toMatchObject({ status: 'dispensed', custodian: 'hospital', alerts: [] });

    step('pack shipped to the hospital, received and dispensed there');
    // Every node: the same 4 members, the same history, the same registry hash.
    const views = await Promise.all([...nodes, d].map((n) => json<MembersView>(n, '/members')));
    for (const v of views) {
      expect(v.members.map((m) => [m.name, m.status])).toEqual([['maker', 'active'], ['carrier', 'active'], ['shop', 'active'], ['hospital', 'active']]);
      expect(v.registryHash).toBe(views[0]?.registryHash);
      expect(v.members[3]?.history).toEqual([{ height: applied?.effectiveHeight, proposal: pid, change: 'add' }]);
    }
    expect(await cli(['member', 'list', '--api', d.api])).toMatch(/active\s+dev\s+hospital/);
    // The explorer names the newcomer (its page's "who" reads the registry at the tip).
    const names = (await json<{ members: { name: string }[] }>(a, '/explorer/consortium.json')).members.map((m) => m.name);
    expect(names).toContain('hospital');

    step('members agree');
    // The lonely proposal: 1 of 3 approvals (of 4, now), never applied, expired.
    const expired = await waitFor('the lonely proposal expired', async () => (await json<ProposalsView>(b, '/governance/proposals')).proposals.find((p) => p.id === lonely && p.status === 'expired'), 60_000, 200);
    expect(expired.approvals.map((x) => x.name)).toEqual(['maker']);
    expect(views[0]?.members.map((m) => m.name)).not.toContain('never');
    const late = await runCli(['member', 'approve', lonely, ...viaB]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('GOV_PROPOSAL_EXPIRED');
    step('lonely expired');

    // Revoke the newcomer (3 of 4 approvals, over HTTP this time): its peer is disconnected,
    // a tx it signs afterwards is refused everywhere, and its earlier event still verifies.
    const post = async (n: NodeProc, path: string, body: unknown): Promise<{ status: number; body: { proposal?: string; code?: string } }> => {
      const res = await fetchSettled(n.api + path, { init: { method: 'POST', headers: { authorization: `Bearer ${await n.token()}`, 'content-type': 'application/json' }, body: JSON.stringify(body) } });
      return { status: res.status, body: (await res.json()) as { proposal?: string; code?: string } };
    };
    const hospitalId = views[0]?.members[3]?.id as string;
    interface PeersView { sync: { height: number }; peers: { name: string }[] }
    await waitFor('the hospital connected to a member', async () => (await json<PeersView>(a, '/peers')).peers.some((x) => x.name === 'hospital'), 15_000, 200);
    // Watch every member's peers while the revocation goes through: each answer gives the node's
    // height and its peers at once, so "still connected at height h" is read from one answer.
    const watched: { node: number; height: number; connected: boolean }[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const answers = await Promise.all(nodes.map((n) => json<PeersView>(n, '/peers')));
        answers.forEach((v, i) => watched.push({ node: i, height: v.sync.height, connected: v.peers.some((x) => x.name === 'hospital') }));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const revoke = await post(a, '/governance/proposals', { change: { type: 'revoke', member: hospitalId } });
    expect(revoke.status).toBe(202);
    const rid = revoke.body.proposal as string;
    for (const n of [b, c]) {
      await waitFor('the revocation proposal seen', async () => (await json<ProposalsView>(n, '/governance/proposals')).proposals.some((p) => p.id === rid), 20_000, 200);
      expect((await post(n, '/governance/approvals', { proposal: rid })).status).toBe(202);
    }
    const revoked = await waitFor('the revocation applied at every member', async () => {
      const v = await Promise.all(nodes.map((n) => json<ProposalsView>(n, '/governance/proposals')));
      const p = v.map((x) => x.proposals.find((y) => y.id === rid));
      return p.every((x) => x?.status === 'applied') ? p[0] : undefined;
    }, 60_000, 200);
    const revokedAt = revoked?.effectiveHeight as number;
    await waitFor('every member past the revocation by two blocks', async () => (await Promise.all(nodes.map((n) => json<PeersView>(n, '/peers')))).every((v) => v.sync.height >= revokedAt + 2), 30_000, 100);
    watching = false;
    await watcher;
    // Within one block: no member still connected to the revoked peer once its tip passed the
    // activation height (the gater hangs up when its tip reaches revokedAt - 1, whose successor's
    // registry has the revocation), and none connected afterwards.
    expect(watched.filter((w) => w.connected && w.height >= revokedAt + 1)).toEqual([]);
    expect(watched.some((w) => w.connected && w.height < revokedAt), 'the hospital was connected before the revocation').toBe(true);
    const final = await Promise.all(nodes.map((n) => json<PeersView>(n, '/peers')));
    expect(final.map((v) => v.peers.some((x) => x.name === 'hospital'))).toEqual([false, false, false]);
    const after = signTx({ ...signed, time: Date.now() }, key.secretKey);
    for (const n of nodes) {
      const res = await fetchSettled(n.api + '/txs', { init: { method: 'POST', headers: { authorization: `Bearer ${await n.token()}`, 'content-type': 'application/json' }, body: Buffer.from(encodeTx(after)) } });
      expect(((await res.json()) as { code: string }).code).toBe('SUBMITTER_REVOKED');
    }
    const answer = join(newcomerDir, 'event.json');
    await writeFile(answer, await (await fetchSettled(`${a.api}/events/${encodeURIComponent(eventId)}/proof`)).text());
    expect(await cli(['verify-proof', answer, '--api', a.api])).toMatch(/ok|verified/i);
    expect((await json<MembersView>(c, '/members')).members[3]).toMatchObject({ name: 'hospital', status: 'revoked' });
    expect(revoked?.approvals.map((x) => x.name).sort()).toEqual(['carrier', 'maker', 'shop']);
    step('revoked');

    // Rotate the maker's signing key (the only sealer): proposed by the maker with a proof from
    // the new key, approved by the carrier (2 of the 3 voters). From the activation height the
    // old key neither signs txs nor seals; restarted with the new key, the node mines on.
    const keysDir = await newDir();
    await cli(['init', '--data', keysDir, '--name', 'maker', '--role', 'dev']);
    const newKey = (await new DataDir(keysDir).readMemberKey())!;
    const oldKey = (await new DataDir(memberDirs[0] as string).readMemberKey())!;
    const makerEvent = (await capture(a)).body.eventIds?.[0] as string; // signed with the old key
    const rot = /proposal ([0-9a-f]{64})/.exec(await cli(['member', 'propose', 'rotate', '--new-data', keysDir, '--keep-peer', ...viaA]))?.[1] as string;
    await waitFor('the rotation proposal at B', async () => (await json<ProposalsView>(b, '/governance/proposals')).proposals.some((p) => p.id === rot), 20_000, 200);
    expect(await cli(['member', 'approve', rot, ...viaB])).toContain(`approved: proposal ${rot}`);
    // Approved with its activation height at every member (the maker, the only sealer, will not
    // seal that block under its old key: the change may read as approved until the restart below).
    const rotated = await waitFor('the rotation approved at every member', async () => {
      const v = await Promise.all(nodes.map((n) => json<ProposalsView>(n, '/governance/proposals')));
      const p = v.map((x) => x.proposals.find((y) => y.id === rot));
      return p.every((x) => (x?.status === 'approved' || x?.status === 'applied') && x.effectiveHeight !== undefined) ? p[0] : undefined;
    }, 60_000, 200);
    const rotatedAt = rotated?.effectiveHeight as number;
    // The old key stops sealing at the activation height: the maker's node idles one block short of it.
    await waitFor('the maker idle under its retired key', async () => a.logs.some((l) => l.includes('not sealing: this member has no seal right')), 20_000, 200);
    expect((await json<{ height: number }>(a, '/blocks/tip')).height).toBe(rotatedAt - 1);
    const oldSealed = await json<{ sealer: string }>(a, `/blocks/${rotatedAt - 1}`);
    expect(oldSealed.sealer).toBe(keyIdHex(oldKey.publicKey));
    // A tx the old key signs now is refused everywhere.
    const retiredTx = signTx({ ...signed, submitter: keyIdHex(oldKey.publicKey), time: Date.now() }, oldKey.secretKey);
    for (const n of nodes) {
      const res = await fetchSettled(n.api + '/txs', { init: { method: 'POST', headers: { authorization: `Bearer ${await n.token()}`, 'content-type': 'application/json' }, body: Buffer.from(encodeTx(retiredTx)) } });
      expect(((await res.json()) as { code: string }).code).toBe('KEY_RETIRED');
    }
    // The operator restarts the node with the new key; it seals the activation block and on.
    expect(await a.kill()).toBe(0);
    await copyFile(join(keysDir, 'member.key'), join(memberDirs[0] as string, 'member.key'));
    // Restarted as an operator would, on the same p2p address (the peer ID is kept): the carrier and
    // the shop knew the maker only there (they have no other way to learn a new address).
    const listenA = addrA.replace(/\/p2p\/.*$/, '');
    const a2 = await startNode(['--p2p', listenA, ...NODE_ARGS.filter((x, i, all) => x !== '--p2p' && all[i - 1] !== '--p2p')], { dataDir: memberDirs[0] });
    const after2 = [a2, b, c];
    await waitFor('blocks past the rotation at every member', async () => (await Promise.all(after2.map((n) => json<{ height: number }>(n, '/blocks/tip')))).every((t) => t.height >= rotatedAt + 2), 30_000, 200).catch((err: unknown) => {
      const notable = (n: NodeProc): string => n.logs.filter((l) => !l.includes('"level":30') || /peer|member/.test(l)).slice(-25).join('\n');
      throw new Error(`${(err as Error).message}\nthe maker's node after its restart:\n${notable(a2)}\nthe carrier's:\n${notable(b)}\nthe shop's:\n${notable(c)}`);
    });
    for (const n of after2) expect((await json<{ sealer: string }>(n, `/blocks/${rotatedAt}`)).sealer).toBe(keyIdHex(newKey.publicKey));
    // The key history: the maker keeps its ID, holds both keys (the new one last), a rotate change.
    const maker = (await json<MembersView & { members: { keys: string[] }[] }>(c, '/members')).members[0];
    expect(maker).toMatchObject({ id: members[0]?.id, name: 'maker', status: 'active', keys: [keyIdHex(oldKey.publicKey), keyIdHex(newKey.publicKey)] });
    expect(maker?.history.at(-1)).toEqual({ height: rotatedAt, proposal: rot, change: 'rotate' });
    expect((await json<ProposalsView>(c, '/governance/proposals')).proposals.find((p) => p.id === rot)?.status).toBe('applied');
    // The maker's event signed with the old key before the rotation still verifies with its proof.
    const makerAnswer = join(newcomerDir, 'maker-event.json');
    await waitFor('the maker event mined', async () => ((await json<{ block: unknown }>(a2, `/events/${encodeURIComponent(makerEvent)}/proof`)).block ? true : undefined), 30_000, 200);
    await writeFile(makerAnswer, await (await fetchSettled(`${a2.api}/events/${encodeURIComponent(makerEvent)}/proof`)).text());
    expect(await cli(['verify-proof', makerAnswer, '--api', c.api])).toMatch(/ok|verified/i);
    // And a capture signed with the new key is accepted and mined.
    const fresh = (await waitFor('a capture under the new key', async () => { const r = await capture(a2); return r.status === 202 ? r.body : undefined; }, 20_000, 300)).eventIds?.[0] as string;
    await waitFor('the new-key event mined at C', async () => ((await json<{ block: unknown }>(c, `/events/${encodeURIComponent(fresh)}/proof`)).block ? true : undefined), 30_000, 200);
    step('rotated');
  });
});
