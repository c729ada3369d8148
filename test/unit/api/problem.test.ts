import { describe, expect, it } from 'vitest';
import { API_PROBLEMS, BadIdentifierError, HttpProblem, PROBLEM_BASE, RelayedProblem, storeDamaged, storeUnwritable, toProblem, type ApiProblemCode } from '../../../src/api/problem.js';
import { prepareCapture, type CaptureSetup } from '../../../src/api/capture-core.js';
import { TraceError, type TraceErrorCode } from '../../../src/trace/errors.js';
import { StoreDamagedError, TxError, type TxErrorCode } from '../../../src/common/errors.js';
import { StorageCorruptionError, StorageOpenError, StorageReadError, StorageSuspendedError, StorageWriteError } from '../../../src/storage/errors.js';
import { TX_ERROR_SAMPLES, txErrorOf } from '../../helpers/error-samples.js';

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
    expect(toProblem(new TxError('ROLE_VIOLATION', 'x', { problems: [{ path: '/events/0', message: 'm', code: 'ROLE_VIOLATION' }], rule: 'r' })).status).toBe(403);
  });

  it('anything else is a bare 500 that leaks nothing', () => {
    const p = toProblem(new Error('secret path /etc/x'));
    expect(p.status).toBe(500);
    expect(JSON.stringify(p)).not.toContain('secret');
  });
});

/**
 * The type a client of the GS1 EPCIS 2.0 REST binding matches on, written out from the binding
 * (openapi.json's `epcisException:…` types), or the node's own type where the binding names none.
 */
function expectedType(code: string, status: number): string {
  if (code === 'QUERY_PARAMETER') return 'epcisException:QueryParameterException';
  if (code === 'QUERY_TOO_LARGE') return 'epcisException:QueryTooLargeException';
  if (code === 'QUERY_TOO_COMPLEX') return 'epcisException:QueryTooComplexException';
  const byStatus: Record<number, string> = {
    400: 'epcisException:ValidationException',
    401: 'epcisException:SecurityException',
    403: 'epcisException:SecurityException',
    404: 'epcisException:NoSuchNameException',
    409: 'epcisException:ResourceAlreadyExistsException',
    413: 'epcisException:CaptureLimitExceededException',
  };
  return byStatus[status] ?? PROBLEM_BASE + code.toLowerCase().replace(/_/g, '-');
}

