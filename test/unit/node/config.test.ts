/**
 * The config checker: unknown options (with a suggestion), wrong types, values out of range,
 * YAML files, environment overrides and the `config check` / `config print` commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DEFAULT_API_OPTIONS } from '../../../src/api/options.js';
import {
  applyEnv,
  checkConfigValues,
  ConfigError,
  defaultConfig,
  ENV_OVERRIDES,
  loadConfig,
  loadConfigFile,
  mergeConfigCollect,
  resolveConfig,
  type NodeConfig,
} from '../../../src/node/config.js';
import { configCommand } from '../../../src/node/commands/config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracechain-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

async function run(action: 'check' | 'print', flags: { config?: string; json?: boolean }, env: NodeJS.ProcessEnv = {}) {
  const out = sink();
  const err = sink();
  const code = await configCommand(action, flags, out.stream, err.stream, env);
  return { code, out: out.text(), err: err.text() };
}

describe('merging a config file', () => {
  it('accepts the defaults and a partial file, keeping the other defaults', () => {
    expect(checkConfigValues(defaultConfig())).toEqual([]);
    const { config, problems } = mergeConfigCollect(defaultConfig(), { api: { port: 9000 }, mining: { enabled: false } });
    expect(problems).toEqual([]);
    expect(config.api.port).toBe(9000);
    expect(config.api.host).toBe('127.0.0.1');
    expect(config.mining.enabled).toBe(false);
    expect(config.mining.workers).toBe(defaultConfig().mining.workers);
  });

  it('names unknown options with their path and suggests the closest known one', () => {
    const { problems } = mergeConfigCollect(defaultConfig(), { api: { prot: 1 }, minning: {}, bogusOption: 1 });
    expect(problems).toContain('api.prot: unknown option (did you mean port?)');
    expect(problems).toContain('minning: unknown option (did you mean mining?)');
    expect(problems).toContain('bogusOption: unknown option');
  });

  it('names wrong types, all at once', () => {
    const { problems } = mergeConfigCollect(defaultConfig(), {
      dataDir: 7,
      api: { port: '8080', rateLimit: 5 },
      p2p: { listen: '/ip4/0.0.0.0/tcp/4001', bootstrap: [1, 2] },
      mining: { enabled: 'yes' },
      log: { level: null },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'dataDir: must be a string, got a number',
        'api.port: must be a number, got a string',
        'api.rateLimit: must be an object, got a number',
        'p2p.listen: must be an array of strings, got a string',
        'p2p.bootstrap: must be an array of strings, got an array',
        'mining.enabled: must be a boolean, got a string',
        'log.level: must be a string, got null',
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('refuses prototype keys and a file that is not an object', () => {
    expect(mergeConfigCollect(defaultConfig(), JSON.parse('{"__proto__": {"x": 1}}')).problems).toEqual(['__proto__: forbidden key']);
    expect(mergeConfigCollect(defaultConfig(), [1, 2]).problems[0]).toMatch(/must hold an object/);
    expect(mergeConfigCollect(defaultConfig(), 'text').problems[0]).toMatch(/not a string/);
  });

  it('checks ranges and enums', () => {
    const c = defaultConfig();
    c.api.port = 70_000;
    c.mining.workers = 0;
    c.log.level = 'loud' as NodeConfig['log']['level'];
    c.p2p.bootstrap = ['/ip4/10.0.0.1/tcp/4001', 'host:4001'];
    c.dev.blockIntervalMs = 1.5;
    const problems = checkConfigValues(c);
    expect(problems).toEqual(
      expect.arrayContaining([
        'api.port: must be a whole number from 0 to 65535, got 70000',
        'mining.workers: must be a whole number from 1 to 256, got 0',
        'log.level: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
        'p2p.bootstrap[0]: "/ip4/10.0.0.1/tcp/4001" must end with /p2p/<peer ID>',
        'p2p.bootstrap[1]: "host:4001" is not a multiaddr (e.g. /ip4/0.0.0.0/tcp/4001)',
        'dev.blockIntervalMs: must be a whole number from 100 to 3600000, got 1.5',
      ]),
    );
  });

  it("holds every API option with the API's own defaults, and checks the ones it used to lack", () => {
    expect(defaultConfig().api).toEqual(DEFAULT_API_OPTIONS);
    expect(defaultConfig().api).not.toBe(DEFAULT_API_OPTIONS); // a copy: a config never edits the defaults
    const { config, problems } = mergeConfigCollect(defaultConfig(), { api: { captureQueue: 32, queryScanBudget: 500 } });
    expect(problems).toEqual([]);
    expect(config.api.captureQueue).toBe(32);
    expect(config.api.queryScanBudget).toBe(500);
    const c = defaultConfig();
    c.api.captureQueue = 0;
    c.api.maxHeapFraction = 1.5;
    expect(checkConfigValues(c)).toEqual([
      'api.captureQueue: must be a whole number from 1 to 9007199254740991, got 0',
      'api.maxHeapFraction: must be a number above 0 and at most 1, got 1.5',
    ]);
  });
});

describe('config files', () => {
  it('reads JSON and YAML alike', async () => {
    const json = await file('a.json', JSON.stringify({ api: { port: 9100 }, p2p: { listen: ['/ip4/0.0.0.0/tcp/4001'] } }));
    const yaml = await file('a.yaml', 'api:\n  port: 9100\np2p:\n  listen:\n    - /ip4/0.0.0.0/tcp/4001\n');
    const a = await resolveConfig({ file: json, env: {} });
    const b = await resolveConfig({ file: yaml, env: {} });
    expect(a.problems).toEqual([]);
    expect(b.problems).toEqual([]);
    expect(b.config).toEqual(a.config);
    expect((await loadConfigFile(defaultConfig(), yaml)).api.port).toBe(9100);
  });

  it('reports unreadable files, bad syntax and duplicate YAML keys', async () => {
    expect((await resolveConfig({ file: join(dir, 'missing.json'), env: {} })).problems[0]).toMatch(/^cannot read config file .*missing\.json/);
    expect((await resolveConfig({ file: await file('bad.json', '{"api": '), env: {} })).problems[0]).toMatch(/is not valid JSON/);
    expect((await resolveConfig({ file: await file('dup.yml', 'api:\n  port: 1\n  port: 2\n'), env: {} })).problems[0]).toMatch(/is not valid YAML/);
  });

  it('prefixes file problems with the file name and takes $TRACECHAIN_CONFIG when no --config', async () => {
    const p = await file('typo.json', JSON.stringify({ api: { hots: '0.0.0.0' } }));
    const r = await resolveConfig({ env: { TRACECHAIN_CONFIG: p } });
    expect(r.file).toBe(p);
    expect(r.problems).toEqual([`${p}: api.hots: unknown option (did you mean host?)`]);
    await expect(loadConfig({ env: { TRACECHAIN_CONFIG: p } })).rejects.toThrow(ConfigError);
  });
});

describe('environment overrides', () => {
  it('applies every documented variable', () => {
    const c = applyEnv(defaultConfig(), {
      TRACECHAIN_DATA: '/data',
      TRACECHAIN_API: '0.0.0.0:8081',
      TRACECHAIN_P2P_LISTEN: '/ip4/0.0.0.0/tcp/4001, /ip4/0.0.0.0/tcp/4002',
      TRACECHAIN_BOOTSTRAP: '/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWA\n/ip4/10.0.0.3/tcp/4001/p2p/12D3KooWB',
      TRACECHAIN_WORKERS: '3',
      TRACECHAIN_NO_MINE: 'true',
      TRACECHAIN_CAPTURE_WORKERS: '2',
      TRACECHAIN_VERIFIER_WORKERS: '0',
      TRACECHAIN_REQUIRE_TOKEN_FOR_READS: 'yes',
      TRACECHAIN_LOG_LEVEL: 'warn',
      TRACECHAIN_LOG_PRETTY: '1',
      TRACECHAIN_BLOCK_INTERVAL: '500',
    });
    expect(c.dataDir).toBe('/data');
    expect(c.api.host).toBe('0.0.0.0');
    expect(c.api.port).toBe(8081);
    expect(c.p2p.listen).toEqual(['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002']);
    expect(c.p2p.bootstrap).toEqual(['/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWA', '/ip4/10.0.0.3/tcp/4001/p2p/12D3KooWB']);
    expect(c.mining.workers).toBe(3);
    expect(c.mining.enabled).toBe(false);
    expect(c.api.captureWorkers).toBe(2);
    expect(c.verifier.workers).toBe(0);
    expect(c.api.requireTokenForReads).toBe(true);
    expect(c.log.level).toBe('warn');
    expect(c.log.pretty).toBe(true);
    expect(c.dev.blockIntervalMs).toBe(500);
    expect(checkConfigValues(c)).toEqual([]);
    // the table documents each variable once
    expect(new Set(ENV_OVERRIDES.map((o) => o.name)).size).toBe(ENV_OVERRIDES.length);
  });

  it('overrides the file, ignores empty variables, and leaves the input untouched', async () => {
    const p = await file('env.json', JSON.stringify({ api: { port: 9000 }, mining: { workers: 2 } }));
    const r = await resolveConfig({ file: p, env: { TRACECHAIN_API: '127.0.0.1:9001', TRACECHAIN_WORKERS: '', TRACECHAIN_NO_MINE: '0' } });
    expect(r.problems).toEqual([]);
    expect(r.config.api.port).toBe(9001);
    expect(r.config.mining.workers).toBe(2);
    expect(r.config.mining.enabled).toBe(true);
    expect(r.env).toEqual(['TRACECHAIN_API', 'TRACECHAIN_NO_MINE']);
    const base = defaultConfig();
    applyEnv(base, { TRACECHAIN_DATA: '/elsewhere' });
    expect(base.dataDir).toBe('./data');
  });

  it('names the variable of a bad value, every one of them', async () => {
    const r = await resolveConfig({ env: { TRACECHAIN_API: 'localhost', TRACECHAIN_WORKERS: 'many', TRACECHAIN_NO_MINE: 'maybe', TRACECHAIN_LOG_LEVEL: 'loud', TRACECHAIN_BOOTSTRAP: 'peer1' } });
    expect(r.problems).toEqual(
      expect.arrayContaining([
        'environment TRACECHAIN_API: expected HOST:PORT, got "localhost"',
        'environment TRACECHAIN_WORKERS: must be a whole number, got "many"',
        'environment TRACECHAIN_NO_MINE: must be true or false (1/0, yes/no), got "maybe"',
        expect.stringMatching(/^environment TRACECHAIN_LOG_LEVEL: must be one of/),
        'p2p.bootstrap[0]: "peer1" is not a multiaddr (e.g. /ip4/0.0.0.0/tcp/4001)',
      ]),
    );
    expect(r.problems).toHaveLength(5);
    expect(applyEnv.bind(null, defaultConfig(), { TRACECHAIN_WORKERS: '-1' })).toThrow(/TRACECHAIN_WORKERS/);
  });
});

describe('tracechain config check / print', () => {
  it('check: exit 0 and the sources for a good config', async () => {
    const p = await file('good.yaml', 'mining:\n  workers: 1\n');
    const r = await run('check', { config: p }, { TRACECHAIN_NO_MINE: '1' });
    expect(r.code).toBe(0);
    expect(r.out).toBe(`config ok: file ${p} + environment TRACECHAIN_NO_MINE\n`);
    expect((await run('check', {}, {})).out).toBe('config ok: no config file (defaults)\n');
  });

  it('check: exit 1 listing every problem; --json for machines', async () => {
    const p = await file('bad2.json', JSON.stringify({ api: { port: -1, colour: 'red' }, log: { level: 'loud' } }));
    const r = await run('check', { config: p }, { TRACECHAIN_WORKERS: 'x' });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toBe(`config invalid (4 problems; file ${p} + environment TRACECHAIN_WORKERS):`);
    expect(lines.slice(1)).toEqual(
      expect.arrayContaining([
        `  - ${p}: api.colour: unknown option`,
        '  - environment TRACECHAIN_WORKERS: must be a whole number, got "x"',
        '  - api.port: must be a whole number from 0 to 65535, got -1',
        expect.stringMatching(/^ {2}- log\.level: must be one of/),
      ]),
    );
    const j = await run('check', { config: p, json: true }, {});
    expect(j.code).toBe(1);
    const body = JSON.parse(j.out) as { ok: boolean; file: string; problems: string[] };
    expect(body.ok).toBe(false);
    expect(body.file).toBe(p);
    expect(body.problems).toHaveLength(3);
  });

  it('print: the effective config as JSON, or the problems and exit 1', async () => {
    const p = await file('print.json', JSON.stringify({ api: { port: 9200 } }));
    const r = await run('print', { config: p }, { TRACECHAIN_P2P_LISTEN: '/ip4/0.0.0.0/tcp/4001' });
    expect(r.code).toBe(0);
    const c = JSON.parse(r.out) as NodeConfig;
    expect(c.api.port).toBe(9200);
    expect(c.p2p.listen).toEqual(['/ip4/0.0.0.0/tcp/4001']);
    expect(Object.keys(c).sort()).toEqual(Object.keys(defaultConfig()).sort());
    const bad = await run('print', { config: p }, { TRACECHAIN_API: 'nope' });
    expect(bad.code).toBe(1);
    expect(bad.out).toBe('');
    expect(bad.err).toMatch(/TRACECHAIN_API/);
  });
});

describe('access options (docs/security.md)', () => {
  it('TLS files go in pairs, a client CA needs HTTPS, CORS origins are origins; the environment sets them', async () => {
    const c = defaultConfig();
    c.api.tls.cert = '/x/api.crt';
    c.api.tls.clientCa = '/x/ca.crt';
    c.api.cors.origins = ['https://dash.example', 'dash.example', '*'];
    expect(checkConfigValues(c)).toEqual([
      'api.tls: cert and key go together (both PEM files, or neither)',
      'api.cors.origins[1]: "dash.example" is not an origin (https://host[:port], or *)',
    ]);
    c.api.tls.cert = '';
    expect(checkConfigValues(c)).toContain('api.tls.clientCa: client certificates need HTTPS (api.tls.cert and api.tls.key)');
    const r = await resolveConfig({ env: { TRACECHAIN_TLS_CERT: '/e/a.crt', TRACECHAIN_TLS_KEY: '/e/a.key', TRACECHAIN_CORS_ORIGINS: 'https://a.example, https://b.example:8443' } });
    expect(r.problems).toEqual([]);
    expect(r.config.api.tls).toEqual({ cert: '/e/a.crt', key: '/e/a.key', clientCa: '' });
    expect(r.config.api.cors.origins).toEqual(['https://a.example', 'https://b.example:8443']);
  });
});
