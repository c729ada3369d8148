/**
 * The explorer's client-side proof check (assets/explorer/proof.js, the very module the page
 * loads) run in Node against real proofs: blocks built with src/chain pieces on a real store,
 * proofs read back by the API's Provenance reader, both SHA-256 engines (WebCrypto and the
 * plain-JS fallback), cross-checked with the independent node:crypto verifier; every tampering
 * is caught.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { buildBlock, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';
import { checkProofIndependently } from '../../helpers/independent-proof.js';
import { Provenance } from '../../../src/api/provenance.js';
import type { Proof } from '../../../src/api/proof-material.js';
import { jcs } from '../../../src/chain/tx.js';
import { canonicalJson, compactTarget, sha256Engine, sha256Fallback, verifyEventProof, type EventProof } from '../../../assets/explorer/proof.js';

let fx: Fixture;
const proofs: { eventId: string; proof: Proof; txId: string }[] = [];

beforeAll(async () => {
  fx = await makeFixture();
  // Blocks of 1, 2, 5 and 7 txs: audit paths of every shape (odd sizes, last leaf promoted).
  let k = 0;
  for (const n of [1, 2, 5, 7]) {
    const txs = Array.from({ length: n }, (_, i) =>
      makeTx(
        fx,
        Array.from({ length: 1 + (i % 3) }, () => ({ epc: `urn:epc:id:sgtin:0614141.107346.${k++}`, action: 'commission', note: 'ünïcödé ✓ "quoted"', n: k / 4 })),
      ),
    );
    await fx.chain.importBlock(buildBlock(fx, { txs }));
  }
  const provenance = new Provenance(fx.chain, { blockCacheBytes: 1 << 22, proofCacheBytes: 1 << 22 });
  for (let h = 1; h <= fx.chain.tip.height; h++) {
    const block = await fx.chain.getMainBlock(h);
    for (const tx of block?.txs ?? []) {
      for (const eventId of tx.eventIds) {
        const entry = await provenance.eventById(eventId);
        if (entry?.proof) proofs.push({ eventId, proof: entry.proof, txId: entry.txId });
      }
    }
  }
});

afterAll(async () => {
  await fx?.close();
});

const engines = [
  ['WebCrypto', sha256Engine()],
  ['fallback', sha256Engine({})],
] as const;

describe('explorer proof check (assets/explorer/proof.js)', () => {
  it('picks WebCrypto when present and the fallback otherwise', () => {
    expect(sha256Engine().engine).toBe('webcrypto');
    expect(sha256Engine({}).engine).toBe('fallback');
    expect(sha256Engine(undefined).engine).toBe('webcrypto');
  });

  it('the fallback SHA-256 agrees with node:crypto on every length around the block boundaries', () => {
    for (let len = 0; len <= 300; len++) {
      const data = randomBytes(len);
      expect(Buffer.from(sha256Fallback(data)).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    }
    expect(Buffer.from(sha256Fallback(new TextEncoder().encode('abc'))).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('canonicalJson matches the chain JCS', () => {
    for (const v of [{ b: 1, a: [true, null, 1.5e-7, 'x\u2028y'], é: { z: 0, Z: -0 } }, { '\u{1F600}': 1, '\uFB01': 2, a: 1e21 }, [], {}]) {
      expect(canonicalJson(v)).toBe(jcs(v));
    }
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
  });

  it('compact targets as Bitcoin reads them', () => {
    expect(compactTarget(0x207fffff)).toBe(0x7fffffn << 232n);
    expect(compactTarget(0x1d00ffff)).toBe(0xffffn << 208n);
    expect(compactTarget(0x03123456)).toBe(0x123456n);
    expect(compactTarget(0x04923456)).toBeNull(); // negative
    expect(compactTarget(0x22000001)).toBe(1n << 248n);
    expect(compactTarget(0x23000001)).toBeNull(); // overflow
    expect(compactTarget(0x01000000)).toBeNull(); // zero
  });

  it.each(engines)('verifies every real proof (%s), as the independent verifier does', async (_name, engine) => {
    expect(proofs.length).toBe([1, 2, 5, 7].reduce((s, n) => s + Array.from({ length: n }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0), 0));
    for (const { eventId, proof, txId } of proofs) {
      const r = await verifyEventProof(eventId, proof, engine);
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.txId).toBe(txId);
      expect(r.blockHash).toBe(proof.blockHash);
      expect(r.height).toBe(checkProofIndependently(eventId, proof).height);
      expect(r.engine).toBe(engine.engine);
      expect(r.submitter).toMatch(/^[0-9a-f]{40}$/);
      expect(checkProofIndependently(eventId, proof).ok).toBe(true);
    }
  });

  it('defaults to WebCrypto', async () => {
    const { eventId, proof } = proofs[3] as (typeof proofs)[number];
    const r = await verifyEventProof(eventId, proof);
    expect(r.ok).toBe(true);
    expect(r.engine).toBe('webcrypto');
  });

  const flip = (hex: string, at = 0): string => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
  const cases: [string, (p: EventProof, id: string) => [EventProof, string], RegExp][] = [
    ['another event ID', (p, id) => [p, id.replace(/[0-9a-f](?=\?ver)/, (c) => (c === '0' ? '1' : '0'))], /event ID is not in the tx/],
    ['an event changed in the tx', (p, id) => [{ ...p, tx: p.tx.replace('commission', 'decommissio') }, id], /audit path does not lead/],
    ['a non-canonical tx', (p, id) => [{ ...p, tx: p.tx.replace('{', '{ ') }, id], /not in canonical form/],
    ['a tx that is not JSON', (p, id) => [{ ...p, tx: p.tx.slice(1) }, id], /not a JSON object/],
    ['a flipped audit-path node', (p, id) => [{ ...p, auditPath: p.auditPath.map((h, i) => (i === 0 ? flip(h) : h)) }, id], /audit path does not lead/],
    ['a dropped audit-path node', (p, id) => [{ ...p, auditPath: p.auditPath.slice(1) }, id], /audit path does not lead/],
    ['another tx index', (p, id) => [{ ...p, txIndex: (p.txIndex + 1) % p.txCount }, id], /audit path does not lead/],
    ['an index out of range', (p, id) => [{ ...p, txIndex: p.txCount }, id], /audit path does not lead/],
    ['a claimed merkle root the header does not carry', (p, id) => [{ ...p, merkleRoot: flip(p.merkleRoot) }, id], /audit path does not lead|header does not carry/],
    ['another block hash', (p, id) => [{ ...p, blockHash: flip(p.blockHash) }, id], /does not hash to the block hash/],
    ['a header with a changed time', (p, id) => [{ ...p, header: flip(p.header, 92 * 2 + 1) }, id], /does not hash to the block hash/],
    ['a short header', (p, id) => [{ ...p, header: p.header.slice(0, 222) }, id], /not 112 bytes/],
    ['bad hex in the path', (p, id) => [{ ...p, auditPath: ['zz'] }, id], /not 32-byte hex/],
  ];

  it.each(cases)('refuses %s', async (_what, mutate, problem) => {
    const pick = proofs.find((p) => p.proof.txCount === 7 && p.proof.txIndex === 4) as (typeof proofs)[number];
    expect(pick.proof.auditPath.length).toBeGreaterThan(1);
    const [proof, eventId] = mutate(structuredClone(pick.proof), pick.eventId);
    for (const [, engine] of engines) {
      const r = await verifyEventProof(eventId, proof, engine);
      expect(r.ok).toBe(false);
      expect(r.problems.join('; ')).toMatch(problem);
    }
  });

  it('refuses a header whose hash misses its target, even when everything else is consistent', async () => {
    const pick = proofs[0] as (typeof proofs)[number];
    // bits 0x03000001: target 1; no real hash meets it. The block hash is recomputed to match.
    const header = Buffer.from(pick.proof.header, 'hex');
    header.writeUInt32LE(0x03000001, 100);
    const blockHash = createHash('sha256').update(createHash('sha256').update(header).digest()).digest('hex');
    const r = await verifyEventProof(pick.eventId, { ...pick.proof, header: header.toString('hex'), blockHash });
    expect(r.problems).toEqual(['the block hash does not meet its proof-of-work target']);
  });

  it('says so when there is no proof yet', async () => {
    const r = await verifyEventProof('ni:///sha-256;00?ver=CBV2.0', null as unknown as EventProof);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['no proof (the event is not in a block yet)']);
  });
});
