/** Shared by the api unit tests: signed txs, and event-like JSON with the awkward parts. */
import fc from 'fast-check';
import { generateKeyPair, keyIdHex } from '../../../src/chain/keys.js';
import { signTx } from '../../../src/chain/tx.js';

const key = generateKeyPair();

export function tx(events: Record<string, unknown>[], time = 1_700_000_000_000) {
  return signTx(
    { v: 1, chain: 'ab'.repeat(32), kind: 'epcis', submitter: keyIdHex(key.publicKey), time, events, eventIds: events.map((_, i) => `ni:///sha-256;${String(i).padStart(64, '0')}?ver=CBV2.0`) },
    key.secretKey,
  );
}

/** Event-like JSON objects with the awkward parts: quotes, backslashes, control characters, non-BMP text, all-digit keys, nesting. */
const awkwardKey = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('0', '1', '10', '9', '01', '__proto__', 'a"b', 'k\\\\', '\u2028', '日本'), fc.nat({ max: 200 }).map(String));
const awkwardValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('"', '\\', '\u0000\u001f', '\ud83d\ude00', '}]{["', '"sig":"'),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(awkwardKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;
export const awkwardEvent = fc.dictionary(awkwardKey, awkwardValue, { minKeys: 0, maxKeys: 6 });
