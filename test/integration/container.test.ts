/**
 * The real image, built and run (issue 19): podman builds the repository's Dockerfile unchanged
 * (test/container/build-image.sh; the base image named by its FROM is a local stand-in made by
 * test/container/base-image.sh where no registry is reachable), then
 *  - the image: runs as `node`, declares /data and the HEALTHCHECK, and holds no dev dependency,
 *    no test or source file, no secret;
 *  - one container: its HEALTHCHECK reports healthy, the node runs as uid 1000, and it writes
 *    nothing outside the /data volume;
 *  - the compose demo (docker-compose.yml through podman-compose): the manufacturer's container
 *    commissions and ships a pack, the wholesaler's receives and ships it on, the pharmacy's
 *    receives and dispenses it; the pharmacy's API shows it `dispensed` with proofs that
 *    `tracechain verify-proof`, run here outside the containers, accepts; `stop` and `start`
 *    keep the chain (volumes); a node killed with SIGKILL is restarted by its restart policy
 *    and its store audits clean.
 * Only the host's loopback is used from here (ports published on 127.0.0.1, picked by podman).
 * Without podman (or its kernel features, or the base image) the tests are skipped naming what
 * is missing; under CI they fail instead (test/helpers/prerequisites.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, runCli, tempDir, waitFor } from '../helpers/node-process.js';
import { SERVING_NODE_OPTIONS } from '../../src/node/gc-tuning.js';
import { baseImageName, CONTAINERS_CONF, findPodman, gate } from '../helpers/prerequisites.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const BASE = baseImageName(DOCKERFILE) ?? 'the Dockerfile has no FROM';
// The name docker-compose.yml gives the image (`image: tracechain:latest`), so compose uses it.
const IMAGE = 'localhost/tracechain:latest';
const RUN = `tc${process.pid}x${Date.now() % 1e6}`;
const PROJECT = `${RUN}c`; // the compose project
const SINGLE = `${RUN}-single`;
const MEMBERS = ['manufacturer', 'wholesaler', 'pharmacy'] as const;
type Member = (typeof MEMBERS)[number];
const container = (m: Member): string => `${PROJECT}_${m}_1`;

const prereq = gate(findPodman(BASE).missing);
const ENV = { ...process.env, CONTAINERS_CONF, TRACECHAIN_MANUFACTURER_PORT: '', TRACECHAIN_WHOLESALER_PORT: '', TRACECHAIN_PHARMACY_PORT: '' };

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command to completion (bounded); never throws on a non-zero exit. */
function sh(cmd: string, args: string[], timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: ENV, cwd: ROOT, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr: err !== null && typeof err.code !== 'number' ? `${stderr}\n${err.message}` : stderr });
    });
  });
}
const podman = (args: string[], timeoutMs?: number): Promise<Ran> => sh('podman', args, timeoutMs);
const compose = (args: string[], timeoutMs?: number): Promise<Ran> => sh('podman-compose', ['-p', PROJECT, '-f', join(ROOT, 'docker-compose.yml'), ...args], timeoutMs);

async function ok(p: Promise<Ran>, what: string): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim().slice(-2000)}`);
  return r.stdout;
}

async function inspect<T>(name: string, format: string): Promise<T> {
  return JSON.parse(await ok(podman(['inspect', '--format', `{{json ${format}}}`, name]), `podman inspect ${name}`)) as T;
}

/** The host port podman published for the container's 8080, as an API base URL on loopback. */
async function apiOf(name: string): Promise<string> {
  const out = (await ok(podman(['port', name, '8080']), `podman port ${name}`)).trim().split('\n')[0] ?? '';
  expect(out, `${name} publishes 8080 on the loopback only`).toMatch(/^127\.0\.0\.1:\d+$/);
  return `http://${out}`;
}

