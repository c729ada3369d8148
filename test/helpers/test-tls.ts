/**
 * A private CA for the integration tests' HTTPS nodes, made once per run (vitest globalSetup of
 * the integration project): a CA certificate and a loopback server certificate it signs
 * (localhost, 127.0.0.1), written to a temporary directory. The CA is added to the trust of
 * every test worker and every process they spawn through NODE_EXTRA_CA_CERTS (read by Node at
 * process start, which is why it is set here, before the workers fork), so `fetch`, the CLI and
 * the nodes' own clients verify the node's certificate as they would a real one: nothing in the
 * tests turns verification off. `startNode(args, { tls: true })` (node-process.ts) serves a
 * node's API with the server certificate.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCert } from '../../bench/x509.js';

/** Where the files are: set for the workers by the global setup. */
export const TEST_TLS_DIR_ENV = 'TRACECHAIN_TEST_TLS_DIR';

export interface TestTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** The files the global setup wrote (throws when it did not run: not the integration project). */
export function testTlsFiles(): TestTlsFiles {
  const dir = process.env[TEST_TLS_DIR_ENV];
  if (dir === undefined || dir === '') throw new Error(`${TEST_TLS_DIR_ENV} is not set: HTTPS nodes need the integration project's global setup (test/helpers/test-tls.ts)`);
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'api.crt'), key: join(dir, 'api.key') };
}

let made: string | undefined;

export async function setup(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tracechain-test-tls-'));
  made = dir;
  const ca = makeCert({ cn: 'tracechain integration test CA', kind: 'ca', days: 2 });
  const server = makeCert({ cn: 'tracechain integration test node', dns: ['localhost'], ips: ['127.0.0.1'], kind: 'server', issuer: ca, days: 2 });
  await writeFile(join(dir, 'ca.crt'), ca.certPem);
  await writeFile(join(dir, 'api.crt'), server.certPem + ca.certPem);
  await writeFile(join(dir, 'api.key'), server.keyPem, { mode: 0o600 });
  process.env[TEST_TLS_DIR_ENV] = dir;
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  // One extra-CA file only: keep a file the caller had set by joining both into ours.
  if (extra !== undefined && extra !== '') {
    const { readFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'extra-ca.crt'), (await readFile(extra, 'utf8')) + '\n' + ca.certPem);
    process.env.NODE_EXTRA_CA_CERTS = join(dir, 'extra-ca.crt');
  } else {
    process.env.NODE_EXTRA_CA_CERTS = join(dir, 'ca.crt');
  }
}

export async function teardown(): Promise<void> {
  if (made !== undefined) await rm(made, { recursive: true, force: true });
}
