/**
 * RFC 9457 problem details, and the one place that maps validation error codes to HTTP
 * status. Every error answer of the API goes through here.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BlockError, StoreDamagedError, TxError } from '../common/errors.js';
import { TxLogError } from '../chain/tx-log.js';
import { StorageCorruptionError, StorageError } from '../storage/errors.js';
import { TraceError } from '../trace/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code?: string;
  [extension: string]: unknown;
}

export const PROBLEM_BASE = 'https://tracechain.dev/problems/';

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

const TX_STATUS: Record<TxError['code'], number> = {
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
};

/** Trace (EPCIS document) error codes that mean "not allowed for this member" rather than "invalid". */
const TRACE_FORBIDDEN: ReadonlySet<TraceError['code']> = new Set(['ROLE_VIOLATION', 'FOREIGN_PREFIX']);

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

/** Turn any error into a problem document. */
export function toProblem(err: unknown): Problem {
  if (err instanceof HttpProblem) {
    return { type: PROBLEM_BASE + kebab(err.code), title: err.title, status: err.status, detail: err.message, code: err.code, ...err.extensions };
  }
  if (err instanceof TraceError) {
    const forbidden = TRACE_FORBIDDEN.has(err.code);
    return {
      type: PROBLEM_BASE + kebab(err.code),
      title: forbidden ? `Not allowed for this member's role${err.rule !== undefined ? ` (rule ${err.rule})` : ''}` : 'Invalid EPCIS document',
      status: forbidden ? 403 : 400,
      detail: err.message,
      code: err.code,
      ...(err.rule !== undefined ? { rule: err.rule } : {}),
      errors: traceErrors(err.problems),
    };
  }
  if (err instanceof TxError) {
    const status = TX_STATUS[err.code];
    const problems = err.details.problems;
    const rule = err.details.rule;
    return {
      type: PROBLEM_BASE + kebab(err.code),
      title: `Transaction rejected: ${err.code}${typeof rule === 'string' ? ` (rule ${rule})` : ''}`,
      status,
      detail: err.message,
      code: err.code,
      ...err.details,
      ...(Array.isArray(problems) ? { errors: traceErrors(problems as { path: string; message: string; code?: string }[]) } : {}),
    };
  }
  if (err instanceof BlockError) {
    return { type: PROBLEM_BASE + kebab(err.code), title: `Block rejected: ${err.code}`, status: 400, detail: err.message, code: err.code, ...err.details };
  }
  if (err instanceof TxLogError) {
    // The tx was not made durable, so it was not acknowledged: it left the mempool again.
    const unwritable = err.code === 'TX_LOG_UNWRITABLE';
    return {
      type: PROBLEM_BASE + (unwritable ? 'store-unwritable' : kebab(err.code)),
      title: 'Service unavailable',
      status: 503,
      detail: `${err.message}; the tx was not accepted, retry later (capture is idempotent: if it was recorded after all, the answer says where)`,
      code: unwritable ? 'STORE_UNWRITABLE' : err.code,
      retryAfterSeconds: err.retryAfterSeconds,
    };
  }
  if (err instanceof StoreDamagedError || err instanceof StorageCorruptionError) {
    // Refuse to serve what the store cannot vouch for, and say what is wrong.
    return { type: PROBLEM_BASE + 'store-damaged', title: 'Store damaged', status: 500, detail: `${err.message}; run tracechain audit, then tracechain reindex or re-sync from peers`, code: 'STORE_DAMAGED' };
  }
  if (err instanceof StorageError && (err.code === 'WRITE_SUSPENDED' || (err.code === 'WRITE_FAILED' && /ENOSPC|no space left/i.test(err.message)))) {
    return {
      type: PROBLEM_BASE + 'store-unwritable',
      title: 'Service unavailable',
      status: 503,
      detail: `${err.message}; nothing was stored, retry later`,
      code: 'STORE_UNWRITABLE',
      retryAfterSeconds: 30,
    };
  }
  if (err instanceof StorageError && (err.code === 'WRITE_FAILED' || err.code === 'READ_FAILED')) {
    return { type: PROBLEM_BASE + 'store-unavailable', title: 'Service unavailable', status: 503, detail: err.message, code: 'STORE_UNAVAILABLE' };
  }
  const fe = err as FastifyError;
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 600) {
    const code = fe.code ?? 'HTTP_ERROR';
    const status = fe.validation ? 400 : fe.statusCode;
    return {
      type: PROBLEM_BASE + kebab(fe.validation ? 'REQUEST_VALIDATION' : code.replace(/^FST_ERR_/, '')),
      title: fe.validation ? 'Request does not match the schema' : (STATUS_TITLES[status] ?? fe.name ?? 'Error'),
      status,
      detail: fe.message,
      code: fe.validation ? 'REQUEST_VALIDATION' : code,
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
  if (problem.status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: problem.code, status: problem.status }, 'request refused');
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
