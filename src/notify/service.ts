/**
 * The notification service: named queries and their subscriptions kept in the node's store, one
 * Subscriber (subscriber.ts) per subscription delivering to its webhook, and WebSocket streams
 * of the same sequence. Implements the API's QueryService port (api/notify-port.ts); node/ wires
 * it to the store and the chain. Every subscriber runs on its own: a slow or dead destination
 * holds only its own single pending delivery, never the chain, capture, or other subscribers.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.js';
import type { HeaderEntry } from '../chain/store.js';
import { isQueryParameter, parseQuery, type QueryLimits, type RawQuery } from '../api/query.js';
import { HttpProblem } from '../api/problem.js';
import type { AlertFilterInput, AlertSubscriptionInput, AlertSubscriptionView, DeliveryStateView, NamedQueryView, NotifyStats, QueryService, StreamSink, SubscriptionInput, SubscriptionView } from '../api/notify-port.js';
import { parseTime } from '../trace/epcis-time.js';
import { checkDestination, loggableDestination } from './destination.js';
import { compileSchedule, ScheduleError } from './schedule.js';
import { endOf } from './scan.js';
import { epcisFeed, Subscriber, type DeliveryFeed, type DeliveryPolicy, type FeedHit, type Timer } from './subscriber.js';
import { alertFeed, type AlertHit } from './alert-feed.js';
import { ALERT_EVENT_KINDS, maskSecret, parseAlertSubscriptionRecord, parseCursorRecord, parseQueryRecord, parseSubscriptionRecord, RecordError, type AlertSubscriptionFilter, type AlertSubscriptionRecord, type CursorState, type NamedQuery, type RecordStore, type SubscriptionRecord } from './records.js';
import type { WebhookSender } from './webhook.js';
import { Limiter } from './limiter.js';

export interface NotifyOptions extends DeliveryPolicy {
  /** Accept plain-http destinations that are not loopback. */
  allowHttp: boolean;
  maxQueries: number;
  maxSubscriptions: number;
  maxStreams: number;
  /** Default confirmations of a subscription: the consortium's finality depth. */
  finalityDepth: number;
  /** Bytes a WebSocket may have queued before the node drops it as too slow. */
  maxStreamBuffer: number;
  limits: QueryLimits;
}

export interface NotifyModules {
  chain: Chain;
  records: RecordStore;
  send: WebhookSender;
  clock: () => number;
  logger: Logger;
  /** Retry and schedule timers (default: real, unref'd timeouts). */
  timer?: Timer;
}

const NAME = /^[A-Za-z0-9._~-]{1,128}$/;
const MAX_CONFIRMATIONS = 10_000;

/** A subscriber's delivery state as the API shows it (both kinds of subscription). */
function deliveryView<H extends FeedHit>(subscriber: Subscriber<H>): DeliveryStateView {
  const s = subscriber.state;
  const info = subscriber.pendingInfo;
  return {
    ...(s.lastNotifiedAt !== undefined ? { lastNotifiedAt: s.lastNotifiedAt } : {}),
    status: s.paused !== undefined ? 'paused' : subscriber.retrying ? 'retrying' : 'active',
    ...(s.paused !== undefined ? { pausedReason: s.paused.reason } : {}),
    cursor: { ...s.after, blockHash: s.hash },
    ...(s.pending !== undefined ? { pending: { deliveryId: s.pending.id, events: s.pending.events, ...info } } : {}),
    delivered: s.delivered,
  };
}

interface Live {
  record: SubscriptionRecord;
  subscriber: Subscriber;
}

interface AlertLive {
  record: AlertSubscriptionRecord;
  subscriber: Subscriber<AlertHit>;
}

const ALERT_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;
const MAX_ALERT_CODES = 50;

function badSub(detail: string): HttpProblem {
  return new HttpProblem('BAD_SUBSCRIPTION', detail);
}