/** Runs the image's HEALTHCHECK (podman runs it on a timer only under systemd) until healthy. */
async function healthy(name: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(`${name} healthy`, async () => (await podman(['healthcheck', 'run', name], 30_000)).code === 0, timeoutMs, 1_000);
  expect(await inspect<{ Status: string }>(name, '.State.Health'), name).toMatchObject({ Status: 'healthy' });
}

/** What the container wrote outside its volumes: `podman diff`, less what podman itself makes. */
async function writtenOutsideVolumes(name: string): Promise<string[]> {
  const changes = JSON.parse(await ok(podman(['diff', '--format', 'json', name]), `podman diff ${name}`)) as Record<string, string[] | null>;
  const podmanMade = new Set(['/etc', '/etc/mtab', '/run', '/run/.containerenv']);
  return Object.entries(changes).flatMap(([kind, paths]) => (paths ?? []).filter((p) => !podmanMade.has(p)).map((p) => `${kind} ${p}`));
}

async function token(name: string): Promise<string> {
  return (await ok(podman(['exec', name, 'cat', '/data/api-token']), `read ${name}'s API token`)).trim();
}

async function capture(api: string, tok: string, events: Record<string, unknown>[]): Promise<string[]> {
  const doc = { '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList: events } };
  return waitFor(`a capture at ${api}`, async () => {
    const res = await fetch(`${api}/capture`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/ld+json' }, body: JSON.stringify(doc), signal: AbortSignal.timeout(20_000) });
    if (res.status === 503 || res.status === 429) return undefined; // shedding: ask again
    const text = await res.text();
    if (res.status !== 202) throw new Error(`capture at ${api} answered ${res.status}: ${text}`);
    return (JSON.parse(text) as { eventIds: string[] }).eventIds;
  }, 60_000, 500);
}

async function minedAt(api: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    await waitFor(`${id} in a block at ${api}`, async () => {
      const res = await fetch(`${api}/events/${encodeURIComponent(id)}/proof`, { signal: AbortSignal.timeout(10_000) });
      return res.status === 200 && ((await res.json()) as { block: unknown }).block !== null;
    }, 120_000, 500);
  }
}

/** GET a JSON answer; a node on a loaded machine may shed a request (503, 429): ask again. */
async function getJson<T>(url: string): Promise<T> {
  return waitFor(`GET ${url}`, async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (res.status === 503 || res.status === 429) return undefined;
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }, 30_000, 500);
}

let dir = '';
let buildSeconds = 0;

