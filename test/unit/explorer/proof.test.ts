/**
 * The explorer's client-side proof check (assets/explorer/proof.js, the very module the page
 * loads) and the independent test verifier (test/helpers/independent-proof.ts) run in Node
 * against real proofs: blocks of real EPCIS events (CBV 2.0 IDs, the node's own trace rules)
 * built with src/chain pieces on a real store, proofs read back by the API's Provenance reader,
 * both SHA-256 engines of the page (WebCrypto and the plain-JS fallback). One tamper table runs
 * against every verifier: each must refuse every case. The independent verifier also recomputes
 * the event ID from the event, which the page does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { buildBlock, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';
import { checkProofIndependently } from '../../helpers/independent-proof.js';
import { Provenance } from '../../../src/api/provenance.js';
import type { Proof } from '../../../src/api/proof-material.js';
import { jcs, signTx, txId as txIdOf } from '../../../src/chain/tx.js';
import { encodeHeader, decodeHeader, hashHeaderBytes, setNonce } from '../../../src/chain/header.js';
import { merkleRoot } from '../../../src/chain/merkle.js';
import { targetFromBits, hashMeetsTarget } from '../../../src/consensus/target.js';
import { toHex } from '../../../src/common/bytes.js';
import type { SignedTx } from '../../../src/chain/types.js';
import { prepareDocument } from '../../../src/trace/index.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { canonicalJson, compactTarget, sha256Engine, sha256Fallback, verifyEventProof, type EventProof } from '../../../assets/explorer/proof.js';

let fx: Fixture;
const proofs: { eventId: string; proof: Proof; txId: string }[] = [];

/** `n` real EPCIS ObjectEvents (self-contained, as capture makes them) and their CBV 2.0 IDs. */
let serial = 0;
function epcisEvents(n: number): { events: Record<string, unknown>[]; eventIds: string[] } {
  const eventList = Array.from({ length: n }, () => {
    serial++;
    return {
      type: 'ObjectEvent',
      eventTime: `2025-03-01T08:00:${String(serial % 60).padStart(2, '0')}.${serial}+01:00`,
      eventTimeZoneOffset: '+01:00',
      epcList: [`urn:epc:id:sgtin:0614141.107346.P${serial}`],
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234' },
      'example:note': 'ünïcödé ✓ "quoted"',
      'example:n': serial / 4,
    };
  });
  const doc = {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2025-03-01T08:00:00Z',
    epcisBody: { eventList },
  };
  return prepareDocument(doc);
}

