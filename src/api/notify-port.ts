/**
 * What the API's /queries routes (api/routes/queries.ts) ask of the notification service: named
 * queries, webhook subscriptions and WebSocket streams. notify/ implements it; node/ wires it in
 * as ApiContext.queries. Types only.
 */

/** A query schedule (the binding's query-schedule.json): each field a list of values and ranges. */
export interface QuerySchedule {
  second?: string;
  minute?: string;
  hour?: string;
  dayOfMonth?: string;
  month?: string;
  dayOfWeek?: string;
}

export interface NamedQueryView {
  name: string;
  /** The query as created: /events parameters, each a string or a list of strings. */
  query: Record<string, string | string[]>;
  createdAt: string;
}

export interface SubscriptionInput {
  dest: string;
  /** The secret the node signs each delivery with (HMAC-SHA256, GS1-Signature header). */
  signatureToken: string;
  stream?: boolean;
  schedule?: QuerySchedule;
  reportIfEmpty?: boolean;
  initialRecordTime?: string;
  /** Confirmations an event's block needs before it is delivered (default: the finality depth). */
  confirmations?: number;
}

export interface SubscriptionView extends DeliveryStateView {
  subscriptionID: string;
  queryName: string;
  dest: string;
  /** The secret, shown by its last 4 characters only. */
  signatureToken: string;
  stream: boolean;
  schedule?: QuerySchedule;
  reportIfEmpty: boolean;
  initialRecordTime: string;
  confirmations: number;
  createdAt: string;
}

/** What an alert subscription (or an alert stream) selects: every field given must match. Members by key ID or name. */
export interface AlertFilterInput {
  owner?: string;
  party?: string;
  /** gtin and lot together. */
  gtin?: string;
  lot?: string;
  /** Alert codes, any of them (e.g. RECALL). */
  codes?: string[];
  /** raised (an alert is raised), status (its lifecycle changes); default both. */
  events?: string[];
}

export interface AlertSubscriptionInput extends AlertFilterInput {
  dest: string;
  signatureToken: string;
  initialRecordTime?: string;
  confirmations?: number;
}

/**
 * A subscription's delivery state, as both kinds show it. For an alert subscription the cursor's
 * txIndex is the phase (0 raised, 1 status changes) and eventIndex the ordinal in it.
 */
export interface DeliveryStateView {
  lastNotifiedAt?: string;
  /** active: delivering or waiting for events; retrying: the last attempt failed; paused: stopped, see pausedReason. */
  status: 'active' | 'retrying' | 'paused';
  pausedReason?: string;
  /** The chain position after which everything matching has been delivered. */
  cursor: { height: number; txIndex: number; eventIndex: number; blockHash: string };
  /** The delivery being attempted, if any. */
  pending?: { deliveryId: string; events: number; attempts: number; lastError?: string };
  delivered: number;
}

export interface AlertSubscriptionView extends DeliveryStateView {
  subscriptionID: string;
  dest: string;
  signatureToken: string;
  filter: { owner?: string; party?: string; gtin?: string; lot?: string; codes?: string[]; events: string[] };
  initialRecordTime: string;
  confirmations: number;
  createdAt: string;
}

/** Where a WebSocket stream's messages go. */
export interface StreamSink {
  /** Send one message; resolves once it is handed to the socket. */
  send(text: string): Promise<void>;
  /** Bytes queued in the socket and not yet sent (a slow reader is dropped past a bound). */
  buffered(): number;
  close(code: number, reason: string): void;
}

/** The notification service's figures, read at each /metrics scrape. */
export interface NotifyStats {
  queries: number;
  /** Webhook subscriptions by status. */
  subscriptions: { active: number; retrying: number; paused: number };
  streams: number;
  /** Delivery attempts since start, by outcome (webhooks and WebSocket streams). */
  attempts: { delivered: number; failed: number };
  /** Events delivered since start. */
  eventsDelivered: number;
  /** The largest backlog of a webhook subscription: blocks between what it may be sent and its cursor. */
  maxBacklogBlocks: number;
}

export interface QueryService {
  /** Figures for /metrics. */
  stats(): NotifyStats;
  listQueries(): Promise<NamedQueryView[]>;
  getQuery(name: string): Promise<NamedQueryView | undefined>;
  /** Throws HttpProblem QUERY_EXISTS, QUERY_PARAMETER. */
  createQuery(name: string, query: Record<string, unknown>): Promise<NamedQueryView>;
  /** Deletes the query and its subscriptions; false when there is no such query. */
  deleteQuery(name: string): Promise<boolean>;
  /** Throws QUERY_NOT_FOUND. */
  listSubscriptions(queryName: string): Promise<SubscriptionView[]>;
  getSubscription(queryName: string, id: string): Promise<SubscriptionView | undefined>;
  /** Throws QUERY_NOT_FOUND, BAD_SUBSCRIPTION, BAD_DESTINATION, TOO_MANY_SUBSCRIPTIONS. */
  subscribe(queryName: string, input: SubscriptionInput): Promise<SubscriptionView>;
  unsubscribe(queryName: string, id: string): Promise<boolean>;
  /** Resume a paused subscription from its cursor; undefined when there is no such subscription. */
  resume(queryName: string, id: string): Promise<SubscriptionView | undefined>;
  /**
   * Stream the query's events to a WebSocket as the stream subscriptions deliver them (after
   * `confirmations`, from `initialRecordTime`). Returns the function that stops the stream.
   * Throws QUERY_NOT_FOUND, BAD_SUBSCRIPTION, TOO_MANY_SUBSCRIPTIONS.
   */
  openStream(queryName: string, opts: { initialRecordTime?: string; confirmations?: number }, sink: StreamSink): Promise<() => void>;

  /** Throws BAD_SUBSCRIPTION, BAD_DESTINATION, NOT_A_MEMBER, TOO_MANY_SUBSCRIPTIONS. */
  subscribeAlerts(input: AlertSubscriptionInput): Promise<AlertSubscriptionView>;
  listAlertSubscriptions(): AlertSubscriptionView[];
  getAlertSubscription(id: string): AlertSubscriptionView | undefined;
  unsubscribeAlerts(id: string): Promise<boolean>;
  resumeAlerts(id: string): Promise<AlertSubscriptionView | undefined>;
  /** Stream the alert happenings a subscription with this filter would be sent. Throws as subscribeAlerts. */
  openAlertStream(opts: AlertFilterInput & { initialRecordTime?: string; confirmations?: number }, sink: StreamSink): Promise<() => void>;
}