/** Check a query's parameters as GET /events would, and give them as its raw query. */
export function checkQueryParameters(query: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(query)) {
    if (k === 'perPage' || k === 'nextPageToken') {
      throw new HttpProblem('QUERY_PARAMETER', `${k}: paging is not part of a named query (give it to GET /queries/{name}/events)`, { errors: [{ path: `/query/${k}`, message: 'paging parameter', code: 'QUERY_PARAMETER' }] });
    }
    if (k === 'orderBy' || k === 'orderDirection' || k === 'eventCountLimit' || k === 'maxEventCount') {
      throw new HttpProblem('QUERY_PARAMETER', `${k}: ordering and counting are GET /events's own; a named query is delivered in chain order`, { errors: [{ path: `/query/${k}`, message: 'not for a named query', code: 'QUERY_PARAMETER' }] });
    }
    if (!isQueryParameter(k)) {
      throw new HttpProblem('QUERY_PARAMETER', `${k}: not a query parameter this node supports (docs/api.md lists them)`, { errors: [{ path: `/query/${k}`, message: 'unsupported', code: 'QUERY_PARAMETER' }] });
    }
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
    else throw new HttpProblem('QUERY_PARAMETER', `${k}: give a string or a list of strings`, { errors: [{ path: `/query/${k}`, message: 'not a string or list of strings', code: 'QUERY_PARAMETER' }] });
  }
  parseQuery(out as RawQuery);
  return out;
}

export class NotifyService implements QueryService {
  private readonly live = new Map<string, Live>();
  private readonly alertLive = new Map<string, AlertLive>();
  private readonly streams = new Set<Subscriber<FeedHit>>();
  /** Each stream's query and how to end it (a deleted query ends its streams). */
  private readonly streamEnds = new Map<Subscriber<FeedHit>, { queryName: string; end: () => void }>();
  private readonly log: Logger;
  private readonly onTip = (): void => {
    for (const l of this.live.values()) l.subscriber.wake();
    for (const l of this.alertLive.values()) l.subscriber.wake();
    for (const s of this.streams) s.wake();
  };
  /** Serialises changes of the stored records (create/delete), not deliveries. */
  private changes: Promise<unknown> = Promise.resolve();
  private queryCount = 0;
  /** Chain scans of all subscriptions and streams, a few at a time. */
  private readonly scans = new Limiter(4);
  private readonly scan = <T>(task: () => Promise<T>): Promise<T> => this.scans.run(task);
  private readonly counts = { delivered: 0, failed: 0, events: 0 };

  constructor(
    private readonly opts: NotifyOptions,
    private readonly modules: NotifyModules,
  ) {
    this.log = modules.logger.child({ module: 'notify' });
  }

  /** Load the stored subscriptions and start delivering. */
  async start(): Promise<void> {
    const { records } = this.modules;
    const queries = new Map<string, NamedQuery>();
    // A damaged record stops only what it describes (logged with its kind and name), never the node.
    const damaged = (err: unknown): void => {
      if (!(err instanceof RecordError)) throw err;
      this.log.error({ err: err.message }, 'stored notification record damaged; skipped, the others start (DELETE /queries/{name} removes a damaged query)');
    };
    for (const [name, text] of await records.list('query')) {
      try {
        queries.set(name, parseQueryRecord(name, text));
      } catch (err) {
        damaged(err);
      }
    }
    const cursors = new Map<string, string>(await records.list('cursor'));
    for (const [id, text] of await records.list('subscription')) {
      try {
        const record = parseSubscriptionRecord(id, text);
        const query = queries.get(record.queryName);
        const cursorText = cursors.get(id);
        if (query === undefined || cursorText === undefined) {
          this.log.error({ subscription: id, query: record.queryName }, 'stored subscription lacks its query or cursor; not started');
          continue;
        }
        this.startSubscriber(record, query, parseCursorRecord(id, cursorText));
      } catch (err) {
        damaged(err);
      }
    }
    for (const [id, text] of await records.list('alertSubscription')) {
      try {
        const record = parseAlertSubscriptionRecord(id, text);
        const cursorText = cursors.get(id);
        if (cursorText === undefined) {
          this.log.error({ subscription: id }, 'stored alert subscription lacks its cursor; not started');
          continue;
        }
        this.startAlertSubscriber(record, parseCursorRecord(id, cursorText));
      } catch (err) {
        damaged(err);
      }
    }
    this.queryCount = queries.size;
    this.modules.chain.on('tip', this.onTip);
    this.log.info({ queries: queries.size, subscriptions: this.live.size, alertSubscriptions: this.alertLive.size }, 'notifications started');
  }