beforeAll(async () => {
  fx = await makeFixture(undefined, { rules: traceRules() });
  // Blocks of 1, 2, 5 and 7 txs: audit paths of every shape (odd sizes, last leaf promoted).
  for (const n of [1, 2, 5, 7]) {
    const txs = Array.from({ length: n }, (_, i) => {
      const { events, eventIds } = epcisEvents(1 + (i % 3));
      return makeTx(fx, events, fx.sealer, eventIds);
    });
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
      const independent = checkProofIndependently(eventId, proof);
      expect(independent.problems).toEqual([]);
      expect(independent.ok).toBe(true);
      expect(independent.txId).toBe(txId);
      expect(r.height).toBe(independent.height);
      expect(r.engine).toBe(engine.engine);
      expect(r.submitter).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it('defaults to WebCrypto', async () => {
    const { eventId, proof } = proofs[3] as (typeof proofs)[number];
    const r = await verifyEventProof(eventId, proof);
    expect(r.ok).toBe(true);
    expect(r.engine).toBe('webcrypto');
  });
});

// ------------------------------------------------------------------------------------------------
// One tamper table, every verifier: the page's (both engines) and the independent one.

interface Check {
  ok: boolean;
  problems: string[];
}
const verifiers: [string, (eventId: string, proof: EventProof) => Promise<Check>][] = [
  ['explorer (WebCrypto)', (id, p) => verifyEventProof(id, p, sha256Engine())],
  ['explorer (fallback)', (id, p) => verifyEventProof(id, p, sha256Engine({}))],
  ['independent', async (id, p) => checkProofIndependently(id, p)],
];

/** A block hash for a header, ground to meet (or, with `miss`, to miss) its target, as the page sees it. */
function regrind(header: Buffer, miss = false): { header: string; blockHash: string } {
  const target = targetFromBits(header.readUInt32LE(100));
  const bytes = new Uint8Array(header);
  for (let n = 0n; ; n++) {
    setNonce(bytes, n);
    if (hashMeetsTarget(hashHeaderBytes(bytes), target) !== miss) break;
  }
  return { header: Buffer.from(bytes).toString('hex'), blockHash: toHex(hashHeaderBytes(bytes)) };
}

/**
 * A proof of a one-tx block whose only event was changed after its ID was computed, then
 * everything above it made consistent again: the tx re-signed by the member, its ID, the merkle
 * root, the header (re-ground to meet its target) and the block hash. Only the event's content
 * tells the lie.
 */
function consistentProofOfAlteredEvent(p: EventProof): EventProof {
  const tx = JSON.parse(p.tx) as SignedTx;
  const events = structuredClone(tx.events) as Record<string, unknown>[];
  (events[0] as Record<string, unknown>).bizStep = 'decommissioning';
  const { sig: _sig, ...body } = tx;
  const resigned = signTx({ ...body, events }, fx.sealer.secretKey);
  const header = decodeHeader(Buffer.from(p.header, 'hex'));
  header.merkleRoot = merkleRoot([txIdOf(resigned)]);
  const { header: h, blockHash } = regrind(Buffer.from(encodeHeader(header)));
  return { ...p, tx: jcs(resigned), merkleRoot: toHex(header.merkleRoot), header: h, blockHash };
}

const flip = (hex: string, at = 0): string => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
type Pick = (typeof proofs)[number];
/** [what, which proof, tamper, the page's problem, the independent verifier's problem]. */
const cases: [string, (all: Pick[]) => Pick, (p: EventProof, id: string) => [EventProof, string], RegExp, RegExp][] = [
  ['another event ID', inner, (p, id) => [p, id.replace(/[0-9a-f](?=\?ver)/, (c) => (c === '0' ? '1' : '0'))], /event ID is not in the tx/, /event ID not in tx/],
  ['an event changed in the tx', inner, (p, id) => [{ ...p, tx: p.tx.replace('commissioning', 'decommissioning') }, id], /audit path does not lead/, /audit path does not reach/],
  ['a non-canonical tx', inner, (p, id) => [{ ...p, tx: p.tx.replace('{', '{ ') }, id], /not in canonical form/, /tx not canonical/],
  ['a tx that is not JSON', inner, (p, id) => [{ ...p, tx: p.tx.slice(1) }, id], /not a JSON object/, /not a JSON object/],
  ['a flipped audit-path node', inner, (p, id) => [{ ...p, auditPath: p.auditPath.map((h, i) => (i === 0 ? flip(h) : h)) }, id], /audit path does not lead/, /audit path does not reach/],
  ['a dropped audit-path node', inner, (p, id) => [{ ...p, auditPath: p.auditPath.slice(1) }, id], /audit path does not lead/, /audit path does not reach/],
  ['another tx index', inner, (p, id) => [{ ...p, txIndex: (p.txIndex + 1) % p.txCount }, id], /audit path does not lead/, /audit path does not reach/],
  ['an index out of range', inner, (p, id) => [{ ...p, txIndex: p.txCount }, id], /audit path does not lead/, /audit path does not reach/],
  ['a claimed merkle root the header does not carry', inner, (p, id) => [{ ...p, merkleRoot: flip(p.merkleRoot) }, id], /audit path does not lead|header does not carry/, /audit path does not reach|header does not carry/],
  ['another block hash', inner, (p, id) => [{ ...p, blockHash: flip(p.blockHash) }, id], /does not hash to the block hash/, /does not hash to the block hash/],
  ['a header with a changed time', inner, (p, id) => [{ ...p, header: flip(p.header, 92 * 2 + 1) }, id], /does not hash to the block hash/, /does not hash to the block hash/],
  ['a short header', inner, (p, id) => [{ ...p, header: p.header.slice(0, 222) }, id], /not 112 bytes/, /not 112 bytes/],
  ['bad hex in the path', inner, (p, id) => [{ ...p, auditPath: ['zz'] }, id], /not 32-byte hex/, /not 32-byte hex/],
  [
    'a header whose hash misses its target, everything else consistent',
    (all) => all[0] as Pick,
    (p, id) => {
      const header = Buffer.from(p.header, 'hex');
      header.writeUInt32LE(0x03000001, 100); // target 1: no real hash meets it; the block hash is recomputed to match
      return [{ ...p, header: header.toString('hex'), blockHash: createHash('sha256').update(createHash('sha256').update(header).digest()).digest('hex') }, id];
    },
    /does not meet its proof-of-work target/,
    /proof of work does not hold/,
  ],
  ['no proof at all', inner, () => [null as unknown as EventProof, 'ni:///sha-256;00?ver=CBV2.0'], /no proof/, /no proof/],
];
/** The proof the table tampers with: the 5th of a 7-tx block (an audit path of several nodes). */
function inner(all: Pick[]): Pick {
  return all.find((p) => p.proof.txCount === 7 && p.proof.txIndex === 4) as Pick;
}

describe('tampered proofs: every verifier refuses every case', () => {
  it.each(cases)('refuses %s', async (_what, pick, mutate, pageProblem, independentProblem) => {
    const chosen = pick(proofs);
    if (chosen.proof.txCount === 7) expect(chosen.proof.auditPath.length).toBeGreaterThan(1);
    // The untampered proof passes every verifier, so a refusal below is the tampering's doing.
    for (const [name, verify] of verifiers) expect((await verify(chosen.eventId, chosen.proof)).ok, name).toBe(true);
    const [proof, eventId] = mutate(structuredClone(chosen.proof), chosen.eventId);
    for (const [name, verify] of verifiers) {
      const r = await verify(eventId, proof);
      expect(r.ok, name).toBe(false);
      expect(r.problems.join('; '), name).toMatch(name === 'independent' ? independentProblem : pageProblem);
    }
  });

  it('the independent verifier also refuses an event whose content no longer hashes to its ID, when all else is consistent', async () => {
    const single = proofs.find((p) => p.proof.txCount === 1) as Pick;
    const proof = consistentProofOfAlteredEvent(structuredClone(single.proof));
    const r = checkProofIndependently(single.eventId, proof);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.stringMatching(/^event content does not hash to the event ID \(it hashes to ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0\)$/)]);
    // Everything above the event is consistent: the page, which checks that the ID is listed
    // in the tx and not the event's content, finds nothing wrong with this proof.
    expect((await verifyEventProof(single.eventId, proof)).problems).toEqual([]);
  });
});
