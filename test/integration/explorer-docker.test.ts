/**
 * Deployment checked without a container engine (container.test.ts builds and runs the image):
 *  - docker-compose.yml parses (YAML, and `docker-compose config`) into the three-organisation
 *    consortium the docs describe; the Dockerfile has the agreed shape. docker-compose comes
 *    from .ci/run; under CI its absence fails the test, elsewhere the test is skipped saying so.
 *  - The image's own scripts run here exactly as the containers run them: init-consortium.sh
 *    prepares three members, entrypoint.sh starts each node from TRACECHAIN_* variables and its
 *    bootstrap file; the three connect, a capture at the manufacturer is mined and seen at the
 *    pharmacy (and on its explorer page's API), healthcheck.mjs reports health, and a bad
 *    configuration stops the entry script before the node starts.
 *  - A fourth organisation joins by governance with the documented commands (docs/deploy.md):
 *    join-consortium.sh (docker-compose.join.yml's hospital-init) prepares it, the manufacturer
 *    proposes it, the wholesaler approves, and its node syncs and agrees on the 4 members.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ENV_OVERRIDES } from '../../src/node/config.js';
import { BIN, removeDir, tempDir, waitFor } from '../helpers/node-process.js';
import { findDockerCompose, need } from '../helpers/prerequisites.js';
import { fetchSettled } from '../helpers/retry.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = join(ROOT, 'docker/entrypoint.sh');
const INIT = join(ROOT, 'docker/init-consortium.sh');
const JOIN = join(ROOT, 'docker/join-consortium.sh');
const HEALTH = join(ROOT, 'docker/healthcheck.mjs');
const KNOWN_ENV = new Set([...ENV_OVERRIDES.map((o) => o.name), 'TRACECHAIN_CONFIG', 'TRACECHAIN_BIN', 'NODE_ENV']);

interface ComposeService {
  image?: string;
  build?: unknown;
  user?: string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  hostname?: string;
}

describe('docker-compose.yml and Dockerfile', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

  it('describes a three-organisation consortium prepared by a one-shot init service', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['init', 'manufacturer', 'pharmacy', 'wholesaler']);
    const init = compose.services.init as ComposeService;
    expect(init.entrypoint).toEqual(['/usr/local/bin/tracechain-init-consortium']);
    const members = (init.environment?.MEMBERS ?? '').split(' ').map((m) => m.split(':'));
    expect(members.map((m) => [m[0], m[1]])).toEqual([
      ['manufacturer', 'manufacturer'],
      ['wholesaler', 'wholesaler'],
      ['pharmacy', 'pharmacy'],
    ]);
    for (const name of ['manufacturer', 'wholesaler', 'pharmacy']) {
      const s = compose.services[name] as ComposeService;
      expect(s.depends_on?.init?.condition, name).toBe('service_completed_successfully');
      expect(s.volumes, name).toEqual([`${name}-data:/data`]);
      expect(init.volumes).toContain(`${name}-data:/consortium/${name}`);
      expect(s.hostname).toBe(name);
      // APIs on the host's loopback only
      expect(s.ports?.every((p) => p.startsWith('127.0.0.1:')), name).toBe(true);
      expect(s.healthcheck?.test).toEqual(['CMD', 'node', '/app/docker/healthcheck.mjs']);
      for (const k of Object.keys(s.environment ?? {})) expect(KNOWN_ENV.has(k), `${name}: ${k}`).toBe(true);
      expect(compose.volumes).toHaveProperty(`${name}-data`);
    }
    expect(compose.services.pharmacy?.environment?.TRACECHAIN_NO_MINE).toBe('1');
    expect(compose.services.manufacturer?.environment?.TRACECHAIN_NO_MINE).toBeUndefined();
  });

  it('is accepted by docker-compose config, alone and with the fourth organisation (docker-compose.join.yml)', (t) => {
    need(t, findDockerCompose().missing);
    for (const files of [['docker-compose.yml'], ['docker-compose.yml', 'docker-compose.join.yml']]) {
      const r = spawnSync('docker-compose', [...files.flatMap((f) => ['-f', join(ROOT, f)]), 'config', '-q'], { encoding: 'utf8', cwd: ROOT });
      expect(r.stderr, files.join(' + ')).toBe('');
      expect(r.status, files.join(' + ')).toBe(0);
    }
  });

  it('docker-compose.join.yml adds a fourth organisation: a one-shot join service and its node, beside the three', () => {
    const join4 = parse(readFileSync(join(ROOT, 'docker-compose.join.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
    expect(Object.keys(join4.services).sort()).toEqual(['hospital', 'hospital-init']);
    const init = join4.services['hospital-init'] as ComposeService;
    expect(init.entrypoint).toEqual(['/usr/local/bin/tracechain-join-consortium']);
    expect(init.volumes).toEqual(['hospital-data:/data', 'consortium:/consortium:ro']);
    expect(compose.volumes).toHaveProperty('consortium');
    const node = join4.services.hospital as ComposeService;
    expect(node.depends_on?.['hospital-init']?.condition).toBe('service_completed_successfully');
    expect(node.volumes).toEqual(['hospital-data:/data']);
    expect(node.ports?.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    for (const k of Object.keys(node.environment ?? {})) expect(KNOWN_ENV.has(k), k).toBe(true);
    expect(join4.volumes).toHaveProperty('hospital-data');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^COPY docker\/join-consortium\.sh \/usr\/local\/bin\/tracechain-join-consortium$/m);
  });

  it('builds a multi-stage Node 24 image that runs as a non-root user with a data volume and a health check', () => {
    const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const froms = [...df.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
    expect(df).toMatch(/^FROM node:24-bookworm-slim AS build$/m);
    expect(df).toMatch(/^USER node$/m);
    expect(df).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(df).toMatch(/^HEALTHCHECK .*healthcheck\.mjs/m);
    expect(df).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/tracechain-entrypoint"\]$/m);
    for (const m of df.matchAll(/^ENV\s+([\s\S]*?)(?=^\S)/gm)) {
      for (const k of (m[1] as string).matchAll(/(?:^|\s)([A-Z][A-Z0-9_]*)=/g)) expect(KNOWN_ENV.has(k[1] as string), k[1]).toBe(true);
    }
    // Everything the build copies from the context exists, and .dockerignore keeps it out of nothing needed.
    for (const m of df.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of (m[1] as string).split(/\s+/)) expect(existsSync(join(ROOT, src)), src).toBe(true);
    }
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toContain('node_modules');
    for (const needed of ['src', 'assets', 'bin', 'docker', 'bench', 'assembly', 'package.json']) expect(ignored).not.toContain(needed);
  });
});

// ------------------------------------------------------------------------------------------------

interface Running {
  name: string;
  proc: ChildProcess;
  api: string;
  data: string;
  logs: string[];
}

const running: Running[] = [];

function startEntry(name: string, env: Record<string, string>): Promise<Running> {
  const proc = spawn('sh', [ENTRY, 'start'], { env: { ...process.env, TRACECHAIN_BIN: BIN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const r: Running = { name, proc, api: '', data: env.TRACECHAIN_DATA as string, logs };
  running.push(r); // stopped in afterAll even if it never reports ready
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not start:\n${logs.join('\n')}`));
    }, 60_000);
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        try {
          const rec = JSON.parse(line) as { msg?: string; api?: string };
          if (rec.msg === 'node started' && rec.api) {
            clearTimeout(timer);
            r.api = rec.api;
            resolve(r);
          }
        } catch {
          // not JSON
        }
      }
    });
    proc.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${logs.join('\n')}`));
    });
  });
}

function runScript(script: string, args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', [script, ...args], { env: { ...process.env, TRACECHAIN_BIN: BIN, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the image scripts, run as the containers run them', () => {
  let root: string;
  const base = 2000 + Math.floor(Math.random() * 4000); // p2p ports base*10 + index
  const names = ['manufacturer', 'wholesaler', 'pharmacy'];
  let nodes: Running[];

  beforeAll(async () => {
    root = await tempDir('tracechain-compose-');
    const init = runScript(INIT, [], { DATA_ROOT: root, BLOCK_INTERVAL: '1000', ADDRESS_TEMPLATE: `/ip4/127.0.0.1/tcp/${base}{index}`, CONSORTIUM_NAME: 'Compose test' });
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    expect(init.stdout).toContain('consortium "Compose test" ready: 3 members');
    nodes = await Promise.all(
      names.map((name, i) =>
        startEntry(name, {
          TRACECHAIN_DATA: join(root, name),
          TRACECHAIN_API: '127.0.0.1:0',
          TRACECHAIN_P2P_LISTEN: `/ip4/127.0.0.1/tcp/${base}${i}`,
          TRACECHAIN_WORKERS: '1',
          ...(name === 'pharmacy' ? { TRACECHAIN_NO_MINE: '1' } : {}),
        }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      running.map(
        (r) =>
          new Promise<void>((res) => {
            if (r.proc.exitCode !== null || r.proc.signalCode !== null) return res();
            const t = setTimeout(() => r.proc.kill('SIGKILL'), 15_000);
            r.proc.once('exit', () => {
              clearTimeout(t);
              res();
            });
            r.proc.kill('SIGTERM');
          }),
      ),
    );
    if (root) await removeDir(root);
  });

  it('init prepared three members of one consortium, each with the others as bootstrap peers; a second run changes nothing', async () => {
    const genesis = JSON.parse(await readFile(join(root, 'genesis.json'), 'utf8')) as { name: string; members: { name: string; role: string; canSeal: boolean; peerId: string; gs1CompanyPrefixes: string[] }[] };
    expect(genesis.name).toBe('Compose test');
    expect(genesis.members.map((m) => [m.name, m.role, m.canSeal])).toEqual([
      ['manufacturer', 'manufacturer', true],
      ['wholesaler', 'wholesaler', true],
      ['pharmacy', 'pharmacy', false],
    ]);
    expect(genesis.members[0]?.gs1CompanyPrefixes).toEqual(['0614141', '4012345', '9521234']);
    for (const [i, name] of names.entries()) {
      for (const f of ['genesis.json', 'swarm.key', 'member.key', 'peer.key', 'api-token']) expect(existsSync(join(root, name, f)), `${name}/${f}`).toBe(true);
      const boot = (await readFile(join(root, name, 'bootstrap'), 'utf8')).trim().split('\n');
      const others = genesis.members.filter((m) => m.name !== name);
      expect(boot).toEqual(others.map((m) => `/ip4/127.0.0.1/tcp/${base}${genesis.members.indexOf(m)}/p2p/${m.peerId}`));
      expect(boot).not.toContain(expect.stringContaining(`tcp/${base}${i}/`));
    }
    const again = runScript(INIT, [], { DATA_ROOT: root });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('nothing to do');
  });

  it('the three nodes connect to each other and report healthy', async () => {
    for (const n of nodes) {
      await waitFor(`${n.name} healthy with 2 peers`, async () => {
        const r = await fetch(`${n.api}/health`);
        const h = (await r.json()) as { peers: number; status: string };
        return r.status === 200 && h.peers === 2;
      }, 60_000, 250);
    }
    const port = new URL((nodes[0] as Running).api).port;
    expect(spawnSync(process.execPath, [HEALTH], { env: { ...process.env, TRACECHAIN_API: `0.0.0.0:${port}` } }).status).toBe(0);
    expect(spawnSync(process.execPath, [HEALTH], { env: { ...process.env, TRACECHAIN_API: '0.0.0.0:9' } }).status).toBe(1);
  });

  it("a capture at the manufacturer is mined and seen from the pharmacy's node", async () => {
    const [man, , pharmacy] = nodes as [Running, Running, Running];
    const token = (await readFile(join(man.data, 'api-token'), 'utf8')).trim();
    const epc = `urn:epc:id:sgtin:0614141.107346.C${Date.now()}`;
    const doc = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: '2025-01-01T00:00:00Z',
      epcisBody: {
        eventList: [
          { type: 'ObjectEvent', eventTime: '2025-01-01T00:00:00Z', eventTimeZoneOffset: '+00:00', epcList: [epc], action: 'ADD', bizStep: 'commissioning', disposition: 'active', readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1' } },
        ],
      },
    };
    const res = await fetchSettled(`${man.api}/capture`, { init: { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(doc) } });
    expect(res.status).toBe(202);
    const { eventIds } = (await res.json()) as { eventIds: string[] };
    const trace = await waitFor('the event at the pharmacy, in a block', async () => {
      const res = await fetch(`${pharmacy.api}/trace/${encodeURIComponent(epc)}`);
      if (res.status === 503 || res.status === 429) return undefined; // shedding: ask again
      expect(res.status).toBe(200);
      const t = (await res.json()) as { status: string; events: { eventId: string; block: unknown }[] };
      return t.events.length === 1 && t.events[0]?.block ? t : undefined;
    }, 60_000, 250);
    expect(trace.events[0]?.eventId).toBe(eventIds[0]);
    expect(trace.status).toBe('active');
    // the pharmacy's explorer page is served, and names the consortium's members
    expect((await fetch(`${pharmacy.api}/`)).status).toBe(200);
    const c = (await (await fetch(`${pharmacy.api}/explorer/consortium.json`)).json()) as { self: { name: string }; members: unknown[] };
    expect(c.self.name).toBe('pharmacy');
    expect(c.members).toHaveLength(3);
  });

  it('a fourth organisation joins by governance: join-consortium.sh prepares it, the manufacturer proposes, the wholesaler approves, its node syncs and shows the 4 members as the others do', async () => {
    const [man, wholesaler, pharmacy] = nodes as [Running, Running, Running];
    const hospitalDir = join(root, 'hospital');
    const env = { DATA: hospitalDir, CONSORTIUM: root, NAME: 'hospital', ROLE: 'hospital', ADDRESS_TEMPLATE: `/ip4/127.0.0.1/tcp/${base}{index}` };
    const joined = runScript(JOIN, [], env);
    expect(joined.status, joined.stderr).toBe(0);
    const pub = JSON.parse(joined.stdout) as { name: string; role: string; canSeal: boolean; peerId: string };
    expect(pub).toMatchObject({ name: 'hospital', role: 'hospital', canSeal: false });
    const genesis = JSON.parse(await readFile(join(root, 'genesis.json'), 'utf8')) as { members: { peerId: string }[] };
    expect((await readFile(join(hospitalDir, 'bootstrap'), 'utf8')).trim().split('\n')).toEqual(genesis.members.map((m, i) => `/ip4/127.0.0.1/tcp/${base}${i}/p2p/${m.peerId}`));
    expect(await readFile(join(hospitalDir, 'genesis.json'), 'utf8')).toBe(await readFile(join(root, 'genesis.json'), 'utf8'));
    // Run again: nothing changes, the same public part is printed.
    const again = runScript(JOIN, [], env);
    expect([again.status, JSON.parse(again.stdout)]).toEqual([0, pub]);
    // The documented commands: the manufacturer proposes the public part (on stdin), the wholesaler approves.
    const cli = (args: string[], input?: string): string => {
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const id = /proposal ([0-9a-f]{64})/.exec(cli(['member', 'propose', 'add', '-', '--api', man.api, '--data', man.data], joined.stdout))?.[1] as string;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    interface Proposals { proposals: { id: string; status: string }[] }
    await waitFor('the proposal at the wholesaler', async () => ((await (await fetchSettled(`${wholesaler.api}/governance/proposals`)).json()) as Proposals).proposals.some((p) => p.id === id), 30_000, 250);
    expect(cli(['member', 'approve', id, '--api', wholesaler.api, '--data', wholesaler.data])).toContain(`approved: proposal ${id}`);
    // The hospital's node, started by the entry script from its bootstrap file.
    const hospital = await startEntry('hospital', { TRACECHAIN_DATA: hospitalDir, TRACECHAIN_API: '127.0.0.1:0', TRACECHAIN_P2P_LISTEN: `/ip4/127.0.0.1/tcp/${base}3`, TRACECHAIN_WORKERS: '1', TRACECHAIN_NO_MINE: '1' });
    interface Members { registryHash: string; members: { name: string; status: string }[] }
    const members = async (n: Running): Promise<Members> => (await (await fetchSettled(`${n.api}/members`)).json()) as Members;
    await waitFor('the hospital admitted, synced, and agreeing with every node on the member set', async () => {
      const all = await Promise.all([man, wholesaler, pharmacy, hospital].map(members));
      return all.every((m) => m.members.length === 4 && m.registryHash === all[0]?.registryHash);
    }, 60_000, 250);
    expect((await members(hospital)).members.map((m) => [m.name, m.status])).toEqual([['manufacturer', 'active'], ['wholesaler', 'active'], ['pharmacy', 'active'], ['hospital', 'active']]);
    await waitFor('the hospital connected to the members', async () => ((await (await fetch(`${hospital.api}/health`)).json()) as { peers: number }).peers >= 1, 30_000, 250);
  });

  it('the entry script stops on a bad configuration before starting the node, naming every problem', () => {
    const r = runScript(ENTRY, ['start'], { TRACECHAIN_DATA: join(root, 'unused'), TRACECHAIN_WORKERS: 'many', TRACECHAIN_API: 'nowhere' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('TRACECHAIN_WORKERS: must be a whole number, got "many"');
    expect(r.stderr).toContain('TRACECHAIN_API: expected HOST:PORT, got "nowhere"');
    expect(existsSync(join(root, 'unused'))).toBe(false);
  });
});
