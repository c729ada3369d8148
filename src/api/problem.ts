/**
 * RFC 9457 problem details, and the one place that maps error codes to HTTP status, title and
 * problem type: the API's own codes (API_PROBLEMS), chain/ and trace/ validation codes
 * (exhaustive tables over their code unions), storage failures. Every error answer of the API,
 * a capture worker's included, is built here.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BlockError, StoreDamagedError, TxError, type TxErrorCode } from '../common/errors.js';
import { TxLogError, type TxLogErrorCode } from '../chain/tx-log.js';
import { StorageError, type StorageErrorCode } from '../storage/errors.js';
import { TraceError, type TraceErrorCode } from '../trace/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code?: string;
  [extension: string]: unknown;
}

/** The one base of every problem `type`: base + the code in kebab case (`STORE_DAMAGED` → `…/store-damaged`). */
export const PROBLEM_BASE = 'https://tracechain.dev/problems/';

/**
 * Every code the API answers with for a reason of its own (not a validation error of chain/ or
 * trace/, which have their tables below), with its status and title.
 */
export const API_PROBLEMS = {
  // The request (capture bodies are parsed in a capture worker: api/capture-core.ts).
  BAD_ENCODING: { status: 400, title: 'Body is not UTF-8' },
  BAD_JSON: { status: 400, title: 'Body is not valid JSON' },
  BAD_XML: { status: 400, title: 'Body is not well-formed XML' },
  FORBIDDEN_PROPERTY: { status: 400, title: 'Body carries a forbidden property' },
  DUPLICATE_IN_DOCUMENT: { status: 400, title: 'Invalid EPCIS document' },
  OVERSIZE: { status: 413, title: 'Payload too large' },
  QUERY_PARAMETER: { status: 400, title: 'Bad query parameter' },
  QUERY_TOO_LARGE: { status: 413, title: 'Query result too large' },
  QUERY_TOO_COMPLEX: { status: 413, title: 'Query too complex to answer in order' },
  BAD_CAPTURE_BEHAVIOUR: { status: 400, title: 'Unsupported capture error behaviour' },
  BAD_EVENT_ID: { status: 400, title: 'Bad event ID' },
  BAD_SHARING: { status: 400, title: 'Unknown sharing mode' },
  BAD_BLOCK_ID: { status: 400, title: 'Bad block identifier' },
  NOT_A_MEMBER: { status: 400, title: 'Not a member' },
  BAD_SUBSCRIPTION: { status: 400, title: 'Bad subscription' },
  BAD_DESTINATION: { status: 400, title: 'Destination refused' },
  BAD_VERIFICATION_REQUEST: { status: 400, title: 'Bad verification request' },
  WEBSOCKET_REQUIRED: { status: 426, title: 'Upgrade required' },
  // Who asks.
  BAD_AUTHORIZATION: { status: 401, title: 'Authentication required' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  BAD_TOKEN: { status: 401, title: 'Authentication required' },
  TOKEN_EXPIRED: { status: 401, title: 'Authentication required' },
  TOKEN_REVOKED: { status: 401, title: 'Authentication required' },
  MISSING_SCOPE: { status: 403, title: 'Forbidden' },
  CORS_REFUSED: { status: 403, title: 'Forbidden' },
  NOT_ENTITLED: { status: 403, title: 'Forbidden' },
  AUDIT_UNAVAILABLE: { status: 409, title: 'No audit log' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  // What is asked for.
  NOT_FOUND: { status: 404, title: 'Not found' },
  TX_NOT_FOUND: { status: 404, title: 'Not found' },
  EVENT_NOT_FOUND: { status: 404, title: 'Not found' },
  NOT_PRIVATE: { status: 404, title: 'Not a private event' },
  BLOCK_NOT_FOUND: { status: 404, title: 'Block not found' },
  NO_NETWORK: { status: 409, title: 'No network' },
  BACKUP_RUNNING: { status: 409, title: 'A backup is already running' },
  NO_BACKUP: { status: 409, title: 'No backups' },
  // A capture job's reason (GET /capture/{id}), never an answer's status.
  CAPTURE_DROPPED: { status: 409, title: 'Capture not recorded' },
  QUERY_NOT_FOUND: { status: 404, title: 'Not found' },
  SUBSCRIPTION_NOT_FOUND: { status: 404, title: 'Not found' },
  QUERY_EXISTS: { status: 409, title: 'Query exists' },
  TOO_MANY_SUBSCRIPTIONS: { status: 409, title: 'Too many subscriptions' },
  GTIN_NOT_FOUND: { status: 404, title: 'Not found' },
  // Token management over HTTP (/admin/tokens, docs/security.md).
  TOKEN_API_OFF: { status: 409, title: 'Token management over HTTP is off' },
  TOKEN_API_ADMIN: { status: 403, title: 'Admin tokens are managed on the node' },
  TOKEN_EXISTS: { status: 409, title: 'Token exists' },
  TOKEN_ALREADY_REVOKED: { status: 409, title: 'Token revoked already' },
  UNKNOWN_TOKEN: { status: 404, title: 'Token not found' },
  BAD_TOKEN_SPEC: { status: 400, title: 'Invalid token request' },
  TOKEN_FILE_BUSY: { status: 409, title: 'The token file is being changed' },
  // Alerts and pack actions (api/routes/alerts.ts, api/scratch-check.ts).
  ALERT_NOT_FOUND: { status: 404, title: 'Not found' },
  BAD_SCRATCH_CODE: { status: 400, title: 'Not a scratch-off code' },
  NO_SCRATCH_CODE: { status: 404, title: 'No scratch-off code' },
  SCRATCH_CODE_WRONG: { status: 422, title: 'Wrong scratch-off code' },
  SCRATCH_CODE_RATE_LIMITED: { status: 429, title: 'Too many wrong scratch-off codes' },
  // This node.
  STORE_DAMAGED: { status: 500, title: 'Store damaged' },
  STORE_UNWRITABLE: { status: 503, title: 'Service unavailable' },
  STORE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  NO_SIGNER: { status: 503, title: 'Service unavailable' },
  NO_PRIVATE_STORE: { status: 503, title: 'Service unavailable' },
  CAPTURE_BUSY: { status: 503, title: 'Service unavailable' },
  INDEX_NOT_READY: { status: 503, title: 'Service unavailable' },
  SHUTTING_DOWN: { status: 503, title: 'Service unavailable' },
  TX_LOG_BUSY: { status: 503, title: 'Service unavailable' },
  TX_LOG_CLOSED: { status: 503, title: 'Service unavailable' },
  UNDER_PRESSURE: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ApiProblemCode = keyof typeof API_PROBLEMS;

/** An answer the API gives for a reason of its own: status and title come from API_PROBLEMS. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  constructor(
    readonly code: ApiProblemCode,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    ({ status: this.status, title: this.title } = API_PROBLEMS[code]);
  }
}

/** The one builder of STORE_DAMAGED: what is wrong, and the cure. */
export function storeDamaged(what: string): HttpProblem {
  return new HttpProblem('STORE_DAMAGED', `${what}; run tracechain audit, then tracechain reindex or re-sync from peers`);
}

/** The one builder of QUERY_PARAMETER (400 QueryParameterException): the parameter and what is wrong with it. */
export function queryParameterProblem(param: string, detail: string): HttpProblem {
  return new HttpProblem('QUERY_PARAMETER', `${param}: ${detail}`, { errors: [{ path: `/${param}`, message: detail, code: 'QUERY_PARAMETER' }] });
}

/** The one builder of STORE_UNWRITABLE (503, Retry-After 30 s): why writes are refused. */
export function storeUnwritable(why: string): HttpProblem {
  return new HttpProblem('STORE_UNWRITABLE', `${why}; nothing was stored, retry later`, { retryAfterSeconds: 30 });
}

/** A path or query parameter that is not a GS1 identifier (400 with the trace code). */
export class BadIdentifierError extends Error {
  constructor(
    readonly param: string,
    readonly reason: TraceError,
  ) {
    super(`${param}: ${reason.message.replace(/^[A-Z_]+: /, '')}`);
  }
}

/**
 * A problem document built by toProblem elsewhere (a capture worker answers with one) and
 * answered as it is.
 */
export class RelayedProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

const TX_STATUS: Readonly<Record<TxErrorCode, number>> = {
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

/** Trace (EPCIS document) codes: 403 means "not allowed for this member" rather than "invalid". */
const TRACE_STATUS: Readonly<Record<TraceErrorCode, 400 | 403>> = {
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

/**
 * Storage error code → the problem it is answered as (none: a bare 500, the node's own fault).
 * A failed write for want of disk space is STORE_UNWRITABLE, like a suspended one.
 */
const STORAGE_PROBLEM: Readonly<Record<StorageErrorCode, 'STORE_DAMAGED' | 'STORE_UNWRITABLE' | 'STORE_UNAVAILABLE' | null>> = {
  CORRUPTION: 'STORE_DAMAGED',
  WRITE_FAILED: 'STORE_UNAVAILABLE',
  WRITE_SUSPENDED: 'STORE_UNWRITABLE',
  READ_FAILED: 'STORE_UNAVAILABLE',
  LOCKED: null,
  SCHEMA_UNSUPPORTED: null,
  OPEN_FAILED: null,
  BAD_ARGUMENT: null,
  BAD_STATE: null,
};

/**
 * Tx log error code → the problem it is answered as. The tx was not made durable, so it was not
 * acknowledged (it left the mempool again): a 503 to retry, never a 202.
 */
const TX_LOG_PROBLEM: Readonly<Record<TxLogErrorCode, ApiProblemCode>> = {
  TX_LOG_UNWRITABLE: 'STORE_UNWRITABLE',
  TX_LOG_BUSY: 'TX_LOG_BUSY',
  TX_LOG_CLOSED: 'TX_LOG_CLOSED',
};

function txLogProblem(err: TxLogError): HttpProblem {
  return new HttpProblem(
    TX_LOG_PROBLEM[err.code],
    `${err.message}; the tx was not accepted, retry later (capture is idempotent: if it was recorded after all, the answer says where)`,
    { retryAfterSeconds: err.retryAfterSeconds },
  );
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  408: 'Request timeout',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** Every problem of a trace error as `errors: [{path, message, code}]`. */
function traceErrors(problems: readonly { path: string; message: string; code?: string }[]): { path: string; message: string; code: string }[] {
  return problems.map((p) => ({ path: p.path, message: p.message, code: p.code ?? 'INVALID' }));
}

function kebab(code: string): string {
  return code.toLowerCase().replace(/_/g, '-');
}

function storageProblem(err: StorageError): HttpProblem | undefined {
  const answer = err.code === 'WRITE_FAILED' && /ENOSPC|no space left/i.test(err.message) ? 'STORE_UNWRITABLE' : STORAGE_PROBLEM[err.code];
  switch (answer) {
    case 'STORE_DAMAGED':
      return storeDamaged(err.message);
    case 'STORE_UNWRITABLE':
      return storeUnwritable(err.message);
    case 'STORE_UNAVAILABLE':
      return new HttpProblem('STORE_UNAVAILABLE', err.message);
    case null:
      return undefined;
  }
}

/**
 * The GS1 EPCIS 2.0 REST binding's exception type of a 4xx answer (and of an unexplained 500):
 * what a client written to the standard matches on. `code` keeps the node's precise reason.
 * 429, 503 and the node's named 500s (STORE_DAMAGED) have no binding type and keep the node's.
 */
const BINDING_TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'ValidationException',
  401: 'SecurityException',
  403: 'SecurityException',
  404: 'NoSuchNameException',
  406: 'NotAcceptableException',
  409: 'ResourceAlreadyExistsException',
  413: 'CaptureLimitExceededException',
  414: 'URITooLongException',
  415: 'UnsupportedMediaTypeException',
};
const BINDING_TYPE_BY_CODE: Readonly<Record<string, string>> = { QUERY_PARAMETER: 'QueryParameterException', QUERY_TOO_LARGE: 'QueryTooLargeException', QUERY_TOO_COMPLEX: 'QueryTooComplexException' };
export const EPCIS_EXCEPTION = 'epcisException:';

export function bindingType(p: Problem): string {
  const named = (p.code !== undefined ? BINDING_TYPE_BY_CODE[p.code] : undefined) ?? BINDING_TYPE_BY_STATUS[p.status];
  if (named !== undefined) return EPCIS_EXCEPTION + named;
  if (p.status === 500 && p.type === 'about:blank') return EPCIS_EXCEPTION + 'ImplementationException';
  return p.type;
}

/** Turn any error into a problem document (its `type` the binding's exception where it names one). */
export function toProblem(err: unknown): Problem {
  const p = nodeProblem(err);
  p.type = bindingType(p);
  return p;
}

function nodeProblem(err: unknown): Problem {
  if (err instanceof StoreDamagedError) return toProblem(storeDamaged(err.message));
  if (err instanceof StorageError) {
    const p = storageProblem(err);
    if (p !== undefined) return toProblem(p);
  }
  if (err instanceof TxLogError) return toProblem(txLogProblem(err));
  if (err instanceof HttpProblem) {
    return { type: PROBLEM_BASE + kebab(err.code), title: err.title, status: err.status, detail: err.message, code: err.code, ...err.extensions };
  }
  if (err instanceof RelayedProblem) return { ...err.problem };
  if (err instanceof BadIdentifierError) {
    const code = err.reason.code;
    return {
      type: PROBLEM_BASE + kebab(code),
      title: 'Not a GS1 identifier',
      status: 400,
      detail: err.message,
      code,
      errors: [{ path: `/${err.param}`, message: 'give an EPC URN (urn:epc:id:sgtin:…) or a GS1 Digital Link (https://id.gs1.org/01/…/21/…), URL-encoded', code }],
    };
  }
  if (err instanceof TraceError) {
    const status = TRACE_STATUS[err.code];
    return {
      type: PROBLEM_BASE + kebab(err.code),
      title: status === 403 ? `Not allowed for this member's role${err.rule !== undefined ? ` (rule ${err.rule})` : ''}` : 'Invalid EPCIS document',
      status,
      detail: err.message,
      code: err.code,
      ...(err.rule !== undefined ? { rule: err.rule } : {}),
      errors: traceErrors(err.problems),
    };
  }
  if (err instanceof TxError) {
    const type = err.type;
    const events = 'problems' in type ? type : undefined;
    return {
      type: PROBLEM_BASE + kebab(err.code),
      title: `Transaction rejected: ${err.code}${events?.rule !== undefined ? ` (rule ${events.rule})` : ''}`,
      status: TX_STATUS[err.code],
      detail: err.message,
      code: err.code,
      ...err.details,
      ...(events !== undefined ? { errors: traceErrors(events.problems) } : {}),
    };
  }
  if (err instanceof BlockError) {
    return { type: PROBLEM_BASE + kebab(err.code), title: `Block rejected: ${err.code}`, status: 400, detail: err.message, code: err.code, ...err.details };
  }
  const fe = err as FastifyError;
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 600) {
    const code = fe.code ?? 'HTTP_ERROR';
    const status = fe.validation ? 400 : fe.statusCode;
    // A query string the route's schema refuses (an unknown or malformed parameter) is the
    // binding's QueryParameterException, like the parameters the query code itself refuses.
    const validation = fe.validationContext === 'querystring' ? 'QUERY_PARAMETER' : 'REQUEST_VALIDATION';
    return {
      type: PROBLEM_BASE + kebab(fe.validation ? validation : code.replace(/^FST_ERR_/, '')),
      title: fe.validation ? (validation === 'QUERY_PARAMETER' ? API_PROBLEMS.QUERY_PARAMETER.title : 'Request does not match the schema') : (STATUS_TITLES[status] ?? fe.name ?? 'Error'),
      status,
      detail: fe.message,
      code: fe.validation ? validation : code,
      ...(fe.validation
        ? { errors: fe.validation.map((v) => ({ path: `${fe.validationContext ?? ''}${v.instancePath}`, message: v.message ?? '', code: 'SCHEMA' })) }
        : {}),
    };
  }
  return { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'the node failed to answer; see its log' };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: unknown, observe?: (p: Problem) => void): FastifyReply {
  const problem = toProblem(err);
  observe?.(problem);
  problem.instance = request.url;
  // A shed request is logged once per episode by api/load-shedding.ts, not a line each.
  if (problem.code !== 'UNDER_PRESSURE') {
    if (problem.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: problem.code, status: problem.status }, 'request refused');
  }
  if (problem.status === 503 && reply.getHeader('retry-after') === undefined) {
    const seconds = typeof problem.retryAfterSeconds === 'number' ? problem.retryAfterSeconds : 1;
    reply.header('retry-after', String(seconds));
  }
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
  },
  additionalProperties: true,
} as const;
