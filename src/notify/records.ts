/**
 * The records the notification service keeps in the node's store (named queries, subscriptions,
 * delivery cursors), their port, and the checks that read them back: a record that does not
 * parse is reported with its kind and name, never half-used.
 */
import type { Position } from '../api/query.js';
import type { QuerySchedule } from '../api/notify-port.js';

export type RecordKind = 'query' | 'subscription' | 'cursor' | 'alertSubscription';

/** The store the service keeps its records in (storage/notify-records.ts implements it). */
export interface RecordStore {
  list(kind: RecordKind): Promise<[string, string][]>;
  get(kind: RecordKind, name: string): Promise<string | undefined>;
  /** One atomic batch; value null deletes. */
  write(ops: readonly { kind: RecordKind; name: string; value: string | null }[], opts: { sync: boolean }): Promise<void>;
}

export interface NamedQuery {
  name: string;
  query: Record<string, string | string[]>;
  createdAt: string;
}

export interface SubscriptionRecord {
  id: string;
  queryName: string;
  dest: string;
  /** The subscriber's secret: read by the node to sign, never answered in full or logged. */
  secret: string;
  stream: boolean;
  schedule?: QuerySchedule;
  reportIfEmpty: boolean;
  initialRecordTime: string;
  confirmations: number;
  createdAt: string;
}

export type AlertEventKind = 'raised' | 'status';
export const ALERT_EVENT_KINDS: readonly AlertEventKind[] = ['raised', 'status'];

/** What an alert subscription selects; every field given must match (AND). */
export interface AlertSubscriptionFilter {
  /** Member ID of the owner (the manufacturer). */
  owner?: string;
  /** Member ID of a party (custodian, holder, submitter). */
  party?: string;
  lot?: { gtin: string; lot: string };
  /** Alert codes (any of them), e.g. RECALL. */
  codes?: string[];
  /** Which happenings: raised, status (a lifecycle change). */
  events: AlertEventKind[];
}

/** An alert subscription (notify/alert-feed.ts): its filter, destination and secret. Its cursor is a `cursor` record under the same ID. */
export interface AlertSubscriptionRecord {
  id: string;
  filter: AlertSubscriptionFilter;
  dest: string;
  /** The subscriber's secret: read by the node to sign, never answered in full or logged. */
  secret: string;
  initialRecordTime: string;
  confirmations: number;
  createdAt: string;
}

/** The delivery being attempted: events in (cursor, upTo], sent under `id` until the receiver takes it. */
export interface PendingDelivery {
  id: string;
  upTo: Position;
  /** Main-chain hash at upTo.height when the delivery was made. */
  upToHash: string;
  events: number;
  /** Creation time of the delivery (ms): the document's creationDate, the same on every attempt. */
  createdAt: number;
  attempts: number;
  firstFailureAt?: number;
  lastError?: string;
  /** An empty report (reportIfEmpty) rather than events. */
  empty?: boolean;
  /** Scheduled: the run this delivery finishes (the cursor's lastRun once delivered). */
  runAt?: number;
}

export interface CursorState {
  /** Every matching event at or before this position is delivered. */
  after: Position;
  /** Main-chain hash at after.height when the cursor was set ('' before the first block). */
  hash: string;
  pending?: PendingDelivery;
  /** Scheduled subscriptions: the last schedule time served (ms). */
  lastRun?: number;
  lastNotifiedAt?: string;
  paused?: { reason: string; since: string };
  delivered: number;
}

export class RecordError extends Error {
  constructor(kind: RecordKind, name: string, detail: string) {
    super(`stored ${kind} record ${JSON.stringify(name)} is damaged: ${detail}`);
  }
}

function obj(text: string, kind: RecordKind, name: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new RecordError(kind, name, 'not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RecordError(kind, name, 'not an object');
  return v as Record<string, unknown>;
}

function isPosition(v: unknown): v is Position {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return [p['height'], p['txIndex'], p['eventIndex']].every((n) => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff);
}

export function parseQueryRecord(name: string, text: string): NamedQuery {
  const o = obj(text, 'query', name);
  if (o['name'] !== name || typeof o['query'] !== 'object' || o['query'] === null || typeof o['createdAt'] !== 'string') throw new RecordError('query', name, 'fields missing');
  return o as unknown as NamedQuery;
}

export function parseSubscriptionRecord(id: string, text: string): SubscriptionRecord {
  const o = obj(text, 'subscription', id);
  const ok =
    o['id'] === id &&
    typeof o['queryName'] === 'string' &&
    typeof o['dest'] === 'string' &&
    typeof o['secret'] === 'string' &&
    typeof o['stream'] === 'boolean' &&
    typeof o['reportIfEmpty'] === 'boolean' &&
    typeof o['initialRecordTime'] === 'string' &&
    Number.isSafeInteger(o['confirmations']) &&
    typeof o['createdAt'] === 'string';
  if (!ok) throw new RecordError('subscription', id, 'fields missing or of the wrong type');
  return o as unknown as SubscriptionRecord;
}

export function parseCursorRecord(id: string, text: string): CursorState {
  const o = obj(text, 'cursor', id);
  if (!isPosition(o['after']) || typeof o['hash'] !== 'string' || !Number.isSafeInteger(o['delivered'])) throw new RecordError('cursor', id, 'fields missing or of the wrong type');
  const p = o['pending'] as Record<string, unknown> | undefined;
  if (p !== undefined && (typeof p['id'] !== 'string' || !isPosition(p['upTo']) || !Number.isSafeInteger(p['attempts']) || !Number.isSafeInteger(p['createdAt']))) {
    throw new RecordError('cursor', id, 'pending delivery malformed');
  }
  return o as unknown as CursorState;
}

export function parseAlertSubscriptionRecord(id: string, text: string): AlertSubscriptionRecord {
  const o = obj(text, 'alertSubscription', id);
  const f = o['filter'] as Record<string, unknown> | undefined;
  const ok =
    o['id'] === id &&
    typeof f === 'object' &&
    f !== null &&
    Array.isArray(f['events']) &&
    (f['events'] as unknown[]).every((e) => e === 'raised' || e === 'status') &&
    (f['codes'] === undefined || (Array.isArray(f['codes']) && (f['codes'] as unknown[]).every((c) => typeof c === 'string'))) &&
    ['owner', 'party'].every((k) => f[k] === undefined || typeof f[k] === 'string') &&
    typeof o['dest'] === 'string' &&
    typeof o['secret'] === 'string' &&
    typeof o['initialRecordTime'] === 'string' &&
    Number.isSafeInteger(o['confirmations']) &&
    typeof o['createdAt'] === 'string';
  if (!ok) throw new RecordError('alertSubscription', id, 'fields missing or of the wrong type');
  return o as unknown as AlertSubscriptionRecord;
}

/** The secret as answered: its last 4 characters only. */
export function maskSecret(secret: string): string {
  return `…${secret.slice(-4)}`;
}
