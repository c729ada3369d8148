/**
 * Reading a signed tx's canonical JSON text (RFC 8785, as stored, read from LevelDB as a JS
 * string) without JSON.parse: where each of its events lies, so /trace can splice an event and its
 * proof tx into an answer. (Its tx ID, read the same way, is chain/tx.ts txIdOfCanonicalText: the
 * signed form has one owner.)
 *
 * In RFC 8785 order a signed tx's members are chain, eventIds, events, kind, sig, submitter,
 * time, v:
 *
 *     {"chain":"<64 hex>","eventIds":["ni:///sha-256;<64 hex>?ver=CBV2.0",…],"events":[{…},…],…,"sig":"<128 hex>",…}
 *
 * so the event IDs have a fixed width, and an event's extent is found by a scan that only tracks
 * strings and nesting. Anything without that shape answers undefined, and the caller takes the
 * slow, obvious way (decode or JSON.parse).
 */
const TX_HEAD = /^\{"chain":"[0-9a-f]{64}","eventIds":\[/;
const TX_HEAD_LENGTH = '{"chain":"'.length + 64 + '","eventIds":['.length;
/** `"ni:///sha-256;<64 hex>?ver=CBV2.0"`, matched where it must start. */
const EVENT_ID = /"ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0"/y;
const EVENT_ID_WIDTH = '"ni:///sha-256;'.length + 64 + '?ver=CBV2.0"'.length;
const EVENTS_MEMBER = ',"events":[';

/**
 * Where the events of one tx's canonical text are. Event extents are found lazily, as far as
 * the highest event asked for (a trace usually needs one event of a 100-event tx), and kept.
 */
export class TxEventIndex {
  /** [start, end) of each event found so far. */
  private readonly spans: Uint32Array;
  /** 1 for an event with an all-digit object key (see reorders()). */
  private readonly digitKeys: Uint8Array;
  /** Events whose extent is known. */
  private scanned = 0;
  /** Where event `scanned` (or the comma before it) starts. */
  private pos: number;
  /** The text stopped having the expected shape at event `scanned`. */
  private broken = false;

  constructor(
    private readonly text: string,
    /** Number of event IDs (and so of events). */
    readonly count: number,
    eventsAt: number,
  ) {
    this.spans = new Uint32Array(count * 2);
    this.digitKeys = new Uint8Array(count);
    this.pos = eventsAt;
  }

  get cost(): number {
    return 128 + this.spans.byteLength + this.digitKeys.byteLength;
  }

  /** Event ID k (without quotes), or undefined if it is not where the fixed layout puts it. */
  eventId(k: number): string | undefined {
    if (k < 0 || k >= this.count) return undefined;
    const at = TX_HEAD_LENGTH + k * (EVENT_ID_WIDTH + 1);
    EVENT_ID.lastIndex = at;
    if (!EVENT_ID.test(this.text)) return undefined;
    return this.text.slice(at + 1, at + EVENT_ID_WIDTH - 1);
  }

  /** Event k's canonical JSON (a slice of the tx text), or undefined if the text does not have the expected shape up to it. */
  event(k: number): string | undefined {
    if (k < 0 || k >= this.count || !this.scanTo(k)) return undefined;
    return this.text.slice(this.spans[2 * k] as number, this.spans[2 * k + 1] as number);
  }

  /**
   * Whether event k has an object key that is all digits: JSON.parse puts such (array-index)
   * keys first, so JSON.stringify(JSON.parse(canonical)) would not give the canonical text back.
   * Only after event(k) answered.
   */
  reorders(k: number): boolean {
    return this.digitKeys[k] === 1;
  }

  private scanTo(k: number): boolean {
    const t = this.text;
    const n = t.length;
    while (this.scanned <= k) {
      if (this.broken) return false;
      let p = this.pos;
      if (this.scanned > 0) {
        if (t.charCodeAt(p) !== 0x2c /* , */) return this.break();
        p++;
      }
      if (t.charCodeAt(p) !== 0x7b /* { */) return this.break();
      const start = p;
      let depth = 0;
      let digitKey = 0;
      for (; p < n; p++) {
        const c = t.charCodeAt(p);
        if (c === 0x22 /* " */) {
          const s0 = p + 1;
          let q = s0;
          for (;;) {
            q = t.indexOf('"', q);
            if (q < 0) return this.break();
            let b = q - 1;
            while (b >= s0 && t.charCodeAt(b) === 0x5c /* \ */) b--;
            if (((q - 1 - b) & 1) === 0) break; // an even run of backslashes: this quote ends the string
            q++;
          }
          if (q > s0 && t.charCodeAt(q + 1) === 0x3a /* : */ && allDigits(t, s0, q)) digitKey = 1;
          p = q;
        } else if (c === 0x7b || c === 0x5b) depth++;
        else if ((c === 0x7d || c === 0x5d) && --depth === 0) break;
      }
      if (p >= n) return this.break();
      const i = this.scanned;
      this.spans[2 * i] = start;
      this.spans[2 * i + 1] = p + 1;
      this.digitKeys[i] = digitKey;
      this.scanned++;
      this.pos = p + 1;
    }
    return true;
  }

  private break(): false {
    this.broken = true;
    return false;
  }
}

function allDigits(t: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** The index of a signed tx's canonical text, or undefined if its head does not have the canonical shape. */
export function indexTxEvents(text: string): TxEventIndex | undefined {
  if (!TX_HEAD.test(text)) return undefined;
  // The event IDs are fixed-width and contain no ']': the list ends at the first one.
  const idsEnd = text.indexOf(']', TX_HEAD_LENGTH);
  if (idsEnd < 0 || (idsEnd - TX_HEAD_LENGTH + 1) % (EVENT_ID_WIDTH + 1) !== 0) return undefined;
  const count = (idsEnd - TX_HEAD_LENGTH + 1) / (EVENT_ID_WIDTH + 1);
  if (count === 0 || !text.startsWith(EVENTS_MEMBER, idsEnd + 1)) return undefined;
  return new TxEventIndex(text, count, idsEnd + 1 + EVENTS_MEMBER.length);
}