  async stop(): Promise<void> {
    this.modules.chain.off('tip', this.onTip);
    await Promise.all([...this.live.values(), ...this.alertLive.values()].map((l) => l.subscriber.stop()));
    await Promise.all([...this.streams].map((s) => s.stop()));
    this.live.clear();
    this.alertLive.clear();
    this.streams.clear();
    this.streamEnds.clear();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changes.then(fn, fn);
    this.changes = run.catch(() => undefined);
    return run;
  }

  private startSubscriber(record: SubscriptionRecord, query: NamedQuery, state: CursorState): void {
    const log = this.log.child({ subscription: record.id });
    const subscriber = new Subscriber(
      {
        id: record.id,
        feed: epcisFeed(this.modules.chain, record.queryName, query.query as RawQuery, this.opts.limits),
        confirmations: record.confirmations,
        ...(record.schedule !== undefined ? { schedule: compileSchedule(record.schedule) } : {}),
        reportIfEmpty: record.reportIfEmpty,
        createdAt: Date.parse(record.createdAt),
        policy: this.opts,
      },
      {
        chain: this.modules.chain,
        clock: this.modules.clock,
        scan: this.scan,
        ...(this.modules.timer !== undefined ? { timer: this.modules.timer } : {}),
        log,
        save: (s) => this.modules.records.write([{ kind: 'cursor', name: record.id, value: JSON.stringify(s) }], { sync: false }),
        send: ({ deliveryId, body }, events) => this.counted(events, () => this.modules.send({ dest: record.dest, secret: record.secret, subscriptionId: record.id, deliveryId, body })),
      },
      state,
    );
    this.live.set(record.id, { record, subscriber });
    subscriber.start();
  }

  /** One delivery attempt, counted for /metrics. */
  private async counted(events: number, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (err) {
      this.counts.failed++;
      throw err;
    }
    this.counts.delivered++;
    this.counts.events += events;
  }

  stats(): NotifyStats {
    const subscriptions = { active: 0, retrying: 0, paused: 0 };
    let maxBacklogBlocks = 0;
    for (const { subscriber } of [...this.live.values(), ...this.alertLive.values()]) {
      if (subscriber.state.paused !== undefined) subscriptions.paused++;
      else if (subscriber.retrying) subscriptions.retrying++;
      else subscriptions.active++;
      maxBacklogBlocks = Math.max(maxBacklogBlocks, subscriber.backlogBlocks);
    }
    return {
      queries: this.queryCount,
      subscriptions,
      streams: this.streams.size,
      attempts: { delivered: this.counts.delivered, failed: this.counts.failed },
      eventsDelivered: this.counts.events,
      maxBacklogBlocks,
    };
  }

  // ------------------------------------------------------------------ named queries

  async listQueries(): Promise<NamedQueryView[]> {
    const out: NamedQueryView[] = [];
    for (const [name, text] of await this.modules.records.list('query')) {
      try {
        out.push(parseQueryRecord(name, text));
      } catch (err) {
        if (!(err instanceof RecordError)) throw err;
        this.log.error({ err: err.message }, 'stored named query damaged; left out of the list');
      }
    }
    return out;
  }

  async getQuery(name: string): Promise<NamedQueryView | undefined> {
    if (!NAME.test(name)) return undefined;
    const text = await this.modules.records.get('query', name);
    return text === undefined ? undefined : parseQueryRecord(name, text);
  }

  private async queryOrThrow(name: string): Promise<NamedQuery> {
    const q = await this.getQuery(name);
    if (q === undefined) throw new HttpProblem('QUERY_NOT_FOUND', `no named query ${JSON.stringify(name)} (GET /queries lists them)`);
    return q;
  }

  createQuery(name: string, query: Record<string, unknown>): Promise<NamedQueryView> {
    return this.serial(async () => {
      if (!NAME.test(name)) throw new HttpProblem('QUERY_PARAMETER', 'name: 1 to 128 of A-Z a-z 0-9 . _ ~ -');
      const checked = checkQueryParameters(query);
      if ((await this.modules.records.get('query', name)) !== undefined) throw new HttpProblem('QUERY_EXISTS', `a query named ${JSON.stringify(name)} exists; delete it first or choose another name`);
      if ((await this.modules.records.list('query')).length >= this.opts.maxQueries) throw new HttpProblem('TOO_MANY_SUBSCRIPTIONS', `this node keeps at most ${this.opts.maxQueries} named queries (notify.maxQueries)`);
      const record: NamedQuery = { name, query: checked, createdAt: new Date(this.modules.clock()).toISOString() };
      await this.modules.records.write([{ kind: 'query', name, value: JSON.stringify(record) }], { sync: true });
      this.queryCount++;
      this.log.info({ query: name }, 'named query created');
      return record;
    });
  }

