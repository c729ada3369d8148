/**
 * The coded errors: one detail shape per code. The `@ts-expect-error` lines are the compile-time
 * half (`npm run typecheck` fails if a wrong shape ever compiles, because the directive is then
 * unused); the runtime half checks what `type`, `details` and `of` carry.
 */
import { describe, expect, it } from 'vitest';
import { BlockError, InvariantError, TxError, invariant, type BlockErrorCode, type TxErrorCode } from '../../../src/common/errors.js';
import { BLOCK_ERROR_SAMPLES, TX_ERROR_SAMPLES } from '../../helpers/error-samples.js';

describe('typed error details', () => {
  it('the compiler refuses a code with the wrong details, missing details, or an unknown code', () => {
    const wrong = [
      // @ts-expect-error UNKNOWN_PARENT needs {parent, height}
      () => new BlockError('UNKNOWN_PARENT', 'x'),
      // @ts-expect-error height must be a number
      () => new BlockError('UNKNOWN_PARENT', 'x', { parent: 'p', height: '3' }),
      // @ts-expect-error an unknown detail field
      () => new BlockError('UNKNOWN_PARENT', 'x', { parent: 'p', height: 3, peer: 'q' }),
      // @ts-expect-error BAD_POW carries no details
      () => new BlockError('BAD_POW', 'x', { height: 3 }),
      // @ts-expect-error not a block error code
      () => new BlockError('BAD_SIGNATURE', 'x'),
      // @ts-expect-error DUPLICATE_EVENT needs {eventId} or {duplicates}
      () => new TxError('DUPLICATE_EVENT', 'x', { txId: 't' }),
      // @ts-expect-error the trace codes need every problem
      () => new TxError('ROLE_VIOLATION', 'x', { rule: 'r' }),
      // @ts-expect-error ALREADY_KNOWN names the tx
      () => new TxError('ALREADY_KNOWN', 'x', { block: null }),
    ];
    // Each still constructs at run time (JavaScript does not check): the refusal is the compiler's.
    for (const make of wrong) expect(make()).toBeInstanceOf(Error);
  });

  it('type is the code with its details, narrowed on type.code', () => {
    const err: unknown = new BlockError('UNKNOWN_PARENT', 'parent p of block b is unknown', { parent: 'p', height: 41 });
    if (!(err instanceof BlockError)) throw new Error('not a BlockError');
    const t = err.type;
    // Typed access after narrowing: no `typeof` test on a details bag.
    const height: number = t.code === 'UNKNOWN_PARENT' ? t.height : -1;
    expect(height).toBe(41);
    expect(t).toEqual({ code: 'UNKNOWN_PARENT', parent: 'p', height: 41 });
    expect(err.code).toBe('UNKNOWN_PARENT');
    expect(err.details).toEqual({ parent: 'p', height: 41 });
    expect(err.message).toBe('UNKNOWN_PARENT: parent p of block b is unknown');
  });

  it('a code without details has an empty details bag and a bare type', () => {
    const err = new BlockError('BAD_POW', 'hash above target');
    expect(err.details).toEqual({});
    expect(err.type).toEqual({ code: 'BAD_POW' });
  });

  it('of() rebuilds every block code from its type, message prefixed once', () => {
    for (const [code, type] of Object.entries(BLOCK_ERROR_SAMPLES) as [BlockErrorCode, (typeof BLOCK_ERROR_SAMPLES)[BlockErrorCode]][]) {
      const e = BlockError.of(type, 'm');
      expect(e.code).toBe(code);
      expect(e.type).toEqual(type);
      expect(e.message).toBe(`${code}: m`);
      const { code: _c, ...details } = type;
      expect(e.details).toEqual(details);
    }
  });

  it('of() rebuilds every tx code from its type (what a verifier worker sends back)', () => {
    for (const [code, type] of Object.entries(TX_ERROR_SAMPLES) as [TxErrorCode, (typeof TX_ERROR_SAMPLES)[TxErrorCode]][]) {
      const e = TxError.of(structuredClone(type), 'm');
      expect(e.code).toBe(code);
      expect(e.type).toEqual(type);
      expect(e.message).toBe(`${code}: m`);
    }
  });
});

describe('invariant', () => {
  it('passes on a true condition and throws InvariantError (not a coded error) otherwise', () => {
    expect(() => invariant(1 + 1 === 2, 'arithmetic')).not.toThrow();
    expect(() => invariant(false, 'setHeader before scan')).toThrow(InvariantError);
    expect(() => invariant(undefined, 'x')).toThrow('x');
  });
});
