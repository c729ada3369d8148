/**
 * Typed errors of the trace module. Every validation error carries a code (one place in api/
 * maps codes to HTTP status, one place in p2p/ to gossip verdicts) and the list of EVERY problem
 * found, so an HTTP 400 can show them all at once.
 */

export type TraceErrorCode =
  | 'SCHEMA'
  | 'BAD_DOCUMENT'
  | 'BAD_EVENT'
  | 'NO_EVENTS'
  | 'UNKNOWN_EVENT_TYPE'
  | 'MISSING_TIMEZONE'
  | 'BAD_TIME'
  | 'BAD_EPC'
  | 'BAD_CHECK_DIGIT'
  | 'ILMD_NOT_ADD'
  | 'UNKNOWN_VOCABULARY'
  | 'TOO_MANY_EVENTS'
  | 'ROLE_VIOLATION'
  | 'FOREIGN_PREFIX'
  | 'BAD_EVENT_ID'
  | 'DUPLICATE_EVENT';

export interface TraceProblem {
  /** JSON pointer-ish path into the submitted document, e.g. `/epcisBody/eventList/3/epcList/0`. */
  path: string;
  message: string;
  /** The code of this single problem (the error's code is the first problem's). */
  code?: TraceErrorCode;
}

export class TraceError extends Error {
  override readonly name = 'TraceError';
  readonly code: TraceErrorCode;
  readonly problems: TraceProblem[];
  /** For role errors: the name of the rule that refused the event. */
  readonly rule: string | undefined;

  constructor(code: TraceErrorCode, message: string, problems: TraceProblem[] = [], rule?: string) {
    super(`${code}: ${message}`);
    this.code = code;
    this.problems = problems.length > 0 ? problems : [{ path: '', message, code }];
    this.rule = rule;
  }

  /** Builds one error from a non-empty problem list; the code is the first problem's code. */
  static fromProblems(problems: TraceProblem[], fallback: TraceErrorCode = 'BAD_EVENT'): TraceError {
    const first = problems[0];
    const code = first?.code ?? fallback;
    const summary =
      problems.length === 1 && first
        ? `${first.path || '/'}: ${first.message}`
        : `${problems.length} problems, first: ${first ? `${first.path || '/'}: ${first.message}` : ''}`;
    return new TraceError(code, summary, problems);
  }
}

export function isTraceError(e: unknown): e is TraceError {
  return e instanceof TraceError;
}