  deleteQuery(name: string): Promise<boolean> {
    return this.serial(async () => {
      if (!NAME.test(name) || (await this.modules.records.get('query', name)) === undefined) return false;
      const subs = [...this.live.values()].filter((l) => l.record.queryName === name);
      await Promise.all(subs.map((l) => l.subscriber.stop()));
      const ops = subs.flatMap((l) => [
        { kind: 'subscription' as const, name: l.record.id, value: null },
        { kind: 'cursor' as const, name: l.record.id, value: null },
      ]);
      await this.modules.records.write([...ops, { kind: 'query', name, value: null }], { sync: true });
      for (const l of subs) this.live.delete(l.record.id);
      for (const [, st] of [...this.streamEnds].filter(([, st]) => st.queryName === name)) st.end();
      this.queryCount = Math.max(0, this.queryCount - 1);
      this.log.info({ query: name, subscriptions: subs.length }, 'named query deleted with its subscriptions');
      return true;
    });
  }

  // ------------------------------------------------------------------ subscriptions

  private view(l: Live): SubscriptionView {
    const { record: r, subscriber } = l;
    return {
      subscriptionID: r.id,
      queryName: r.queryName,
      dest: r.dest,
      signatureToken: maskSecret(r.secret),
      stream: r.stream,
      ...(r.schedule !== undefined ? { schedule: r.schedule } : {}),
      reportIfEmpty: r.reportIfEmpty,
      initialRecordTime: r.initialRecordTime,
      confirmations: r.confirmations,
      createdAt: r.createdAt,
      ...deliveryView(subscriber),
    };
  }

  async listSubscriptions(queryName: string): Promise<SubscriptionView[]> {
    await this.queryOrThrow(queryName);
    return [...this.live.values()].filter((l) => l.record.queryName === queryName).map((l) => this.view(l));
  }

  async getSubscription(queryName: string, id: string): Promise<SubscriptionView | undefined> {
    const l = this.live.get(id);
    return l !== undefined && l.record.queryName === queryName ? this.view(l) : undefined;
  }

