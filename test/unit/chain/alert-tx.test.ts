/**
 * Shape checks of the alert and pack tx kinds (chain/alert-tx.ts through tx.ts's checkTxShape):
 * well-formed actions pass and survive signing and decoding; each malformed one is MALFORMED with
 * a message naming what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPair, keyIdHex } from '../../../src/chain/keys.js';
import { actionTxBody, checkTxShape, decodeTx, encodeTx, signTx } from '../../../src/chain/tx.js';
import { MAX_REASON_CHARS, MAX_REPORTED_FAILURES } from '../../../src/chain/alert-tx.js';
import { TxError } from '../../../src/common/errors.js';
import type { AlertAction, PackAction } from '../../../src/chain/types.js';

const key = generateKeyPair();
const limits = { maxTxBytes: 1 << 20, maxEventsPerTx: 10_000 };
const CHAIN = 'ab'.repeat(32);
const ALERT = 'cd'.repeat(32);
const ITEM = 'https://id.gs1.org/01/10614141073464/21/a1';

function signed(action: { alert: unknown } | { pack: unknown }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const body = actionTxBody(CHAIN, keyIdHex(key.publicKey), 1_700_000_000_000, action as { alert: AlertAction });
  return { ...signTx(body, key.secretKey), ...extra };
}

function refusal(v: unknown): string {
  try {
    checkTxShape(v, limits);
  } catch (err) {
    if (err instanceof TxError && err.code === 'MALFORMED') return err.message;
    throw err;
  }
  throw new Error('expected MALFORMED');
}

describe('alert tx shape', () => {
  const good: AlertAction[] = [
    { op: 'status', alert: ALERT, status: 'investigating', reason: 'asked the pharmacy' },
    { op: 'status', alert: ALERT, status: 'closed', resolution: 'genuine', reason: 'ok' },
    { op: 'status', alert: ALERT, status: 'closed', resolution: 'counterfeit', reason: 'clone' },
    { op: 'status', alert: ALERT, status: 'closed', resolution: 'process_error', reason: 'scanned twice' },
  ];
  for (const a of good) {
    it(`accepts ${a.status}${a.resolution ? ` (${a.resolution})` : ''} and round-trips`, () => {
      const tx = signTx(actionTxBody(CHAIN, keyIdHex(key.publicKey), 1, { alert: a }), key.secretKey);
      expect(decodeTx(encodeTx(tx), limits)).toEqual(tx);
    });
  }
  const bad: [string, unknown, RegExp][] = [
    ['not an object', 'x', /alert must be an object/],
    ['unknown op', { op: 'delete', alert: ALERT, status: 'closed', resolution: 'genuine', reason: 'r' }, /alert\.op/],
    ['bad ID', { op: 'status', alert: 'AB', status: 'investigating', reason: 'r' }, /alert ID/],
    ['status new', { op: 'status', alert: ALERT, status: 'new', reason: 'r' }, /alert\.status/],
    ['closing without resolution', { op: 'status', alert: ALERT, status: 'closed', reason: 'r' }, /resolution/],
    ['unknown resolution', { op: 'status', alert: ALERT, status: 'closed', resolution: 'maybe', reason: 'r' }, /resolution/],
    ['resolution while investigating', { op: 'status', alert: ALERT, status: 'investigating', resolution: 'genuine', reason: 'r' }, /only with status "closed"/],
    ['empty reason', { op: 'status', alert: ALERT, status: 'investigating', reason: '' }, /alert\.reason/],
    ['over-long reason', { op: 'status', alert: ALERT, status: 'investigating', reason: 'x'.repeat(MAX_REASON_CHARS + 1) }, /alert\.reason/],
    ['extra field', { op: 'status', alert: ALERT, status: 'investigating', reason: 'r', by: 'me' }, /unexpected field "by"/],
  ];
  for (const [what, a, msg] of bad) it(`MALFORMED: ${what}`, () => expect(refusal(signed({ alert: a }))).toMatch(msg));

  it('MALFORMED: an alert tx with events, with a pack, or a pack on an epcis tx', () => {
    const ok = good[0] as AlertAction;
    expect(refusal(signed({ alert: ok }, { events: [{}], eventIds: ['x'] }))).toMatch(/carries no events/);
    expect(refusal(signed({ alert: ok }, { pack: { op: 'reactivate', item: ITEM, location: null } }))).toMatch(/only "alert"/);
    expect(refusal(signed({ alert: ok }, { kind: 'epcis' }))).toMatch(/belong to alert and pack txs/);
    expect(refusal(signed({ alert: ok }, { kind: 'governance' }))).toMatch(/gov|only "gov"/);
    expect(refusal(signed({ alert: ok }, { kind: 'other' }))).toMatch(/kind must be one of/);
  });
});

describe('pack tx shape', () => {
  const good: PackAction[] = [
    { op: 'reactivate', item: ITEM, location: 'urn:epc:id:sgln:4012345.00001.0' },
    { op: 'reactivate', item: ITEM, location: null },
    { op: 'code-check', item: ITEM, proof: 'ef'.repeat(32), location: null },
    { op: 'code-guess', item: ITEM, failures: 10, location: 'urn:epc:id:sgln:4012345.00001.0' },
  ];
  for (const p of good) {
    it(`accepts ${p.op} and round-trips`, () => {
      const tx = signTx(actionTxBody(CHAIN, keyIdHex(key.publicKey), 1, { pack: p }), key.secretKey);
      expect(decodeTx(encodeTx(tx), limits)).toEqual(tx);
    });
  }
  const bad: [string, unknown, RegExp][] = [
    ['not an object', [], /pack must be an object/],
    ['unknown op', { op: 'sell', item: ITEM, location: null }, /pack\.op/],
    ['empty item', { op: 'reactivate', item: '', location: null }, /pack\.item/],
    ['missing location', { op: 'reactivate', item: ITEM }, /pack\.location/],
    ['proof not 32 bytes', { op: 'code-check', item: ITEM, proof: 'ef', location: null }, /pack\.proof/],
    ['proof on a reactivate', { op: 'reactivate', item: ITEM, proof: 'ef'.repeat(32), location: null }, /unexpected field "proof"/],
    ['code in clear', { op: 'code-check', item: ITEM, proof: 'ef'.repeat(32), code: 'K7Q2', location: null }, /unexpected field "code"/],
    ['zero failures', { op: 'code-guess', item: ITEM, failures: 0, location: null }, /pack\.failures/],
    ['too many failures', { op: 'code-guess', item: ITEM, failures: MAX_REPORTED_FAILURES + 1, location: null }, /pack\.failures/],
    ['fractional failures', { op: 'code-guess', item: ITEM, failures: 1.5, location: null }, /pack\.failures/],
  ];
  for (const [what, p, msg] of bad) it(`MALFORMED: ${what}`, () => expect(refusal(signed({ pack: p }))).toMatch(msg));
});
