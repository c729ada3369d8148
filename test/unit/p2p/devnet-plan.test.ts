/** Devnet member plan: roles in order, prefixes round-robin to manufacturers, ports. */
import { describe, expect, it } from 'vitest';
import { devnetPlan, devnetPorts, DEFAULT_PREFIXES } from '../../../src/node/commands/devnet.js';
import { parsePrefixes, parseRole } from '../../../src/node/commands/init.js';

describe('devnet plan', () => {
  it('repeats the roles in order and names members by role', () => {
    expect(devnetPlan(7, DEFAULT_PREFIXES).map((p) => `${p.name}:${p.role}`)).toEqual([
      'manufacturer-1:manufacturer',
      'wholesaler-1:wholesaler',
      'pharmacy-1:pharmacy',
      'hospital-1:hospital',
      'regulator-1:regulator',
      'manufacturer-2:manufacturer',
      'wholesaler-2:wholesaler',
    ]);
  });

  it('gives the prefixes to the manufacturers, round-robin, and none to others', () => {
    const plan = devnetPlan(6, ['1111', '2222', '3333']);
    expect(plan[0]!.prefixes).toEqual(['1111', '3333']);
    expect(plan[5]!.prefixes).toEqual(['2222']);
    expect(plan.slice(1, 5).every((p) => p.prefixes.length === 0)).toBe(true);
    expect(devnetPlan(2, DEFAULT_PREFIXES)[0]!.prefixes).toEqual(DEFAULT_PREFIXES);
  });

  it('puts node i on P+i (API) and P+100+i (p2p)', () => {
    expect(devnetPorts(9000, 3)).toEqual({ api: 9003, p2p: 9103 });
  });

  it('checks roles and prefixes', () => {
    expect(parseRole('pharmacy')).toBe('pharmacy');
    expect(() => parseRole('pirate')).toThrow(/role must be one of/);
    expect(parsePrefixes('0614141, 4012345,')).toEqual(['0614141', '4012345']);
    expect(() => parsePrefixes('12ab')).toThrow(/not a GS1 company prefix/);
  });
});
