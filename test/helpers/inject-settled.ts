/**
 * app.inject, asked again while the in-process server sheds the request (503 with Retry-After:
 * @fastify/under-pressure found this test process's event loop stalled, e.g. by the schema
 * compilation at ready() on a loaded machine). Such an answer says nothing about the route
 * under test; it is asked again after the next load sample (every 500 ms), a bounded number of
 * times, and the last answer is returned whatever it is.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

export async function injectSettled(app: FastifyInstance, opts: InjectOptions, tries = 20): Promise<LightMyRequestResponse> {
  let res = await app.inject(opts);
  for (let i = 0; i < tries && res.statusCode === 503 && res.headers['retry-after'] !== undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 600));
    res = await app.inject(opts);
  }
  return res;
}
