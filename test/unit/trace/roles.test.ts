import { describe, expect, it } from 'vitest';
import { checkRole, prepareDocument, ROLE_RULES, eventFacts } from '../../../src/trace/index.js';
import { doc, errorOf, member, objectEvent } from './helpers.js';

const maker = member('manufacturer', 'm1', ['0614141']);
const wholesaler = member('wholesaler', 'w1');
const pharmacy = member('pharmacy', 'p1');
const hospital = member('hospital', 'h1');
const regulator = member('regulator', 'r1');
const dev = member('dev', 'd1');

const commission = objectEvent({ action: 'ADD', bizStep: 'commissioning', disposition: 'active' });
const foreignCommission = objectEvent({ action: 'ADD', bizStep: 'commissioning', epcList: ['urn:epc:id:sgtin:4012345.011111.1'] });
const ship = objectEvent({ bizStep: 'shipping', disposition: 'in_transit' });
const receive = objectEvent({ bizStep: 'receiving', disposition: 'in_progress' });
const dispense = objectEvent({ bizStep: 'dispensing', disposition: 'dispensed' });
const recall = objectEvent({ bizStep: 'holding', disposition: 'recalled' });
const pack = {
  type: 'AggregationEvent',
  eventTime: '2024-03-01T10:00:00Z',
  eventTimeZoneOffset: '+00:00',
  parentID: 'urn:epc:id:sscc:0614141.1234567890',
  childEPCs: ['urn:epc:id:sgtin:0614141.107346.2017'],
  action: 'ADD',
};

describe('role rules', () => {
  it('manufacturers commission items of their own prefixes only', () => {
    expect(() => checkRole(maker, commission)).not.toThrow();
    const err = errorOf(() => checkRole(maker, foreignCommission));
    expect(err.code).toBe('FOREIGN_PREFIX');
    expect(err.rule).toBe('manufacturer-commissions-own');
    expect(err.message).toContain('4012345');
    // A Digital Link is matched against the member's prefixes.
    expect(() => checkRole(maker, objectEvent({ action: 'ADD', bizStep: 'commissioning', epcList: ['https://id.gs1.org/01/10614141073464/21/9'] }))).not.toThrow();
  });

  it('refuses an action outside the role, naming the rule', () => {
    const err = errorOf(() => checkRole(pharmacy, commission));
    expect(err.code).toBe('ROLE_VIOLATION');
    expect(err.rule).toBe('no-rule:pharmacy-commission');
    expect(err.message).toContain('manufacturer');
    expect(errorOf(() => checkRole(wholesaler, dispense)).code).toBe('ROLE_VIOLATION');
    expect(errorOf(() => checkRole(pharmacy, ship)).code).toBe('ROLE_VIOLATION');
    expect(errorOf(() => checkRole(regulator, ship)).code).toBe('ROLE_VIOLATION');
    expect(errorOf(() => checkRole(wholesaler, recall)).code).toBe('ROLE_VIOLATION');
  });

  it('wholesalers ship, receive, pack and unpack; pharmacies and hospitals receive and dispense', () => {
    for (const e of [ship, receive, pack, { ...pack, action: 'DELETE' }]) expect(() => checkRole(wholesaler, e)).not.toThrow();
    for (const m of [pharmacy, hospital]) for (const e of [receive, dispense]) expect(() => checkRole(m, e)).not.toThrow();
  });

  it('manufacturers pack and ship their own products (deviation from DESIGN.md, documented)', () => {
    expect(() => checkRole(maker, pack)).not.toThrow();
    expect(() => checkRole(maker, ship)).not.toThrow();
    expect(errorOf(() => checkRole(maker, { ...ship, epcList: ['urn:epc:id:sgtin:4012345.011111.1'] })).code).toBe('FOREIGN_PREFIX');
    expect(ROLE_RULES.find((r) => r.name === 'manufacturer-ships-own')?.deviation).toBeTruthy();
  });

  it('recalls: manufacturers their own, the regulator anything', () => {
    expect(() => checkRole(maker, recall)).not.toThrow();
    expect(errorOf(() => checkRole(maker, { ...recall, epcList: ['urn:epc:id:sgtin:4012345.011111.1'] })).code).toBe('FOREIGN_PREFIX');
    expect(() => checkRole(regulator, { ...recall, epcList: ['urn:epc:id:sgtin:4012345.011111.1'] })).not.toThrow();
    const lotRecall = objectEvent({ epcList: [], quantityList: [{ epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT1' }], disposition: 'recalled' });
    expect(() => checkRole(maker, lotRecall)).not.toThrow();
    expect(() => checkRole(regulator, lotRecall)).not.toThrow();
  });

  it('everyone may record observations; dev may do everything', () => {
    for (const m of [maker, wholesaler, pharmacy, hospital, regulator]) expect(() => checkRole(m, objectEvent({ bizStep: 'storing', epcList: ['urn:epc:id:sgtin:4012345.011111.1'] }))).not.toThrow();
    for (const e of [commission, foreignCommission, ship, receive, dispense, recall, pack]) expect(() => checkRole(dev, e)).not.toThrow();
  });

  it('maps events without a bizStep by type and action', () => {
    expect(eventFacts({ ...pack }).primary).toBe('pack');
    expect(eventFacts({ ...pack, action: 'DELETE' }).primary).toBe('unpack');
    expect(eventFacts(objectEvent({ bizStep: undefined, action: 'ADD' })).primary).toBe('commission');
    expect(eventFacts(objectEvent({ bizStep: 'http://example.com/vocab/step', action: 'OBSERVE' })).primary).toBe('observe');
    expect(eventFacts(objectEvent({ bizStep: 'decommissioning', action: 'DELETE' })).primary).toBe('decommission');
  });

  it('prepareDocument applies the rules to every event and lists all violations', () => {
    const err = errorOf(() => prepareDocument(doc([receive, commission, ship]), { member: pharmacy }));
    expect(err.code).toBe('ROLE_VIOLATION');
    expect(err.problems.map((p) => p.path)).toEqual(['/epcisBody/eventList/1', '/epcisBody/eventList/2']);
    expect(err.rule).toBe('no-rule:pharmacy-commission');
  });
});