describe.skipIf(prereq.skip)(`the container image, built and run with podman${prereq.title}`, () => {
  beforeAll(async () => {
    prereq.check();
    dir = await tempDir('tracechain-container-');
    const t0 = Date.now();
    await ok(sh('bash', [join(ROOT, 'test/container/build-image.sh'), IMAGE], 1_500_000), 'building the image (test/container/build-image.sh)');
    buildSeconds = (Date.now() - t0) / 1000;
  }, 1_600_000);

  afterAll(async () => {
    await podman(['rm', '--force', '--volumes', '--time', '5', SINGLE]);
    await podman(['volume', 'rm', '--force', `${SINGLE}-data`]);
    // The project's containers with their anonymous volumes (init's /data), which `down -v`
    // leaves; then `down -v` for the named volumes; then whatever is left, and the network.
    const left = (await podman(['ps', '-a', '-q', '--filter', `label=io.podman.compose.project=${PROJECT}`])).stdout.split('\n').filter(Boolean);
    if (left.length > 0) await podman(['rm', '--force', '--volumes', '--time', '5', ...left], 180_000);
    await compose(['down', '-v', '-t', '5'], 180_000);
    const vols = (await podman(['volume', 'ls', '-q', '--filter', `name=${PROJECT}_`])).stdout.split('\n').filter(Boolean);
    if (vols.length > 0) await podman(['volume', 'rm', '--force', ...vols]);
    await podman(['network', 'rm', '--force', `${PROJECT}_default`]);
    if (dir) await removeDir(dir);
  }, 300_000);

  it('the image runs as node, declares /data and the HEALTHCHECK, and holds no dev dependency, test, source or secret', async () => {
    const size = Number((await ok(podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE]), 'podman image inspect')).trim());
    console.log(`container image ${IMAGE}: ${(size / 1e6).toFixed(0)} MB, built in ${buildSeconds.toFixed(0)} s (podman build, layer cache as this machine had it)`);
    const config = JSON.parse(await ok(podman(['image', 'inspect', IMAGE]), 'podman image inspect')) as [{ Config: { User: string; Volumes?: Record<string, unknown> }; Healthcheck?: { Test: string[] } }];
    expect(config[0].Config.User).toBe('node');
    expect(Object.keys(config[0].Config.Volumes ?? {})).toEqual(['/data']);
    expect(config[0].Healthcheck?.Test).toEqual(['CMD', 'node', '/app/docker/healthcheck.mjs']);

    // Every package the lockfile marks dev-only must be absent from the image's node_modules.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([p, v]) => p.startsWith('node_modules/') && v.dev === true).map(([p]) => p);
    expect(devOnly.length).toBeGreaterThan(10);
    const probe = `
      const fs = require('node:fs'), path = require('node:path');
      const dev = JSON.parse(process.argv[1]).filter((p) => fs.existsSync(path.join('/app', p, 'package.json')));
      const secretNames = new Set(['api-token', 'api-tokens.sha256', 'member.key', 'peer.key', 'swarm.key', '.npmrc', 'build-ca.pem', '.env']);
      const secrets = [], ours = [];
      const walk = (d) => {
        let entries = [];
        try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
        for (const e of entries) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) { if (!['/proc', '/sys', '/dev', '/data'].includes(p)) walk(p); continue; }
          if (secretNames.has(e.name) || (e.name === 'npmrc' && fs.statSync(p).size > 0)) secrets.push(p);
          if (p.startsWith('/app/') && !p.startsWith('/app/node_modules/') && (/\\.tsx?$/.test(p) && !p.endsWith('.d.ts') || /\\.(test|spec)\\.[cm]?[jt]s$/.test(p))) ours.push(p);
        }
      };
      walk('/');
      const present = ['/app/test', '/app/src', '/app/dist/test', '/app/.git', '/app/package-lock.json', '/app/assembly', '/root/.npm', '/data/genesis.json'].filter((p) => fs.existsSync(p));
      console.log(JSON.stringify({ dev, secrets, ours, present }));`;
    const out = await ok(podman(['run', '--rm', '--network', 'none', '--entrypoint', 'node', IMAGE, '-e', probe, JSON.stringify(devOnly)]), 'the image content probe');
    expect(JSON.parse(out.trim().split('\n').at(-1) ?? '{}')).toEqual({ dev: [], secrets: [], ours: [], present: [] });
  });

  it('one container: its HEALTHCHECK reports healthy, the node runs as uid 1000 and writes only to /data', async () => {
    await ok(podman(['run', '-d', '--name', SINGLE, '--publish', '127.0.0.1::8080', '--volume', `${SINGLE}-data:/data`, IMAGE]), 'podman run (one container)');
    await healthy(SINGLE);
    const api = await apiOf(SINGLE);
    expect((await fetch(`${api}/health`, { signal: AbortSignal.timeout(10_000) })).status).toBe(200);
    // PID 1 is the node itself (the entry script execs it), as uid/gid 1000 (`node`).
    const status = await ok(podman(['exec', SINGLE, 'cat', '/proc/1/status']), 'read PID 1 status');
    expect(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual(['1000', '1000']);
    // …with the serving node's V8 options (src/node/gc-tuning.ts).
    expect((await ok(podman(['exec', SINGLE, 'cat', '/proc/1/cmdline']), 'read PID 1 cmdline')).split('\0')).toEqual(['node', ...SERVING_NODE_OPTIONS, '/app/bin/tracechain.js', 'start', '']);
    const notNode = await ok(podman(['exec', SINGLE, 'find', '/data', '!', '-user', 'node']), 'find in /data');
    expect(notNode.trim()).toBe('');
    expect(await ok(podman(['exec', SINGLE, 'ls', '/data']), 'ls /data')).toMatch(/genesis\.json/);
    expect(await writtenOutsideVolumes(SINGLE)).toEqual([]);
    await ok(podman(['stop', '--time', '30', SINGLE], 60_000), 'podman stop');
    // SIGTERM: a clean shutdown, not a kill after the grace period.
    expect(await inspect<number>(SINGLE, '.State.ExitCode')).toBe(0);
  });

  describe('the compose demo: three organisations exchange a pack', () => {
    const run = String(Date.now() % 1e8).padStart(8, '0');
    const PACK = `urn:epc:id:sgtin:0614141.107346.C${run}`;
    const api = new Map<Member, string>();
    const tokens = new Map<Member, string>();
    let clock = Date.UTC(2025, 8, 1, 8);
    const ev = (fields: Record<string, unknown>, gln: string): Record<string, unknown> => {
      clock += 3_600_000;
      return { type: 'ObjectEvent', eventTime: new Date(clock).toISOString(), eventTimeZoneOffset: '+00:00', action: 'OBSERVE', epcList: [PACK], readPoint: { id: `urn:epc:id:sgln:0614141.00001.${gln}` }, ...fields };
    };
    interface Trace {
      status: string;
      events: { eventId: string; block: { hash: string; height: number } }[];
    }
    let before: Trace | undefined;

    async function allHealthy(): Promise<void> {
      for (const m of MEMBERS) await healthy(container(m), 180_000);
      for (const m of MEMBERS) api.set(m, await apiOf(container(m)));
    }

    it('init prepares the members once; the three nodes find each other by service name and are healthy', async () => {
      // podman-compose starts services one after the other without waiting for init's
      // completion (docker compose waits: depends_on condition), so init runs to its end first.
      await ok(compose(['up', '-d', '--no-build', 'init'], 180_000), 'podman-compose up init');
      expect((await ok(podman(['wait', `${PROJECT}_init_1`], 180_000), 'podman wait init')).trim()).toBe('0');
      await ok(compose(['up', '-d', '--no-build'], 300_000), 'podman-compose up');
      await allHealthy();
      for (const m of MEMBERS) {
        tokens.set(m, await token(container(m)));
        const peers = await getJson<{ peers: { addresses?: string[] }[] }>(`${api.get(m)}/peers`);
        expect(peers.peers, m).toHaveLength(2);
        // The bootstrap addresses init wrote are compose's DNS names.
        expect(await ok(podman(['exec', container(m), 'cat', '/data/bootstrap']), 'bootstrap')).toMatch(new RegExp(`^/dns4/(${MEMBERS.filter((x) => x !== m).join('|')})/tcp/4001/p2p/`, 'm'));
      }
    });

    it('manufacturer → wholesaler → pharmacy: the pharmacy shows the pack dispensed, and verify-proof here accepts its proofs', async () => {
      const stages: [Member, Record<string, unknown>[]][] = [
        ['manufacturer', [ev({ action: 'ADD', bizStep: 'commissioning', disposition: 'active', ilmd: { 'cbvmda:lotNumber': `L${run}`, 'cbvmda:itemExpirationDate': '2030-12-31' } }, '1'), ev({ bizStep: 'shipping', disposition: 'in_transit' }, '1')]],
        ['wholesaler', [ev({ bizStep: 'receiving', disposition: 'in_progress' }, '2'), ev({ bizStep: 'shipping', disposition: 'in_transit' }, '2')]],
        ['pharmacy', [ev({ bizStep: 'receiving', disposition: 'in_progress' }, '3'), ev({ bizStep: 'dispensing', disposition: 'dispensed' }, '3')]],
      ];
      for (const [who, events] of stages) {
        const ids = await capture(api.get(who) as string, tokens.get(who) as string, events);
        expect(ids).toHaveLength(events.length);
        // The next organisation acts once it has the previous one's events in a block.
        for (const m of MEMBERS) await minedAt(api.get(m) as string, ids);
      }
      const v = await getJson<{ status: string }>(`${api.get('pharmacy')}/verify?id=${encodeURIComponent(PACK)}`);
      expect(v.status).toBe('dispensed');
      const res = await fetch(`${api.get('pharmacy')}/trace/${encodeURIComponent(PACK)}`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(200);
      const text = await res.text();
      before = JSON.parse(text) as Trace;
      expect(before.status).toBe('dispensed');
      expect(before.events).toHaveLength(6);
      const file = join(dir, 'pack-trace.json');
      await writeFile(file, text);
      // The CLI of this checkout, on the host, against the manufacturer's main chain.
      const r = await runCli(['verify-proof', file, '--api', api.get('manufacturer') as string]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('all 6 proof(s) verified');
      // The same answer with the dispensing event altered is refused.
      const bad = JSON.parse(text) as { events: { event: Record<string, unknown> }[] };
      (bad.events.at(-1) as { event: Record<string, unknown> }).event.disposition = 'active';
      await writeFile(join(dir, 'altered.json'), JSON.stringify(bad));
      const refused = await runCli(['verify-proof', join(dir, 'altered.json'), '--api', api.get('manufacturer') as string]);
      expect(refused.code).toBe(1);
      expect(refused.stdout + refused.stderr).toContain('the event shown differs from the event in the tx');
      for (const m of MEMBERS) expect(await writtenOutsideVolumes(container(m)), m).toEqual([]);
    });

    it('stop and start keep the chain (volumes)', async () => {
      expect(before).toBeDefined();
      await ok(compose(['stop', '-t', '30'], 300_000), 'podman-compose stop');
      for (const m of MEMBERS) expect(await inspect<string>(container(m), '.State.Status'), m).toBe('exited');
      await ok(compose(['start'], 300_000), 'podman-compose start');
      await allHealthy();
      const after = await getJson<Trace>(`${api.get('pharmacy')}/trace/${encodeURIComponent(PACK)}`);
      expect(after.status).toBe('dispensed');
      expect(after.events.map((e) => [e.eventId, e.block.hash])).toEqual((before as Trace).events.map((e) => [e.eventId, e.block.hash]));
    });

    it('a node killed with SIGKILL is restarted by its restart policy, catches up and its store audits clean', async () => {
      const name = container('wholesaler');
      const pid = await inspect<number>(name, '.State.Pid');
      const restarts = await inspect<number>(name, '.RestartCount');
      expect(pid).toBeGreaterThan(1);
      process.kill(pid, 'SIGKILL'); // the node process itself, as the kernel's OOM killer would
      await waitFor(`${name} restarted`, async () => (await inspect<number>(name, '.RestartCount')) > restarts && (await inspect<boolean>(name, '.State.Running')), 120_000, 500);
      expect(await inspect<number>(name, '.State.Pid')).not.toBe(pid);
      await healthy(name, 180_000);
      const w = await apiOf(name);
      const t = await getJson<Trace>(`${w}/trace/${encodeURIComponent(PACK)}`);
      expect(t.events.map((e) => e.block.hash)).toEqual((before as Trace).events.map((e) => e.block.hash));
      // The store, checked with the node stopped (its LevelDB is single-writer).
      await ok(podman(['stop', '--time', '30', name], 60_000), `podman stop ${name}`);
      const audit = await podman(['run', '--rm', '--network', 'none', '--volume', `${PROJECT}_wholesaler-data:/data`, IMAGE, 'audit', '--data', '/data'], 120_000);
      expect(audit.code, audit.stdout + audit.stderr).toBe(0);
      expect(audit.stdout).toMatch(/^audit ok: \d+ blocks/m);
    });
  });
});
