/**
 * The port for private event bodies (docs/confidentiality.md): what the API and the network need
 * of the node's private store (implemented in storage/private-bodies.ts). Bodies never enter
 * blocks: a node keeps those it is entitled to, each checked against its commitment first.
 */

/** A body as kept: the event's canonical text (RFC 8785) and its salt; both absent once purged. */
export interface StoredBody {
  commitment: string;
  /** Order of arrival in this store (1, 2, …): what a peer's "bodies after" request pages by. */
  seq: number;
  /** When this node stored it, ms since the epoch. */
  storedAt: number;
  /** Purged after the retention period: the commitment is kept, salt and event are gone. */
  purged: boolean;
  /** 32 bytes hex (empty when purged). */
  salt: string;
  /** JCS of the event (empty when purged). */
  eventText: string;
}

export interface NewBody {
  commitment: string;
  salt: string;
  eventText: string;
  /** The event's CBV 2.0 event ID, indexed so a capture of the same event again is found (docs/confidentiality.md). */
  eventId?: string;
}

export interface PrivateBodyStore {
  /** Store bodies not yet held (one synced batch); returns how many were new. */
  put(bodies: readonly NewBody[], now: number): Promise<number>;
  get(commitment: string): Promise<StoredBody | undefined>;
  /** The commitment of each CBV 2.0 event ID this store holds a body of, in order (undefined: none). */
  commitmentsOfEvents(eventIds: readonly string[]): Promise<(string | undefined)[]>;
  has(commitment: string): Promise<boolean>;
  /** Bodies stored after `seq`, in arrival order, at most `limit`. */
  after(seq: number, limit: number): Promise<StoredBody[]>;
  /** Drop salt and event of every body stored before `before` (ms), keeping its commitment; returns how many. */
  purge(before: number): Promise<number>;
  count(): Promise<number>;
  close(): Promise<void>;
}
