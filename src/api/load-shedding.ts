/**
 * Load shedding: what the node answers, logs and counts while @fastify/under-pressure finds it
 * overloaded (event loop delay over `api.maxEventLoopDelayMs`, heap over `api.maxHeapFraction`).
 *
 * Every shed request gets a 503 problem (`UNDER_PRESSURE`, Retry-After 1 s) naming the measure
 * that tripped. An episode (requests shed with no pause of `quietMs` between them) is logged
 * twice: one warning when it starts, with the measure, its value and the limit, and one line
 * when it ends, with how many requests were shed and for how long. Without this a node that
 * shed everything for a whole benchmark phase left no trace of why (docs/reliability.md).
 *
 * under-pressure reads the loop delay as the mean of a 10 ms-resolution histogram sampled every
 * 500 ms; a window with no sample at all (the loop never turned for ~500 ms) reads as Infinity.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { HttpProblem } from './problem.js';

export interface PressureLimits {
  maxEventLoopDelayMs: number;
  maxHeapUsedBytes: number;
}

export interface LoadShedderOptions {
  limits: PressureLimits;
  /** A pause in shedding this long ends an episode (default 2 s). */
  quietMs?: number;
}

export interface LoadShedderModules {
  log: Logger;
  /** Called for every shed request, with the measure that tripped (metrics). */
  onShed?: (measure: string) => void;
  now?: () => number;
}

interface Episode {
  startedAt: number;
  lastAt: number;
  shed: number;
  byMeasure: Map<string, number>;
  timer: NodeJS.Timeout;
}

const MIB = 1024 * 1024;

/** What a measure and its value mean, in words for the problem's detail and the log. */
export function describePressure(measure: string, value: number | undefined, limits: PressureLimits): string {
  switch (measure) {
    case 'eventLoopDelay':
      return value === undefined || !Number.isFinite(value)
        ? `the event loop did not turn during a whole 500 ms sample (limit ${limits.maxEventLoopDelayMs} ms of delay)`
        : `event loop delay ${Math.round(value)} ms over the limit of ${limits.maxEventLoopDelayMs} ms`;
    case 'heapUsedBytes':
      return `heap ${value === undefined ? '?' : Math.round(value / MIB)} MiB used, over the limit of ${Math.round(limits.maxHeapUsedBytes / MIB)} MiB`;
    default:
      return `${measure} over its limit`;
  }
}

export class LoadShedder {
  private episode: Episode | undefined;
  private readonly quietMs: number;
  private readonly now: () => number;

  constructor(
    private readonly opts: LoadShedderOptions,
    private readonly modules: LoadShedderModules,
  ) {
    this.quietMs = opts.quietMs ?? 2_000;
    this.now = modules.now ?? Date.now;
  }

  /**
   * under-pressure's `pressureHandler`: the promise it returns rejects with the problem, which
   * the API's error handler answers (a route may still set its own handler to pass through).
   */
  readonly handler = (_req: FastifyRequest, _reply: FastifyReply, measure: string, value: number | undefined): Promise<never> => {
    this.record(measure, value);
    return Promise.reject(this.problem(measure, value));
  };

  /** The 503 for a shed request. */
  problem(measure: string, value: number | undefined): HttpProblem {
    return new HttpProblem('UNDER_PRESSURE', `the node is overloaded and sheds requests: ${describePressure(measure, value, this.opts.limits)}; retry later`, {
      measure,
      retryAfterSeconds: 1,
    });
  }

  /** Requests shed in the current episode (0 when none is running). */
  get shedInEpisode(): number {
    return this.episode?.shed ?? 0;
  }

  close(): void {
    this.end();
  }

  private record(measure: string, value: number | undefined): void {
    this.modules.onShed?.(measure);
    const now = this.now();
    let e = this.episode;
    if (e === undefined) {
      const timer = setInterval(() => {
        if (this.now() - (this.episode?.lastAt ?? 0) >= this.quietMs) this.end();
      }, Math.max(50, Math.floor(this.quietMs / 2)));
      timer.unref();
      e = this.episode = { startedAt: now, lastAt: now, shed: 0, byMeasure: new Map(), timer };
      this.modules.log.warn(
        { measure, value: value !== undefined && Number.isFinite(value) ? Math.round(value) : null, limits: this.opts.limits },
        `shedding load: ${describePressure(measure, value, this.opts.limits)}`,
      );
    }
    e.lastAt = now;
    e.shed++;
    e.byMeasure.set(measure, (e.byMeasure.get(measure) ?? 0) + 1);
  }

  private end(): void {
    const e = this.episode;
    if (e === undefined) return;
    clearInterval(e.timer);
    this.episode = undefined;
    this.modules.log.info({ shed: e.shed, ms: e.lastAt - e.startedAt, byMeasure: Object.fromEntries(e.byMeasure) }, 'load shedding ended');
  }
}
