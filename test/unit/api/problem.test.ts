import { describe, expect, it } from 'vitest';
import { toProblem } from '../../../src/api/problem.js';
import { TraceError } from '../../../src/trace/errors.js';
import { TxError } from '../../../src/common/errors.js';

describe('problem details mapping', () => {
  it('TraceError: 400 listing every problem; role errors 403 naming the rule', () => {
    const p = toProblem(TraceError.fromProblems([{ path: '/a', message: 'bad a', code: 'SCHEMA' }, { path: '/b', message: 'bad b', code: 'BAD_TIME' }]));
    expect(p.status).toBe(400);
    expect(p['errors']).toEqual([{ path: '/a', message: 'bad a', code: 'SCHEMA' }, { path: '/b', message: 'bad b', code: 'BAD_TIME' }]);
    const r = toProblem(new TraceError('ROLE_VIOLATION', 'pharmacies do not commission', [{ path: '/e/0', message: 'no', code: 'ROLE_VIOLATION' }], 'pharmacy-commission'));
    expect(r.status).toBe(403);
    expect(r['rule']).toBe('pharmacy-commission');
    expect(r.title).toMatch(/pharmacy-commission/);
  });

  it('TxError: duplicates are 409 with where the originals are; problems become errors', () => {
    const dup = toProblem(new TxError('DUPLICATE_EVENT', '1 event(s) already recorded', { duplicates: [{ eventId: 'e', txId: 't', block: { hash: 'h', height: 3 } }] }));
    expect(dup.status).toBe(409);
    expect(dup['duplicates']).toEqual([{ eventId: 'e', txId: 't', block: { hash: 'h', height: 3 } }]);
    const inv = toProblem(new TxError('INVALID_EVENT', 'x', { problems: [{ path: '/events/0', message: 'm', code: 'SCHEMA' }] }));
    expect(inv.status).toBe(400);
    expect(inv['errors']).toEqual([{ path: '/events/0', message: 'm', code: 'SCHEMA' }]);
    expect(toProblem(new TxError('ROLE_VIOLATION', 'x', { rule: 'r' })).status).toBe(403);
  });

  it('anything else is a bare 500 that leaks nothing', () => {
    const p = toProblem(new Error('secret path /etc/x'));
    expect(p.status).toBe(500);
    expect(JSON.stringify(p)).not.toContain('secret');
  });
});