describe('one table code → status and title, one problem type base', () => {
  // The HTTP answers external clients rely on, written out independently of API_PROBLEMS.
  const API_EXPECTED: Record<ApiProblemCode, [number, string]> = {
    BAD_ENCODING: [400, 'Body is not UTF-8'],
    BAD_JSON: [400, 'Body is not valid JSON'],
    BAD_XML: [400, 'Body is not well-formed XML'],
    FORBIDDEN_PROPERTY: [400, 'Body carries a forbidden property'],
    DUPLICATE_IN_DOCUMENT: [400, 'Invalid EPCIS document'],
    OVERSIZE: [413, 'Payload too large'],
    QUERY_PARAMETER: [400, 'Bad query parameter'],
    QUERY_TOO_LARGE: [413, 'Query result too large'],
    QUERY_TOO_COMPLEX: [413, 'Query too complex to answer in order'],
    BAD_CAPTURE_BEHAVIOUR: [400, 'Unsupported capture error behaviour'],
    BAD_EVENT_ID: [400, 'Bad event ID'],
    BAD_SHARING: [400, 'Unknown sharing mode'],
    BAD_BLOCK_ID: [400, 'Bad block identifier'],
    NOT_A_MEMBER: [400, 'Not a member'],
    BAD_SUBSCRIPTION: [400, 'Bad subscription'],
    BAD_DESTINATION: [400, 'Destination refused'],
    BAD_VERIFICATION_REQUEST: [400, 'Bad verification request'],
    WEBSOCKET_REQUIRED: [426, 'Upgrade required'],
    QUERY_NOT_FOUND: [404, 'Not found'],
    SUBSCRIPTION_NOT_FOUND: [404, 'Not found'],
    QUERY_EXISTS: [409, 'Query exists'],
    TOO_MANY_SUBSCRIPTIONS: [409, 'Too many subscriptions'],
    GTIN_NOT_FOUND: [404, 'Not found'],
    BAD_AUTHORIZATION: [401, 'Authentication required'],
    UNAUTHENTICATED: [401, 'Authentication required'],
    BAD_TOKEN: [401, 'Authentication required'],
    TOKEN_EXPIRED: [401, 'Authentication required'],
    TOKEN_REVOKED: [401, 'Authentication required'],
    MISSING_SCOPE: [403, 'Forbidden'],
    CORS_REFUSED: [403, 'Forbidden'],
    NOT_ENTITLED: [403, 'Forbidden'],
    AUDIT_UNAVAILABLE: [409, 'No audit log'],
    RATE_LIMITED: [429, 'Too many requests'],
    NOT_FOUND: [404, 'Not found'],
    TX_NOT_FOUND: [404, 'Not found'],
    EVENT_NOT_FOUND: [404, 'Not found'],
    NOT_PRIVATE: [404, 'Not a private event'],
    BLOCK_NOT_FOUND: [404, 'Block not found'],
    NO_NETWORK: [409, 'No network'],
    BACKUP_RUNNING: [409, 'A backup is already running'],
    NO_BACKUP: [409, 'No backups'],
    CAPTURE_DROPPED: [409, 'Capture not recorded'],
    TOKEN_API_OFF: [409, 'Token management over HTTP is off'],
    TOKEN_API_ADMIN: [403, 'Admin tokens are managed on the node'],
    TOKEN_EXISTS: [409, 'Token exists'],
    TOKEN_ALREADY_REVOKED: [409, 'Token revoked already'],
    UNKNOWN_TOKEN: [404, 'Token not found'],
    BAD_TOKEN_SPEC: [400, 'Invalid token request'],
    TOKEN_FILE_BUSY: [409, 'The token file is being changed'],
    ALERT_NOT_FOUND: [404, 'Not found'],
    BAD_SCRATCH_CODE: [400, 'Not a scratch-off code'],
    NO_SCRATCH_CODE: [404, 'No scratch-off code'],
    SCRATCH_CODE_WRONG: [422, 'Wrong scratch-off code'],
    SCRATCH_CODE_RATE_LIMITED: [429, 'Too many wrong scratch-off codes'],
    STORE_DAMAGED: [500, 'Store damaged'],
    STORE_UNWRITABLE: [503, 'Service unavailable'],
    STORE_UNAVAILABLE: [503, 'Service unavailable'],
    NO_SIGNER: [503, 'Service unavailable'],
    NO_PRIVATE_STORE: [503, 'Service unavailable'],
    CAPTURE_BUSY: [503, 'Service unavailable'],
    INDEX_NOT_READY: [503, 'Service unavailable'],
    SHUTTING_DOWN: [503, 'Service unavailable'],
    TX_LOG_BUSY: [503, 'Service unavailable'],
    TX_LOG_CLOSED: [503, 'Service unavailable'],
    UNDER_PRESSURE: [503, 'Service unavailable'],
  };
  for (const [code, [status, title]] of Object.entries(API_EXPECTED) as [ApiProblemCode, [number, string]][]) {
    it(`${code} → ${status} ${title}`, () => {
      expect(toProblem(new HttpProblem(code, 'd'))).toEqual({ type: expectedType(code, status), title, status, detail: 'd', code });
    });
  }
  it('covers every API code', () => {
    expect(Object.keys(API_PROBLEMS).sort()).toEqual(Object.keys(API_EXPECTED).sort());
  });

  const TX_EXPECTED: Record<TxErrorCode, number> = {
    MALFORMED: 400,
    BAD_SIGNATURE: 400,
    WRONG_CHAIN: 400,
    UNKNOWN_SUBMITTER: 403,
    OVERSIZE: 413,
    TOO_MANY_EVENTS: 400,
    NO_EVENTS: 400,
    BAD_EVENT_ID: 400,
    INVALID_EVENT: 400,
    DUPLICATE_EVENT: 409,
    ROLE_VIOLATION: 403,
    ALREADY_KNOWN: 409,
    MEMPOOL_FULL: 503,
    TIME_TOO_NEW: 400,
    SUBMITTER_SUSPENDED: 403,
    SUBMITTER_REVOKED: 403,
    KEY_RETIRED: 403,
    GOV_UNKNOWN_PROPOSAL: 404,
    GOV_ALREADY_APPROVED: 409,
    GOV_PROPOSAL_EXPIRED: 409,
    GOV_PROPOSAL_CLOSED: 409,
    GOV_NO_SEALER: 422,
    GOV_QUORUM_UNREACHABLE: 422,
    GOV_IDENTITY_IN_USE: 409,
    GOV_BAD_PROOF: 400,
    GOV_UNKNOWN_MEMBER: 404,
    GOV_INVALID_CHANGE: 422,
    DECLARED_EVENT_UNKNOWN: 409,
    NOT_DECLARANT: 403,
    ALERT_UNKNOWN: 404,
    ALERT_NOT_OWNER: 403,
    ALERT_CLOSED: 409,
    ALERT_BAD_TRANSITION: 409,
  };
  for (const [code, status] of Object.entries(TX_EXPECTED) as [TxErrorCode, number][]) {
    it(`tx ${code} → ${status}, its details in the document`, () => {
      const { code: _c, ...details } = TX_ERROR_SAMPLES[code];
      const p = toProblem(txErrorOf(code, 'd'));
      expect(p).toMatchObject({ type: expectedType(code, status), status, code, detail: `${code}: d`, ...details });
      expect(p.title).toMatch(new RegExp(`^Transaction rejected: ${code}`));
    });
  }

  const TRACE_EXPECTED: Record<TraceErrorCode, number> = {
    SCHEMA: 400,
    BAD_DOCUMENT: 400,
    BAD_EVENT: 400,
    NO_EVENTS: 400,
    UNKNOWN_EVENT_TYPE: 400,
    MISSING_TIMEZONE: 400,
    BAD_TIME: 400,
    BAD_EPC: 400,
    BAD_CHECK_DIGIT: 400,
    ILMD_NOT_ADD: 400,
    UNKNOWN_VOCABULARY: 400,
    TOO_MANY_EVENTS: 400,
    ROLE_VIOLATION: 403,
    FOREIGN_PREFIX: 403,
    BAD_EVENT_ID: 400,
    DUPLICATE_EVENT: 400,
  };
  for (const [code, status] of Object.entries(TRACE_EXPECTED) as [TraceErrorCode, number][]) {
    it(`trace ${code} → ${status}`, () => {
      expect(toProblem(new TraceError(code, 'd'))).toMatchObject({ status, code, type: expectedType(code, status) });
    });
  }

  it('STORE_DAMAGED: built in one place whatever says so, with the cure', () => {
    const cure = '; run tracechain audit, then tracechain reindex or re-sync from peers';
    for (const err of [storeDamaged('no main-chain block at height 3'), new StoreDamagedError('ab', 'is in the header index but not stored'), new StorageCorruptionError('blocks', '01', 'short')]) {
      const p = toProblem(err);
      expect(p).toMatchObject({ type: PROBLEM_BASE + 'store-damaged', title: 'Store damaged', status: 500, code: 'STORE_DAMAGED' });
      expect(p.detail.endsWith(cure)).toBe(true);
    }
  });

  it('STORE_UNWRITABLE: suspended writes and a full disk, with Retry-After 30; other failures STORE_UNAVAILABLE or a bare 500', () => {
    const suspended = toProblem(new StorageSuspendedError('connect', 'free space 10 MiB < 64 MiB'));
    const full = toProblem(new StorageWriteError('connect', new Error('IO error: ENOSPC: no space left on device')));
    const hook = toProblem(storeUnwritable('this node is not accepting writes: disk low'));
    for (const p of [suspended, full, hook]) {
      expect(p).toMatchObject({ type: PROBLEM_BASE + 'store-unwritable', status: 503, code: 'STORE_UNWRITABLE', retryAfterSeconds: 30 });
      expect(p.detail).toMatch(/; nothing was stored, retry later$/);
    }
    expect(toProblem(new StorageWriteError('connect', new Error('EIO')))).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    expect(toProblem(new StorageReadError('get', new Error('EIO')))).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
    const locked = toProblem(new StorageOpenError('LOCKED', '/d', 'locked'));
    expect(locked).toEqual({ type: 'epcisException:ImplementationException', title: 'Internal Server Error', status: 500, detail: 'the node failed to answer; see its log' });
  });

  it("a capture worker's problems use the same base and table, and are relayed as built", () => {
    const setup = { member: { id: 'aa'.repeat(20) }, secretKey: new Uint8Array(32), chainId: 'bb'.repeat(32), maxTxBytes: 1 << 20, maxEventsPerTx: 10 } as unknown as CaptureSetup;
    const bad = prepareCapture('{"type":', setup, 0);
    if (bad.ok) throw new Error('bad JSON was accepted');
    expect(bad.problem).toMatchObject({ type: 'epcisException:ValidationException', title: 'Body is not valid JSON', status: 400, code: 'BAD_JSON' });
    expect(toProblem(new RelayedProblem(bad.problem))).toEqual(bad.problem);
  });

  it('a parameter that is not a GS1 identifier: 400 with the trace code and the parameter', () => {
    const p = toProblem(new BadIdentifierError('epc', new TraceError('BAD_EPC', 'not an EPC URN')));
    expect(p).toMatchObject({ type: 'epcisException:ValidationException', title: 'Not a GS1 identifier', status: 400, code: 'BAD_EPC', detail: 'epc: not an EPC URN' });
    expect(p['errors']).toMatchObject([{ path: '/epc', code: 'BAD_EPC' }]);
  });
});
