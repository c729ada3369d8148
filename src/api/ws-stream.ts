/**
 * Serves a notification stream over an accepted WebSocket: `open` starts the stream with a sink
 * that writes to the socket; the stream stops when the socket closes. A refusal after the upgrade
 * goes as the close code (4000 + the problem's HTTP status) and its reason. Shared by the named
 * queries' and the alerts' WebSocket routes.
 */
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from '@fastify/websocket';
import type { StreamSink } from './notify-port.js';
import { HttpProblem } from './problem.js';

export async function serveStream(socket: WebSocket, req: FastifyRequest, open: (sink: StreamSink) => Promise<() => void>): Promise<void> {
  let stop: (() => void) | undefined;
  let closed = false;
  socket.on('close', () => {
    closed = true;
    stop?.();
  });
  socket.on('error', (err: Error) => req.log.debug({ err: err.message }, 'websocket error'));
  try {
    stop = await open({
      send: (text) =>
        new Promise<void>((resolve, reject) => {
          socket.send(text, (err?: Error) => (err ? reject(err) : resolve()));
        }),
      buffered: () => socket.bufferedAmount,
      close: (code, reason) => socket.close(code, reason),
    });
    if (closed) stop();
  } catch (err) {
    const status = err instanceof HttpProblem ? err.status : 500;
    socket.close(4000 + status, (err as Error).message.slice(0, 120));
  }
}
