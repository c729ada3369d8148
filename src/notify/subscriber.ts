/**
 * One subscription's delivery loop. Its cursor is a chain position: every matching event at or
 * before it has been delivered. Each turn it either (re)sends the pending delivery — the events
 * in (cursor, upTo], under one delivery ID, the same on every attempt and after a restart — or,
 * when none is pending, makes the next one from the main chain's blocks that have the
 * subscription's confirmations (scan.ts). The pending delivery is written to the store before
 * the first attempt and the cursor after the receiver's 2xx, so a crash can repeat at most the
 * one delivery in flight, under the same ID. At most one delivery (of at most
 * maxEventsPerDelivery events) is held per subscriber: the backlog stays on the chain.
 *
 * Stream subscriptions deliver one event per delivery as soon as it is deep enough; scheduled
 * ones deliver what matched since the last run at each schedule time (an empty report when
 * reportIfEmpty). Failures are retried with exponential backoff; a subscriber that keeps failing
 * longer than pauseAfterMs, or falls more than maxBacklogBlocks behind while failing, is paused
 * with the reason (GET …/subscriptions/{id} shows it) until resumed.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.js';
import type { Position, QueryHit, QueryLimits, RawQuery } from '../api/query.js';
import type { CursorState, PendingDelivery } from './records.js';
import { comparePositions, deliverableHeight, endOf, nextBatch } from './scan.js';
import { nextRun, type CompiledSchedule } from './schedule.js';

export interface DeliveryPolicy {
  maxEventsPerDelivery: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pauseAfterMs: number;
  maxBacklogBlocks: number;
}

const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

/** One deliverable item of a feed: what it is is the feed's business; where it is in the chain is the subscriber's. */
export interface FeedHit {
  position: Position;
}

/**
 * What a subscriber delivers: the next items after a chain position (at most `max`, none above
 * `maxHeight`, in chain order; `scannedTo` says how far everything was examined) and the body of
 * a delivery of some of them. The EPCIS feed runs a named query (epcisFeed); notify/alert-feed.ts
 * reads the alert index.
 */
export interface DeliveryFeed<H extends FeedHit = FeedHit> {
  next(after: Position, maxHeight: number, max: number): Promise<{ hits: H[]; scannedTo: Position }>;
  document(hits: readonly H[], meta: { subscriptionId: string; createdAt: number }): string;
}

/** The feed of a named query: its events, each delivery an EPCISQueryDocument. */
export function epcisFeed(chain: Chain, queryName: string, query: RawQuery, limits: QueryLimits): DeliveryFeed<QueryHit> {
  return {
    next: (after, maxHeight, max) => nextBatch(chain, query, after, maxHeight, max, limits),
    document: (hits, meta) =>
      JSON.stringify({
        '@context': [EPCIS_CONTEXT],
        type: 'EPCISQueryDocument',
        schemaVersion: '2.0',
        creationDate: new Date(meta.createdAt).toISOString(),
        epcisBody: {
          queryResults: {
            queryName,
            subscriptionID: meta.subscriptionId,
            resultsBody: { eventList: hits.map((h) => (typeof h.event['eventID'] === 'string' ? h.event : { ...h.event, eventID: h.eventId })) },
          },
        },
      }),
  };
}

export interface SubscriberOptions<H extends FeedHit = FeedHit> {
  id: string;
  feed: DeliveryFeed<H>;
  confirmations: number;
  /** Undefined: a stream subscription. */
  schedule?: CompiledSchedule;
  reportIfEmpty: boolean;
  /** First schedule time is after this (ms): the subscription's creation. */
  createdAt: number;
  policy: DeliveryPolicy;
}

