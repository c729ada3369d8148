/** waitFor tells "not yet" from a failure, and names the last "not yet" error when time runs out. */
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isNoAnswer, waitFor } from './node-process.js';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let n = 0;
    await expect(waitFor('the third try', async () => (++n >= 3 ? n : false), 5_000, 1)).resolves.toBe(3);
  });

  it('fails at once on an error that is not "no answer", naming what it waited for', async () => {
    const t0 = Date.now();
    await expect(
      waitFor('a bug', async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'height')");
      }, 30_000, 10),
    ).rejects.toThrow("while waiting for a bug: Cannot read properties of undefined (reading 'height')");
    expect(Date.now() - t0).toBeLessThan(20_000); // far from the 30 s time-out: it did not poll on
  });

  it('fails at once on a failed assertion inside the check', async () => {
    await expect(
      waitFor('a wrong answer', async () => {
        expect(500).toBe(200);
        return true;
      }, 30_000, 10),
    ).rejects.toThrow(/while waiting for a wrong answer: expected 500 to be 200/);
  });

  it('polls on while the node does not answer, and names the last error when time runs out', async () => {
    const port = await closedPort();
    await expect(waitFor('a node that never starts', async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 300, 20)).rejects.toThrow(
      /timed out after 300 ms waiting for a node that never starts \(\d+ checks, \d+ got no answer; the last: TypeError: fetch failed \(ECONNREFUSED\)\)/,
    );
  });

  it('a caller may say which errors are "not yet"', async () => {
    let n = 0;
    const v = await waitFor('a flaky probe', async () => {
      if (++n < 3) throw new Error('probe not ready');
      return 'ready';
    }, 5_000, 1, { notYet: (err) => (err as Error).message === 'probe not ready' });
    expect(v).toBe('ready');
  });

  it('isNoAnswer: refused connections and time-outs only', async () => {
    const port = await closedPort();
    const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(isNoAnswer(refused)).toBe(true);
    expect(isNoAnswer(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    expect(isNoAnswer(new TypeError('x is not a function'))).toBe(false);
    expect(isNoAnswer(new Error('GET /blocks/tip answered 500'))).toBe(false);
  });
});
