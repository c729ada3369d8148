/**
 * Load shedding: what the node answers, logs and counts while it is overloaded: its event loop
 * stalled longer than `api.maxEventLoopDelayMs`, or its heap is over `api.maxHeapFraction`.
 *
 * Every shed request gets a 503 problem (`UNDER_PRESSURE`, Retry-After 1 s) naming the measure
 * that tripped. An episode (requests shed with no pause of `quietMs` between them) is logged
 * twice: one warning when it starts, with the measure, its value and the limit, and one line
 * when it ends, with how many requests were shed and for how long. Without this a node that
 * shed everything for a whole benchmark phase left no trace of why (docs/reliability.md).
 *
 * The loop delay is measured here (`LoopDelayProbe`: a 20 ms timer that records how late it
 * fires), not by @fastify/under-pressure, which only watches the heap. under-pressure's reading
 * (the mean of a 10 ms-resolution histogram over 500 ms) was wrong both ways on a busy 2-core
 * machine: a sample with no reading at all read as Infinity after any stall past ~500 ms
 * (requests shed under a 60 s limit), and a 2 s stall was once absent from the histogram
 * altogether (2 readings, mean 13 ms). While the probe's mean delay over the last one to two
 * seconds is over the limit, requests are shed. (Shedding on the longest single stall instead
 * was tried and shed requests for seconds after every one-off stall past 1 s on loaded CI.)
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
  /**
   * The event loop's mean delay (ms) over the last one to two seconds. Default: a
   * `LoopDelayProbe` the shedder starts and stops.
   */
  loopDelayMs?: () => number;
}

/**
 * Measures the event loop's delay: a timer every `intervalMs` records how late it fired. Keeps
 * the sum and count of those delays for the current and the previous `windowMs`, and answers
 * their mean over both (one to two windows). A sustained overload (every turn of the loop late)
 * reads as its delay; a single stall is diluted by the turns around it, because shedding after
 * a stall that is already over helps nobody. The timer is unref'd: it never keeps a process alive.
 */
export class LoopDelayProbe {
  private last: number;
  private cur = { sum: 0, n: 0 };
  private prev = { sum: 0, n: 0 };
  private windowStart: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly intervalMs = 20,
    private readonly windowMs = 1_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = this.windowStart = this.now();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** The mean delay (ms beyond the timer's interval) of the timer's turns in the last one to two windows; 0 before any. */
  recentMeanMs(): number {
    this.roll(this.now());
    const n = this.cur.n + this.prev.n;
    return n === 0 ? 0 : (this.cur.sum + this.prev.sum) / n;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const t = this.now();
    const late = Math.max(0, t - this.last - this.intervalMs);
    this.last = t;
    this.roll(t);
    this.cur.sum += late;
    this.cur.n++;
  }

  private roll(t: number): void {
    if (t - this.windowStart < this.windowMs) return;
    // A whole window or more passed: the current window becomes the previous one (or, after a
    // gap of two windows, both are forgotten).
    this.prev = t - this.windowStart < 2 * this.windowMs ? this.cur : { sum: 0, n: 0 };
    this.cur = { sum: 0, n: 0 };
    this.windowStart = t;
  }
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
      return `event loop delay ${value === undefined ? '?' : Math.round(value)} ms (mean over the last 1–2 s), over the limit of ${limits.maxEventLoopDelayMs} ms`;
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
  private readonly probe: LoopDelayProbe | undefined;
  private readonly loopDelayMs: () => number;

  constructor(
    private readonly opts: LoadShedderOptions,
    private readonly modules: LoadShedderModules,
  ) {
    this.quietMs = opts.quietMs ?? 2_000;
    this.now = modules.now ?? Date.now;
    if (modules.loopDelayMs !== undefined) {
      this.loopDelayMs = modules.loopDelayMs;
    } else if (opts.limits.maxEventLoopDelayMs <= 0) {
      this.loopDelayMs = () => 0;
    } else {
      const probe = (this.probe = new LoopDelayProbe());
      this.loopDelayMs = () => probe.recentMeanMs();
    }
  }

  /**
   * under-pressure's `pressureHandler` (the heap): the promise it returns rejects with the
   * problem, which the API's error handler answers.
   */
  readonly handler = (_req: FastifyRequest, _reply: FastifyReply, measure: string, value: number | undefined): Promise<never> => {
    this.record(measure, value);
    return Promise.reject(this.problem(measure, value));
  };

  /**
   * The loop-delay check for a request: undefined when the loop's recent mean delay is within the
   * limit (or the limit is 0, off), else the problem to answer (the request is counted as shed).
   */
  checkLoop(): HttpProblem | undefined {
    const limit = this.opts.limits.maxEventLoopDelayMs;
    if (limit <= 0) return undefined;
    const delay = this.loopDelayMs();
    if (delay <= limit) return undefined;
    this.record('eventLoopDelay', delay);
    return this.problem('eventLoopDelay', delay);
  }

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
    this.probe?.stop();
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
