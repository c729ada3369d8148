import { describe, expect, it } from 'vitest';
import { epcisDocumentXml } from '../../../src/trace/epcis-xml-write.js';
import type { JsonObject } from '../../../src/common/json.js';
import { generateKeyPair, keyIdHex } from '../../../src/chain/keys.js';
import { encodeTx, signTx, txId, verifyTxSignature } from '../../../src/chain/tx.js';
import { toHex } from '../../../src/common/bytes.js';
import type { Member, SignedTx } from '../../../src/chain/types.js';
import { prepareCapture, type CaptureSetup } from '../../../src/api/capture-core.js';

const key = generateKeyPair();
const member = (role: Member['role']): Member => ({ id: keyIdHex(key.publicKey), name: `a ${role}`, role, signingKey: toHex(key.publicKey), peerId: 'p', gs1CompanyPrefixes: role === 'manufacturer' ? ['0614141'] : [], canSeal: true });
const setup = (role: Member['role'] = 'dev'): CaptureSetup => ({ member: member(role), secretKey: key.secretKey, chainId: 'cd'.repeat(32), maxTxBytes: 1 << 20, maxEventsPerTx: 10_000 });

function doc(events: Record<string, unknown>[]): string {
  return JSON.stringify({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2024-01-01T00:00:00Z', epcisBody: { eventList: events } });
}

const commissioning = (serial: number): Record<string, unknown> => ({
  type: 'ObjectEvent',
  eventTime: '2024-01-01T10:00:00Z',
  eventTimeZoneOffset: '+00:00',
  epcList: [`urn:epc:id:sgtin:0614141.107346.${serial}`],
  action: 'ADD',
  bizStep: 'commissioning',
  disposition: 'active',
});

describe('prepareCapture', () => {
  it('builds the same canonical signed tx as signTx + encodeTx, in one JCS pass', () => {
    const out = prepareCapture(doc([commissioning(1), commissioning(2)]), setup(), 1_700_000_000_123);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const tx = JSON.parse(out.tx) as SignedTx;
    expect(out.tx).toBe(new TextDecoder().decode(encodeTx(tx)));
    expect(out.txId).toBe(toHex(txId(tx)));
    expect(verifyTxSignature(tx, key.publicKey)).toBe(true);
    expect(tx.eventIds).toEqual(out.eventIds);
    expect(tx.time).toBe(1_700_000_000_123);
    const reference = signTx({ v: 1, chain: tx.chain, kind: 'epcis', submitter: tx.submitter, time: tx.time, events: tx.events, eventIds: tx.eventIds }, key.secretKey);
    expect(new TextDecoder().decode(encodeTx(reference))).toBe(out.tx);
  });

  it('refuses bad JSON, prototype poisoning, every invalid event (paths), duplicates within the document', () => {
    const bad = prepareCapture('{"type":', setup(), 0);
    expect(!bad.ok && bad.problem.status).toBe(400);
    const poisoned = prepareCapture('{"type":"EPCISDocument","__proto__":{"polluted":true}}', setup(), 0);
    expect(!poisoned.ok && poisoned.problem.status).toBe(400);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const invalid = prepareCapture(doc([commissioning(1), { ...commissioning(2), action: 'NOPE' }, { ...commissioning(3), eventTime: 'soon' }]), setup(), 0);
    expect(invalid.ok).toBe(false);
    if (!invalid.ok) {
      expect(invalid.problem.status).toBe(400);
      const paths = (invalid.problem['errors'] as { path: string }[]).map((e) => e.path);
      expect(paths.some((p) => p.startsWith('/epcisBody/eventList/1'))).toBe(true);
      expect(paths.some((p) => p.startsWith('/epcisBody/eventList/2'))).toBe(true);
    }
    const dup = prepareCapture(doc([commissioning(1), commissioning(1)]), setup(), 0);
    expect(!dup.ok && dup.problem.status).toBe(400);
    expect(!dup.ok && dup.problem.code).toMatch(/DUPLICATE/);
  });

  it('the same events as an EPCISQueryDocument (JSON) and as EPCIS XML give the same event IDs', () => {
    const events = [commissioning(1), commissioning(2)];
    const plain = prepareCapture(doc(events), setup(), 0);
    if (!plain.ok) throw new Error(plain.problem.detail);
    const query = JSON.stringify({ ...JSON.parse(doc([])), type: 'EPCISQueryDocument', epcisBody: { queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList: events } } } });
    const fromQuery = prepareCapture(query, setup(), 0);
    expect(fromQuery.ok && fromQuery.eventIds).toEqual(plain.eventIds);
    const xml = epcisDocumentXml(events as JsonObject[], '2024-01-01T00:00:00Z');
    const fromXml = prepareCapture(new TextEncoder().encode(xml), setup(), 0, 'xml');
    expect(fromXml.ok && fromXml.eventIds).toEqual(plain.eventIds);
    const badXml = prepareCapture('<a><b></a>', setup(), 0, 'xml');
    expect(!badXml.ok && badXml.problem.code).toBe('BAD_XML');
    const notUtf8 = prepareCapture(new Uint8Array([0x3c, 0xff, 0xfe]), setup(), 0, 'xml');
    expect(!notUtf8.ok && notUtf8.problem.code).toBe('BAD_ENCODING');
  });

  it('proceed: the valid events of a mixed document are captured, each refused one listed with its original index', () => {
    const mixed = doc([commissioning(1), { ...commissioning(2), action: 'NOPE' }, commissioning(3), { ...commissioning(4), eventTime: 'soon' }, commissioning(1)]);
    const rollback = prepareCapture(mixed, setup(), 0);
    expect(rollback.ok).toBe(false);
    const out = prepareCapture(mixed, setup(), 0, 'json', { behaviour: 'proceed' });
    if (!out.ok) throw new Error(out.problem.detail);
    const alone = prepareCapture(doc([commissioning(1), commissioning(3)]), setup(), 0);
    if (!alone.ok) throw new Error(alone.problem.detail);
    expect(out.eventIds).toEqual(alone.eventIds);
    expect(out.refused?.map((r) => r.index)).toEqual([1, 3, 4]);
    expect(out.refused?.[0]?.errors[0]?.path).toMatch(/^\/epcisBody\/eventList\/1/);
    expect(out.refused?.[1]?.errors[0]?.path).toMatch(/^\/epcisBody\/eventList\/3/);
    expect(out.refused?.[2]?.errors[0]?.code).toMatch(/^DUPLICATE_/);
    // Events the chain already holds are left out when named.
    const again = prepareCapture(mixed, setup(), 0, 'json', { behaviour: 'proceed', exclude: [alone.eventIds[0] as string] });
    expect(again.ok && again.eventIds).toEqual([alone.eventIds[1]]);
    expect(again.ok && again.refused?.find((r) => r.index === 0)?.errors[0]?.code).toBe('DUPLICATE_EVENT');
    // Nothing valid: refused whole, every problem listed.
    const none = prepareCapture(doc([{ ...commissioning(2), action: 'NOPE' }]), setup(), 0, 'json', { behaviour: 'proceed' });
    expect(!none.ok && none.problem.status).toBe(400);
    // A problem of the document itself refuses it whole.
    const broken = prepareCapture(JSON.stringify({ type: 'EPCISDocument' }), setup(), 0, 'json', { behaviour: 'proceed' });
    expect(broken.ok).toBe(false);
  });

  it('a role error is 403 naming the rule', () => {
    const out = prepareCapture(doc([commissioning(1)]), setup('pharmacy'), 0);
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.problem.status).toBe(403);
      expect(typeof out.problem['rule']).toBe('string');
      expect(out.problem.title).toMatch(/rule/);
    }
  });

  it('an over-size tx is 413', () => {
    const out = prepareCapture(doc([commissioning(1), commissioning(2)]), { ...setup(), maxTxBytes: 500 }, 0);
    expect(!out.ok && out.problem.status).toBe(413);
  });
});

