/** The explorer's in-browser check of a private event's body (assets/explorer/proof.js) against node's commitment. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { sha256Engine, sha256Fallback, verifyPrivateBody } from '../../../assets/explorer/proof.js';
import { commitmentId, commitmentOf } from '../../../src/trace/private-event.js';

const event = { type: 'ObjectEvent', eventTime: '2026-01-01T00:00:00Z', epcList: ['urn:epc:id:sgtin:0614141.107346.1'], quantityList: [{ epcClass: 'x', quantity: 4242.125 }], é: 'ü' };
const salt = randomBytes(32);
const id = commitmentId(commitmentOf(event, salt));
const engines = { webcrypto: sha256Engine(), fallback: { sha256: async (d: Uint8Array) => sha256Fallback(d) } };

describe('verifyPrivateBody (explorer)', () => {
  for (const [name, opts] of Object.entries(engines)) {
    it(`${name}: the body the node committed to opens the commitment; a changed field, salt or ID does not`, async () => {
      expect(await verifyPrivateBody(id, { event, salt: salt.toString('hex') }, opts)).toEqual([]);
      expect(await verifyPrivateBody(id, { event: { ...event, quantityList: [{ epcClass: 'x', quantity: 4242.126 }] }, salt: salt.toString('hex') }, opts)).toHaveLength(1);
      const other = Buffer.from(salt);
      other[0] = (other[0] as number) ^ 1;
      expect((await verifyPrivateBody(id, { event, salt: other.toString('hex') }, opts))[0]).toMatch(/not to the commitment/);
      expect(await verifyPrivateBody(id, { event, salt: 'zz' }, opts)).toEqual(['the salt is not 32 bytes of hex']);
      expect(await verifyPrivateBody('ni:///sha-256;00?ver=CBV2.0', { event, salt: salt.toString('hex') }, opts)).toEqual(['the event ID is not a commitment']);
    });
  }
});