  /** The cursor of a new subscription: after the last main-chain block older than `from` (ms). */
  private async initialCursor(from: number): Promise<CursorState> {
    const { chain } = this.modules;
    const timeAt = async (h: number): Promise<number> => {
      const hash = await chain.store.getMainHash(h);
      const entry: HeaderEntry | undefined = hash === undefined ? undefined : chain.header(hash);
      return entry?.time ?? Number.POSITIVE_INFINITY;
    };
    let lo = 0;
    let hi = chain.tip.height;
    // Largest height whose block time is before `from` (block times rise along the chain, by the median-time rule).
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((await timeAt(mid)) < from) lo = mid;
      else hi = mid - 1;
    }
    return { after: endOf(lo), hash: (await chain.store.getMainHash(lo)) ?? '', delivered: 0 };
  }

  private checkInput(input: SubscriptionInput): { confirmations: number; initial: number; initialText: string } {
    if (typeof input.signatureToken !== 'string' || input.signatureToken.length < 16 || input.signatureToken.length > 1024) {
      throw badSub('signatureToken: give a secret of 16 to 1024 characters (the node signs each delivery with it, HMAC-SHA256 in GS1-Signature)');
    }
    const stream = input.stream === true;
    if (stream === (input.schedule !== undefined)) throw badSub('give either "stream": true or a "schedule", not both and not neither');
    if (stream && input.reportIfEmpty === true) throw badSub('reportIfEmpty applies to scheduled subscriptions only');
    if (input.schedule !== undefined) {
      try {
        compileSchedule(input.schedule);
      } catch (err) {
        if (err instanceof ScheduleError) throw badSub(err.message);
        throw err;
      }
    }
    const confirmations = input.confirmations ?? this.opts.finalityDepth;
    if (!Number.isSafeInteger(confirmations) || confirmations < 1 || confirmations > MAX_CONFIRMATIONS) throw badSub(`confirmations: a whole number from 1 to ${MAX_CONFIRMATIONS}`);
    let initial = this.modules.clock();
    if (input.initialRecordTime !== undefined) {
      const t = parseTime(input.initialRecordTime);
      if (t === undefined) throw badSub('initialRecordTime: an ISO 8601 date-time with a time zone, e.g. 2026-12-01T00:00:00Z');
      initial = t.ms;
    }
    return { confirmations, initial, initialText: new Date(initial).toISOString() };
  }

  subscribe(queryName: string, input: SubscriptionInput): Promise<SubscriptionView> {
    return this.serial(async () => {
      const query = await this.queryOrThrow(queryName);
      checkDestination(input.dest, { allowHttp: this.opts.allowHttp });
      const { confirmations, initial, initialText } = this.checkInput(input);
      if (this.live.size + this.alertLive.size >= this.opts.maxSubscriptions) throw new HttpProblem('TOO_MANY_SUBSCRIPTIONS', `this node delivers to at most ${this.opts.maxSubscriptions} subscriptions (notify.maxSubscriptions); delete one first`);
      const record: SubscriptionRecord = {
        id: randomUUID(),
        queryName,
        dest: input.dest,
        secret: input.signatureToken,
        stream: input.stream === true,
        ...(input.schedule !== undefined ? { schedule: input.schedule } : {}),
        reportIfEmpty: input.reportIfEmpty === true,
        initialRecordTime: initialText,
        confirmations,
        createdAt: new Date(this.modules.clock()).toISOString(),
      };
      const cursor = await this.initialCursor(initial);
      await this.modules.records.write(
        [
          { kind: 'subscription', name: record.id, value: JSON.stringify(record) },
          { kind: 'cursor', name: record.id, value: JSON.stringify(cursor) },
        ],
        { sync: true },
      );
      this.startSubscriber(record, query, cursor);
      this.log.info({ subscription: record.id, query: queryName, dest: loggableDestination(record.dest), stream: record.stream, confirmations }, 'subscription created');
      return this.view(this.live.get(record.id) as Live);
    });
  }

  unsubscribe(queryName: string, id: string): Promise<boolean> {
    return this.serial(async () => {
      const l = this.live.get(id);
      if (l === undefined || l.record.queryName !== queryName) return false;
      await l.subscriber.stop();
      await this.modules.records.write(
        [
          { kind: 'subscription', name: id, value: null },
          { kind: 'cursor', name: id, value: null },
        ],
        { sync: true },
      );
      this.live.delete(id);
      this.log.info({ subscription: id, query: queryName }, 'subscription deleted');
      return true;
    });
  }

  async resume(queryName: string, id: string): Promise<SubscriptionView | undefined> {
    const l = this.live.get(id);
    if (l === undefined || l.record.queryName !== queryName) return undefined;
    await l.subscriber.resume();
    return this.view(l);
  }

  // ------------------------------------------------------------------ WebSocket streams

  async openStream(queryName: string, opts: { initialRecordTime?: string; confirmations?: number }, sink: StreamSink): Promise<() => void> {
    const query = await this.queryOrThrow(queryName);
    const { confirmations, initial } = this.checkInput({ dest: 'ws:', signatureToken: 'x'.repeat(16), stream: true, ...opts });
    return this.stream(epcisFeed(this.modules.chain, queryName, query.query as RawQuery, this.opts.limits), confirmations, initial, sink, queryName);
  }

  /** A WebSocket stream of a feed: the sequence a stream subscription would be sent, no cursor kept. */
  private async stream(feed: DeliveryFeed, confirmations: number, initial: number, sink: StreamSink, queryName?: string): Promise<() => void> {
    if (this.streams.size >= this.opts.maxStreams) throw new HttpProblem('TOO_MANY_SUBSCRIPTIONS', `this node serves at most ${this.opts.maxStreams} WebSocket streams (notify.maxStreams)`);
    const id = randomUUID();
    const subscriber = new Subscriber(
      { id, feed, confirmations, reportIfEmpty: false, createdAt: this.modules.clock(), policy: this.opts },
      {
        chain: this.modules.chain,
        clock: this.modules.clock,
        scan: this.scan,
        ...(this.modules.timer !== undefined ? { timer: this.modules.timer } : {}),
        log: this.log.child({ stream: id }),
        save: async () => undefined,
        send: ({ body }, events) =>
          this.counted(events, async () => {
            if (sink.buffered() > this.opts.maxStreamBuffer) {
              sink.close(1013, 'reader too slow');
              void stop();
              throw new Error('reader too slow');
            }
            await sink.send(body);
          }),
      },
      await this.initialCursor(initial),
    );
    this.streams.add(subscriber);
    if (queryName !== undefined) {
      this.streamEnds.set(subscriber, {
        queryName,
        end: () => {
          sink.close(4404, `query ${queryName} was deleted`);
          void stop();
        },
      });
    }
    const stop = async (): Promise<void> => {
      this.streamEnds.delete(subscriber);
      if (!this.streams.delete(subscriber)) return;
      await subscriber.stop();
    };
    subscriber.start();
    return () => void stop();
  }

  // ------------------------------------------------------------------ alert subscriptions

  /** A member named by key ID or name; NOT_A_MEMBER otherwise. */
  private memberId(v: string, field: string): string {
    const { registry } = this.modules.chain;
    if (/^[0-9a-f]{40}$/.test(v) && registry.get(v) !== undefined) return v;
    const named = registry.all.find((m) => m.name === v);
    if (named !== undefined) return named.id;
    throw new HttpProblem('NOT_A_MEMBER', `${field}: ${v} is neither the key ID nor the name of a member of this consortium`);
  }

  /** The filter of an alert subscription or stream, checked: BAD_SUBSCRIPTION or NOT_A_MEMBER saying what is wrong. */
  private checkAlertFilter(input: AlertFilterInput): AlertSubscriptionFilter {
    const f: AlertSubscriptionFilter = { events: [...ALERT_EVENT_KINDS] };
    if (input.owner !== undefined) f.owner = this.memberId(input.owner, 'owner');
    if (input.party !== undefined) f.party = this.memberId(input.party, 'party');
    if ((input.gtin === undefined) !== (input.lot === undefined)) throw badSub('gtin and lot go together: a lot number is unique only within its GTIN');
    if (input.gtin !== undefined && input.lot !== undefined) {
      if (!/^[0-9]{8,14}$/.test(input.gtin)) throw badSub('gtin: 8 to 14 digits');
      if (input.lot.length < 1 || input.lot.length > 20) throw badSub('lot: 1 to 20 characters (GS1 AI 10)');
      f.lot = { gtin: input.gtin.padStart(14, '0'), lot: input.lot };
    }
    if (input.codes !== undefined) {
      if (!Array.isArray(input.codes) || input.codes.length === 0 || input.codes.length > MAX_ALERT_CODES || !input.codes.every((c) => typeof c === 'string' && ALERT_CODE.test(c))) {
        throw badSub(`codes: 1 to ${MAX_ALERT_CODES} alert codes such as RECALL or DISPENSED_TWICE (docs/alerts.md lists them)`);
      }
      f.codes = [...new Set(input.codes)].sort();
    }
    if (input.events !== undefined) {
      if (!Array.isArray(input.events) || input.events.length === 0 || !input.events.every((e) => (ALERT_EVENT_KINDS as readonly string[]).includes(e))) {
        throw badSub('events: a non-empty list of raised (an alert is raised) and status (its lifecycle changes)');
      }
      f.events = ALERT_EVENT_KINDS.filter((k) => (input.events as string[]).includes(k));
    }
    return f;
  }

  private alertView(l: AlertLive): AlertSubscriptionView {
    const { record: r, subscriber } = l;
    const f = r.filter;
    return {
      subscriptionID: r.id,
      dest: r.dest,
      signatureToken: maskSecret(r.secret),
      filter: {
        ...(f.owner !== undefined ? { owner: f.owner } : {}),
        ...(f.party !== undefined ? { party: f.party } : {}),
        ...(f.lot ? { gtin: f.lot.gtin, lot: f.lot.lot } : {}),
        ...(f.codes !== undefined ? { codes: f.codes } : {}),
        events: f.events,
      },
      initialRecordTime: r.initialRecordTime,
      confirmations: r.confirmations,
      createdAt: r.createdAt,
      ...deliveryView(subscriber),
    };
  }

  private startAlertSubscriber(record: AlertSubscriptionRecord, state: CursorState): void {
    const subscriber = new Subscriber<AlertHit>(
      { id: record.id, feed: alertFeed(this.modules.chain, record.filter), confirmations: record.confirmations, reportIfEmpty: false, createdAt: Date.parse(record.createdAt), policy: this.opts },
      {
        chain: this.modules.chain,
        clock: this.modules.clock,
        scan: this.scan,
        ...(this.modules.timer !== undefined ? { timer: this.modules.timer } : {}),
        log: this.log.child({ alertSubscription: record.id }),
        save: (s) => this.modules.records.write([{ kind: 'cursor', name: record.id, value: JSON.stringify(s) }], { sync: false }),
        send: ({ deliveryId, body }, events) => this.counted(events, () => this.modules.send({ dest: record.dest, secret: record.secret, subscriptionId: record.id, deliveryId, body })),
      },
      state,
    );
    this.alertLive.set(record.id, { record, subscriber });
    subscriber.start();
  }

  subscribeAlerts(input: AlertSubscriptionInput): Promise<AlertSubscriptionView> {
    return this.serial(async () => {
      checkDestination(input.dest, { allowHttp: this.opts.allowHttp });
      const filter = this.checkAlertFilter(input);
      const { confirmations, initial, initialText } = this.checkInput({ ...input, stream: true });
      if (this.live.size + this.alertLive.size >= this.opts.maxSubscriptions) throw new HttpProblem('TOO_MANY_SUBSCRIPTIONS', `this node delivers to at most ${this.opts.maxSubscriptions} subscriptions (notify.maxSubscriptions); delete one first`);
      const record: AlertSubscriptionRecord = {
        id: randomUUID(),
        filter,
        dest: input.dest,
        secret: input.signatureToken,
        initialRecordTime: initialText,
        confirmations,
        createdAt: new Date(this.modules.clock()).toISOString(),
      };
      const cursor = await this.initialCursor(initial);
      await this.modules.records.write(
        [
          { kind: 'alertSubscription', name: record.id, value: JSON.stringify(record) },
          { kind: 'cursor', name: record.id, value: JSON.stringify(cursor) },
        ],
        { sync: true },
      );
      this.startAlertSubscriber(record, cursor);
      this.log.info({ subscription: record.id, dest: loggableDestination(record.dest), filter, confirmations }, 'alert subscription created');
      return this.alertView(this.alertLive.get(record.id) as AlertLive);
    });
  }

  listAlertSubscriptions(): AlertSubscriptionView[] {
    return [...this.alertLive.values()].map((l) => this.alertView(l));
  }

  getAlertSubscription(id: string): AlertSubscriptionView | undefined {
    const l = this.alertLive.get(id);
    return l === undefined ? undefined : this.alertView(l);
  }

  unsubscribeAlerts(id: string): Promise<boolean> {
    return this.serial(async () => {
      const l = this.alertLive.get(id);
      if (l === undefined) return false;
      await l.subscriber.stop();
      await this.modules.records.write(
        [
          { kind: 'alertSubscription', name: id, value: null },
          { kind: 'cursor', name: id, value: null },
        ],
        { sync: true },
      );
      this.alertLive.delete(id);
      this.log.info({ subscription: id }, 'alert subscription deleted');
      return true;
    });
  }

  async resumeAlerts(id: string): Promise<AlertSubscriptionView | undefined> {
    const l = this.alertLive.get(id);
    if (l === undefined) return undefined;
    await l.subscriber.resume();
    return this.alertView(l);
  }

  async openAlertStream(opts: AlertFilterInput & { initialRecordTime?: string; confirmations?: number }, sink: StreamSink): Promise<() => void> {
    const filter = this.checkAlertFilter(opts);
    const { confirmations, initial } = this.checkInput({ dest: 'ws:', signatureToken: 'x'.repeat(16), stream: true, ...(opts.initialRecordTime !== undefined ? { initialRecordTime: opts.initialRecordTime } : {}), ...(opts.confirmations !== undefined ? { confirmations: opts.confirmations } : {}) });
    return this.stream(alertFeed(this.modules.chain, filter), confirmations, initial, sink);
  }
}
