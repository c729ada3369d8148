import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { RawHttpConnection } from '../../../bench/raw-http.js';

/** A TCP server answering each request line with what `answer` writes (raw bytes, possibly in pieces). */
async function rawServer(answer: (socket: Socket, path: string) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const path = /^GET (\S+) HTTP\/1\.1/.exec(buf)?.[1] ?? '?';
        buf = buf.slice(end + 4);
        answer(socket, path);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('RawHttpConnection (the query bench client)', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('counts bodies to their Content-Length over a kept-alive connection, large ones across many reads, headers split across reads', async () => {
    const big = Buffer.alloc(700_000, 0x61);
    const s = await rawServer((socket, path) => {
      if (path === '/big') {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`);
        socket.write(big);
      } else if (path === '/split') {
        socket.write('HTTP/1.1 200 OK\r\nconTent-lEngth: 5\r');
        setTimeout(() => socket.write('\n\r\nhello'), 20);
      } else {
        socket.write('HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\nContent-Length: 18\r\n\r\n{"code":"NO_SUCH"}');
      }
    });
    server = s.server;
    const c = await RawHttpConnection.open('127.0.0.1', s.port, 4096);
    expect(await c.get('/big')).toEqual({ status: 200, bytes: big.length });
    expect(await c.get('/split')).toEqual({ status: 200, bytes: 5 });
    expect(await c.get('/nope')).toEqual({ status: 404, bytes: 18, error: '{"code":"NO_SUCH"}' });
    expect(await c.get('/big')).toEqual({ status: 200, bytes: big.length });
    c.close();
    await expect(c.get('/big')).rejects.toThrow('closed');
  });

  it('fails clearly on what it does not support: chunked answers, bytes past an answer, a closed connection, two requests at once', async () => {
    const s = await rawServer((socket, path) => {
      if (path === '/chunked') socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
      else if (path === '/extra') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
      else if (path === '/slow') setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 50);
      else socket.destroy();
    });
    server = s.server;
    const open = () => RawHttpConnection.open('127.0.0.1', s.port);
    await expect((await open()).get('/chunked')).rejects.toThrow('without Content-Length');
    await expect((await open()).get('/extra')).rejects.toThrow('past the end');
    await expect((await open()).get('/drop')).rejects.toThrow('closed by the node');
    const c = await open();
    const first = c.get('/slow');
    await expect(c.get('/slow')).rejects.toThrow('one request at a time');
    expect(await first).toEqual({ status: 200, bytes: 0 });
    c.close();
  });
});