describe('prepareCapture, private mode (docs/confidentiality.md)', () => {
  it('a private tx: projections and commitments, a fresh salt per event, each body opening its commitment', async () => {
    const { checkReveal, commitmentId, commitmentOfText, isProjection } = await import('../../../src/trace/private-event.js');
    const events = [commissioning(11), commissioning(12), commissioning(13)];
    const out = prepareCapture(doc(events), setup(), 1_700_000_000_123, 'json', { behaviour: 'rollback', sharing: 'private' });
    expect(out.ok).toBe(true);
    if (!out.ok || out.bodies === undefined) throw new Error('no private outcome');
    const tx = JSON.parse(out.tx) as SignedTx;
    expect(tx.kind).toBe('private');
    expect(verifyTxSignature(tx, key.publicKey)).toBe(true);
    expect(tx.events.every((e) => isProjection(e))).toBe(true);
    expect(out.tx).not.toContain('urn:epc:id:sgtin');
    expect(new Set(out.bodies.map((b) => b.salt)).size).toBe(3);
    out.bodies.forEach((b, i) => {
      expect(b.salt).toMatch(/^[0-9a-f]{64}$/);
      expect(b.commitment).toBe(commitmentOfText(b.eventText, Buffer.from(b.salt, 'hex')));
      expect(tx.eventIds[i]).toBe(commitmentId(b.commitment));
      expect(checkReveal({ event: JSON.parse(b.eventText) as JsonObject, salt: b.salt }, b.commitment, tx.events[i])).toEqual({ ok: true });
    });
    // The same document again: other salts, other commitments, the same CBV event IDs.
    const again = prepareCapture(doc(events), setup(), 1_700_000_000_123, 'json', { behaviour: 'rollback', sharing: 'private' });
    if (!again.ok || again.bodies === undefined) throw new Error('no private outcome');
    expect(again.bodies.map((b) => b.eventId)).toEqual(out.bodies.map((b) => b.eventId));
    expect(again.bodies.map((b) => b.commitment).some((c) => out.bodies?.some((o) => o.commitment === c))).toBe(false);
  });
});