export interface SubscriberModules {
  chain: Chain;
  clock: () => number;
  log: Logger;
  /** Persist the cursor state (the store, or nothing for a WebSocket stream). */
  save(state: CursorState): Promise<void>;
  /** Runs a chain scan (bounded across subscriptions by the service: limiter.ts). */
  scan<T>(task: () => Promise<T>): Promise<T>;
  /** Send one delivery (of `events` events); resolves when the receiver took it, throws why not. */
  send(delivery: { deliveryId: string; body: string }, events: number): Promise<void>;
  /** Calls `fn` after `ms` (retries, schedules); returns the cancel. Default: an unref'd setTimeout (tests inject a virtual one). */
  timer?: Timer;
}

export type Timer = (fn: () => void, ms: number) => () => void;

/** The real timer: it never keeps the process alive on its own. */
export const realTimer: Timer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};


function positionText(p: Position): string {
  return `${p.height}.${p.txIndex}.${p.eventIndex}`;
}

/** A delivery's ID: fixed by the subscription and what it covers, so it is the same on every attempt. */
export function deliveryIdOf(subscriptionId: string, after: Position, upTo: Position, runAt?: number): string {
  const h = createHash('sha256').update(`${subscriptionId}|${positionText(after)}|${positionText(upTo)}|${runAt ?? ''}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class Subscriber<H extends FeedHit = FeedHit> {
  private stopped = false;
  private wakeWaiter: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
  /** Failures of the pending delivery since it last succeeded (memory only: a restart retries at once). */
  private attempts = 0;
  private firstFailureAt: number | undefined;
  private lastError: string | undefined;
  /** Scheduled: the run being served and whether it delivered anything yet. */
  private run: { at: number; sent: boolean } | undefined;
  private body: { id: string; text: string } | undefined;
  /** Waiting out a retry backoff: tip wakes are ignored. */
  private backingOff = false;

  constructor(
    private readonly opts: SubscriberOptions<H>,
    private readonly modules: SubscriberModules,
    public state: CursorState,
  ) {}

  start(): void {
    this.loop ??= this.runLoop();
  }

  /**
   * A new tip: look again now, unless the subscriber is backing off after a failed attempt (a new
   * block does not make a failing destination answer; the backoff holds). `force` (stop, resume)
   * ends a backoff too.
   */
  wake(force = false): void {
    if (this.backingOff && !force) return;
    this.woken = true;
    this.wakeWaiter?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake(true);
    await this.loop;
  }

  /** Blocks between what may be delivered and the cursor (0 when caught up). */
  get backlogBlocks(): number {
    return Math.max(0, this.deliverable() - this.state.after.height);
  }

  get retrying(): boolean {
    return this.attempts > 0;
  }

  get pendingInfo(): { attempts: number; lastError?: string } {
    return { attempts: this.attempts, ...(this.lastError !== undefined ? { lastError: this.lastError } : {}) };
  }

  async resume(): Promise<void> {
    if (this.state.paused === undefined) return;
    const hash = (await this.modules.chain.store.getMainHash(this.state.after.height)) ?? '';
    const { paused: _paused, ...rest } = this.state;
    this.state = { ...rest, hash };
    this.attempts = 0;
    this.firstFailureAt = undefined;
    await this.modules.save(this.state);
    this.wake(true);
  }

  /** Wait until woken, stopped, or `ms` passed (no timeout: until woken). */
  private wait(ms?: number): Promise<void> {
    if (this.woken || this.stopped) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const cancel = ms === undefined ? undefined : (this.modules.timer ?? realTimer)(done, Math.max(0, ms));
      const self = this;
      function done(): void {
        cancel?.();
        self.wakeWaiter = undefined;
        self.woken = false;
        resolve();
      }
      this.wakeWaiter = done;
    });
  }

  private async runLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.turn();
      } catch (err) {
        // A store or chain read/write failed (disk full, shutting down): nothing moved; try again later.
        this.modules.log.warn({ err: (err as Error).message }, 'subscription turn failed; retrying');
        await this.wait(this.opts.policy.retryMaxMs);
      }
    }
  }

  private async turn(): Promise<void> {
    if (this.state.paused !== undefined) {
      await this.wait();
      return;
    }
    if (this.state.pending !== undefined) {
      if (!(await this.attempt(this.state.pending)) && this.state.paused === undefined) {
        this.backingOff = true;
        this.woken = false;
        try {
          await this.wait(this.backoff());
        } finally {
          this.backingOff = false;
        }
      }
      return;
    }
    const schedule = this.opts.schedule;
    const more = await this.modules.scan(() => (schedule === undefined ? this.prepareStream() : this.prepareScheduled(schedule)));
    if (!more) await this.wait(this.opts.schedule === undefined ? undefined : this.untilNextRun(this.opts.schedule));
  }

  private backoff(): number {
    const { retryBaseMs, retryMaxMs } = this.opts.policy;
    const ms = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(30, this.attempts - 1));
    return Math.round(ms * (0.8 + 0.4 * Math.random()));
  }

  private untilNextRun(schedule: CompiledSchedule): number | undefined {
    const next = nextRun(schedule, this.state.lastRun ?? this.opts.createdAt);
    return next === undefined ? undefined : Math.max(0, next - this.modules.clock());
  }

  private async mainHash(height: number): Promise<string> {
    return (await this.modules.chain.store.getMainHash(height)) ?? '';
  }

  /** False (and paused) when the block under the cursor left the main chain: a reorg deeper than the confirmations. */
  private async cursorOnMain(): Promise<boolean> {
    if (this.state.hash === '' || (await this.mainHash(this.state.after.height)) === this.state.hash) return true;
    await this.pause(`block ${this.state.hash} at height ${this.state.after.height}, under the cursor, left the main chain (a reorganisation deeper than ${this.opts.confirmations} confirmations); resume to go on from the new main chain`);
    return false;
  }

  private async pause(reason: string): Promise<void> {
    this.state = { ...this.state, paused: { reason, since: new Date(this.modules.clock()).toISOString() } };
    this.modules.log.warn({ reason }, 'subscription paused');
    await this.modules.save(this.state);
  }

  private deliverable(): number {
    return deliverableHeight(this.modules.chain.tip.height, this.opts.confirmations);
  }

  /** Stream: the next matching event as a pending delivery, or the cursor moved past what did not match. True: look again at once. */
  private async prepareStream(): Promise<boolean> {
    if (!(await this.cursorOnMain())) return false;
    const maxHeight = this.deliverable();
    const batch = await this.opts.feed.next(this.state.after, maxHeight, 1);
    const hit = batch.hits[0];
    if (hit !== undefined) {
      await this.setPending(hit.position, 1);
      return true;
    }
    if (comparePositions(batch.scannedTo, this.state.after) > 0) {
      this.state = { ...this.state, after: batch.scannedTo, hash: await this.mainHash(batch.scannedTo.height) };
      await this.modules.save(this.state);
    }
    return comparePositions(batch.scannedTo, endOf(maxHeight)) < 0 && maxHeight <= this.modules.chain.tip.height;
  }

  /** Scheduled: at a due run, the events since the cursor (or an empty report) as a pending delivery. */
  private async prepareScheduled(schedule: CompiledSchedule): Promise<boolean> {
    const now = this.modules.clock();
    const due = this.run?.at ?? nextRun(schedule, this.state.lastRun ?? this.opts.createdAt);
    if (due === undefined || due > now) return false;
    this.run ??= { at: due, sent: false };
    if (!(await this.cursorOnMain())) return false;
    const maxHeight = this.deliverable();
    const max = this.opts.policy.maxEventsPerDelivery;
    const hits: H[] = [];
    let scannedTo = this.state.after;
    for (;;) {
      const batch = await this.opts.feed.next(scannedTo, maxHeight, max - hits.length);
      hits.push(...batch.hits);
      const moved = comparePositions(batch.scannedTo, scannedTo) > 0;
      scannedTo = batch.scannedTo;
      if (hits.length >= max || !moved || comparePositions(scannedTo, endOf(maxHeight)) >= 0) break;
    }
    const full = hits.length >= max;
    if (hits.length > 0) {
      await this.setPending(full ? (hits[hits.length - 1] as H).position : scannedTo, hits.length, full ? undefined : due);
      this.run.sent = true;
      return true;
    }
    if (this.opts.reportIfEmpty && !this.run.sent) {
      await this.setPending(scannedTo, 0, due, true);
      this.run.sent = true;
      return true;
    }
    this.state = { ...this.state, after: scannedTo, hash: await this.mainHash(scannedTo.height), lastRun: due };
    this.run = undefined;
    await this.modules.save(this.state);
    return false;
  }

  private async setPending(upTo: Position, events: number, runAt?: number, empty = false): Promise<void> {
    const pending: PendingDelivery = {
      id: deliveryIdOf(this.opts.id, this.state.after, upTo, empty ? runAt : undefined),
      upTo,
      upToHash: await this.mainHash(upTo.height),
      events,
      createdAt: this.modules.clock(),
      attempts: 0,
      ...(empty ? { empty: true } : {}),
      ...(runAt !== undefined ? { runAt } : {}),
    };
    this.state = { ...this.state, pending };
    await this.modules.save(this.state);
  }

  /** The pending delivery's document, rebuilt from the chain (the same events on every attempt). */
  private async document(p: PendingDelivery): Promise<string | undefined> {
    if (this.body?.id === p.id) return this.body.text;
    let hits: H[] = [];
    if (!p.empty) {
      const batch = await this.opts.feed.next(this.state.after, p.upTo.height, p.events);
      hits = batch.hits.filter((h) => comparePositions(h.position, p.upTo) <= 0);
    }
    if (hits.length !== p.events || (await this.mainHash(p.upTo.height)) !== p.upToHash) {
      await this.pause(`delivery ${p.id}: its ${p.events} event(s) up to block ${p.upToHash} are no longer on the main chain (a reorganisation deeper than ${this.opts.confirmations} confirmations)`);
      return undefined;
    }
    const text = this.opts.feed.document(hits, { subscriptionId: this.opts.id, createdAt: p.createdAt });
    this.body = { id: p.id, text };
    return text;
  }

  /** One attempt at the pending delivery. True: delivered (the cursor moved). */
  private async attempt(p: PendingDelivery): Promise<boolean> {
    const body = this.body?.id === p.id ? this.body.text : await this.modules.scan(() => this.document(p));
    if (body === undefined) return false;
    try {
      await this.modules.send({ deliveryId: p.id, body }, p.events);
    } catch (err) {
      const now = this.modules.clock();
      this.attempts++;
      this.firstFailureAt ??= now;
      this.lastError = (err as Error).message;
      this.modules.log.debug({ deliveryId: p.id, attempts: this.attempts, err: this.lastError }, 'delivery failed; will retry');
      const behind = this.deliverable() - this.state.after.height;
      if (now - this.firstFailureAt > this.opts.policy.pauseAfterMs) {
        await this.pause(`deliveries failed for ${Math.round((now - this.firstFailureAt) / 1000)} s (${this.attempts} attempts); last error: ${this.lastError}`);
      } else if (behind > this.opts.policy.maxBacklogBlocks) {
        await this.pause(`${behind} blocks behind while the destination fails (bound ${this.opts.policy.maxBacklogBlocks}); last error: ${this.lastError}`);
      }
      return false;
    }
    this.attempts = 0;
    this.firstFailureAt = undefined;
    this.lastError = undefined;
    const { pending: _done, ...rest } = this.state;
    const finished = p.runAt !== undefined;
    this.state = {
      ...rest,
      after: p.upTo,
      hash: p.upToHash,
      delivered: this.state.delivered + p.events,
      lastNotifiedAt: new Date(this.modules.clock()).toISOString(),
      ...(finished ? { lastRun: p.runAt } : {}),
    };
    if (finished) this.run = undefined;
    this.body = undefined;
    await this.modules.save(this.state);
    this.modules.log.debug({ deliveryId: p.id, events: p.events }, 'delivered');
    return true;
  }
}
