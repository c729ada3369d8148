/**
 * A measuring HTTP/1.1 client that allocates nothing per response byte: one keep-alive TCP
 * connection per simulated client, reading into one reused buffer (net's `onread`), counting
 * the body against its Content-Length instead of keeping it.
 *
 * Why not node:http? Its client allocates a Buffer for every socket read. Reading ~190 KB /trace
 * answers at a few hundred per second, that churn set off a mark-compact in the bench process
 * every ~100 ms (pauses of up to ~9 ms plus marking steps of up to ~12 ms), and those pauses of
 * the *client* were most of the measured /trace p99. A bench must time the node, not itself.
 *
 * Only what the node sends: answers with Content-Length (never chunked), one request at a time
 * per connection. Anything else fails the request with a clear error.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** The start of the body (up to 4 KB) of a non-200 answer. */
  error?: string;
}

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const MAX_HEADER_BYTES = 16 * 1024;
const KEPT_ERROR_BYTES = 4096;

interface Pending {
  resolve(a: RawAnswer): void;
  reject(err: Error): void;
  /** Header bytes so far (only while the header spans several reads). */
  head: string;
  status: number;
  /** Body bytes still to come; -1 while the header is incomplete. */
  remaining: number;
  bytes: number;
  kept: string;
}

export class RawHttpConnection {
  private pending: Pending | undefined;
  private closed: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
  ) {
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by the node')));
  }

  static open(host: string, port: number, readBufferBytes = 256 * 1024): Promise<RawHttpConnection> {
    return new Promise((resolve, reject) => {
      let conn: RawHttpConnection | undefined;
      // Every read lands in this one buffer (the callback's argument is a view of it).
      const readBuf = Buffer.allocUnsafe(readBufferBytes);
      const socket = connect({ host, port, noDelay: true, onread: { buffer: readBuf, callback: (n) => (conn?.onRead(n, readBuf), true) } });
      conn = new RawHttpConnection(socket, host);
      socket.once('connect', () => resolve(conn as RawHttpConnection));
      socket.once('error', reject);
    });
  }

  /** GET path; resolves once the whole body has arrived. */
  get(path: string): Promise<RawAnswer> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    if (this.pending !== undefined) return Promise.reject(new Error('one request at a time per connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, head: '', status: 0, remaining: -1, bytes: 0, kept: '' };
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.host}\r\nConnection: keep-alive\r\n\r\n`, 'latin1');
    });
  }

  close(): void {
    this.closed ??= new Error('connection closed');
    this.socket.destroy();
  }

  private onRead(n: number, buf: Buffer): void {
    const p = this.pending;
    if (p === undefined) return this.fail(new Error(`${n} bytes from the node with no request pending`));
    let at = 0;
    if (p.remaining < 0) {
      // Header: usually whole in the first read; kept as text only while it spans reads.
      const chunk = buf.subarray(0, n);
      const joined = p.head === '' ? chunk : Buffer.concat([Buffer.from(p.head, 'latin1'), chunk]);
      const end = joined.indexOf(HEADER_END);
      if (end < 0) {
        if (joined.length > MAX_HEADER_BYTES) return this.fail(new Error('answer header over 16 KB'));
        p.head = joined.toString('latin1');
        return;
      }
      const head = joined.toString('latin1', 0, end);
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (status === null) return this.fail(new Error(`not an HTTP/1.1 answer: ${head.slice(0, 80)}`));
      if (length === null) return this.fail(new Error('answer without Content-Length (chunked answers are not supported here)'));
      p.status = Number(status[1]);
      p.remaining = Number(length[1]);
      at = end + HEADER_END.length - (joined.length - n); // where the body starts in this read
    }
    const body = n - at;
    if (body > p.remaining) return this.fail(new Error(`${body - p.remaining} bytes past the end of an answer`));
    if (p.status !== 200 && p.kept.length < KEPT_ERROR_BYTES) p.kept += buf.toString('utf8', at, Math.min(n, at + KEPT_ERROR_BYTES - p.kept.length));
    p.bytes += body;
    p.remaining -= body;
    if (p.remaining === 0) {
      this.pending = undefined;
      p.resolve({ status: p.status, bytes: p.bytes, ...(p.status !== 200 ? { error: p.kept } : {}) });
    }
  }

  private fail(err: Error): void {
    this.closed ??= err;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
