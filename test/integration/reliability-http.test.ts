/**
 * Reliability, scenario 5: hostile HTTP clients. ≥ 1,000 malformed requests against a live,
 * mining node, plus slow clients: every answer is a 4xx/503 problem document, the node stays
 * up, its memory stays bounded and it keeps sealing blocks (the block rate is reported, not
 * asserted: speed is measured in bench/). Run twice: over plain HTTP with the operator's
 * all-scopes token, and over HTTPS (the run's test certificate, verified by the client) with a
 * capture-only scoped token, as a client system would hold (docs/security.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, startNode, stopAll, tempDir, waitFor, type NodeProc } from '../helpers/node-process.js';
import { captureSettled, commissionDoc, FAST, sleep, tipOf, tokenOf } from '../chaos/lib.js';
import { fuzzCorpus, judgeFuzzAnswer } from '../chaos/http-fuzz.js';
import { testTlsFiles } from '../helpers/test-tls.js';

const dirs: string[] = [];

async function rss(api: string): Promise<number> {
  const text = await (await fetch(api + '/metrics')).text();
  const m = /^tracechain_process_process_resident_memory_bytes ([0-9.e+]+)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

afterAll(async () => {
  stopAll();
  for (const d of dirs) await removeDir(d);
});

describe.each([{ scheme: 'http' }, { scheme: 'https' }])('reliability: hostile HTTP clients over $scheme', ({ scheme }) => {
  const tls = scheme === 'https';
  let node: NodeProc;
  let token = '';

  beforeAll(async () => {
    const dir = await tempDir('tracechain-rel-http-');
    dirs.push(dir);
    const cfg = join(dir, '..', `rel-http-${process.pid}-${scheme}.json`);
    await writeFile(cfg, JSON.stringify({ api: { requestTimeoutMs: 2_000 } }));
    node = await startNode(FAST.concat(['--config', cfg]), { dataDir: dir, tls, ...(tls ? { tokens: { 'dispensing-system': 'capture' } } : {}) });
    token = tls ? (node.tokens['dispensing-system'] as string) : await tokenOf(dir);
  });

  afterAll(async () => {
    await node?.kill();
  });

  it('answers every case of a 1,200-request fuzz corpus with a 4xx/503 problem document and keeps mining', async () => {
    const seed = Number(process.env.RELIABILITY_SEED ?? 7);
    const corpus = fuzzCorpus(seed, Number(process.env.RELIABILITY_FUZZ ?? 1200));
    await sleep(500);
    const rssBefore = await rss(node.api);
    const tip0 = await tipOf(node.api);
    const t0 = Date.now();
    const bad: string[] = [];
    const byStatus: Record<number, number> = {};
    let accepted = 0;
    let i = 0;
    const worker = async (): Promise<void> => {
      while (i < corpus.length) {
        const c = corpus[i++]!;
        const headers: Record<string, string> = {};
        if (c.auth) headers.authorization = `Bearer ${token}`;
        if (c.contentType !== undefined) headers['content-type'] = c.contentType;
        let res: Response;
        try {
          res = await fetch(node.api + c.path, { method: c.method, headers, ...(c.body ? { body: c.body } : {}), signal: AbortSignal.timeout(15_000) });
        } catch (err) {
          // The server may cut an oversized upload short; that is a refusal, not a crash.
          if (c.kind === 'oversized') continue;
          bad.push(`${c.kind} ${c.method} ${c.path}: ${(err as Error).message}`);
          continue;
        }
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
        const text = await res.text();
        // A mutation can leave a valid document (a changed letter in a string, a JSON media type
        // with parameters, an optional field the schema allows): 202 with a tx ID is then right.
        const verdict = judgeFuzzAnswer(c, res.status, res.headers.get('content-type') ?? '', text);
        if (!verdict.ok) bad.push(verdict.why);
        else if (verdict.accepted) accepted++;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const elapsed = Date.now() - t0;
    const tip1 = await tipOf(node.api);
    const rssAfter = await rss(node.api);
    const blocks = tip1.height - tip0.height;
    console.log(`reliability-http figures ${JSON.stringify({ seed, cases: corpus.length, elapsedMs: elapsed, byStatus, acceptedValidMutations: accepted, bad: bad.length, blocksDuringFuzz: blocks, meanBlockMs: Math.round(elapsed / Math.max(blocks, 1)), rssBeforeMB: Math.round(rssBefore / 1e6), rssAfterMB: Math.round(rssAfter / 1e6) })}`);
    expect(bad.slice(0, 20)).toEqual([]);
    expect((await node.get('/health')).status).toBe(200);
    // Memory bounded: no more than 200 MB growth after 1,200 hostile requests (bodies up to 9 MiB).
    expect(rssAfter - rssBefore).toBeLessThan(200e6);
    // Mining went on during the fuzz (the block rate itself is a figure above, not asserted:
    // speed is bench/'s job). Functional: at least one block was sealed while it ran...
    expect(blocks).toBeGreaterThan(0);
    // ...and the node still accepts a valid capture, and keeps sealing blocks after it (30 s is a
    // generous bound for a 200 ms block interval: it only tells "still mining" from "stopped").
    expect((await captureSettled(node.api, token, commissionDoc('after-fuzz'))).status).toBe(202);
    await waitFor('a block after the fuzz', async () => (await tipOf(node.api)).height > tip1.height, 30_000, 200);
  });

  it('slow clients are cut off with a timeout while others are served', async () => {
    const url = new URL(node.api);
    const sockets = Array.from({ length: 20 }, () => {
      const s = tls ? tlsConnect({ port: Number(url.port), host: url.hostname, ca: readFileSync(testTlsFiles().ca) }) : connect(Number(url.port), url.hostname);
      s.on('error', () => undefined);
      s.write(`POST /capture HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
      return s;
    });
    const closed = sockets.map((s) => new Promise<string>((r) => {
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('close', () => r(data));
    }));
    const drip = setInterval(() => sockets.forEach((s) => s.writable && s.write(' ')), 500);
    try {
      // Served while the slow clients hold their sockets: node.get gives up after 10 s, a
      // generous bound that only tells "answered" from "starved by the slow clients" (how fast
      // it answers is not asserted here).
      const res = await node.get('/health');
      expect(res.status).toBe(200);
      const answers = await Promise.race([Promise.all(closed), sleep(10_000).then(() => null)]);
      expect(answers, 'slow clients still connected after 10 s').not.toBeNull();
      for (const a of answers ?? []) if (a) expect(a).toMatch(/^HTTP\/1.1 (408|400)/);
    } finally {
      clearInterval(drip);
      sockets.forEach((s) => s.destroy());
    }
    expect((await node.get('/health')).status).toBe(200);
  });
});
