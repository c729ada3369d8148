/**
 * RFC 9457 problem details, and the one place that maps validation error codes to HTTP
 * status. Every error answer of the API goes through here.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BlockError, TxError } from '../chain/errors.js';

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

function kebab(code: string): string {
  return code.toLowerCase().replace(/_/g, '-');
}

/** Turn any error into a problem document. */
export function toProblem(err: unknown): Problem {
  if (err instanceof HttpProblem) {
    return { type: PROBLEM_BASE + kebab(err.code), title: err.title, status: err.status, detail: err.message, code: err.code, ...err.extensions };
  }
  if (err instanceof TxError) {
    const status = TX_STATUS[err.code];
    return { type: PROBLEM_BASE + kebab(err.code), title: `Transaction rejected: ${err.code}`, status, detail: err.message, code: err.code, ...err.details };
  }
  if (err instanceof BlockError) {
    return { type: PROBLEM_BASE + kebab(err.code), title: `Block rejected: ${err.code}`, status: 400, detail: err.message, code: err.code, ...err.details };
  }
  const fe = err as FastifyError;
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 600) {
    const code = fe.code ?? 'HTTP_ERROR';
    const status = fe.validation ? 400 : fe.statusCode;
    return {
      type: PROBLEM_BASE + kebab(fe.validation ? 'REQUEST_VALIDATION' : code.replace(/^FST_ERR_/, '')),
      title: fe.validation ? 'Request does not match the schema' : (fe.name ?? 'Error'),
      status,
      detail: fe.message,
      code: fe.validation ? 'REQUEST_VALIDATION' : code,
      ...(fe.validation ? { errors: fe.validation.map((v) => ({ path: v.instancePath, message: v.message ?? '' })) } : {}),
    };
  }
  return { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'the node failed to answer; see its log' };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: unknown): FastifyReply {
  const problem = toProblem(err);
  problem.instance = request.url;
  if (problem.status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: problem.code, status: problem.status }, 'request refused');
  if (problem.status === 503 && reply.getHeader('retry-after') === undefined) reply.header('retry-after', '1');
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
