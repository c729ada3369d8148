/**
 * `tracechain devnet --nodes N [--dir DIR] [--base-port P] [--prefixes …]`: an N-member
 * consortium on loopback for development and tests.
 *
 * Members get roles in order (manufacturer, wholesaler, pharmacy, hospital, regulator, then
 * again); the GS1 company prefixes given by --prefixes go round-robin to the manufacturers;
 * every member may seal. Node i serves its API on 127.0.0.1:P+i and libp2p on
 * /ip4/127.0.0.1/tcp/P+100+i, dials every other member, and writes its log to DIR/<name>/node.log.
 * The nodes are started with --exit-with-parent over an IPC channel: a devnet that dies without
 * stopping them (SIGKILL) takes them down with it.
 * Once node i answers /health with 200 its line is printed:
 *   {"name","role","api","token","peerId","data"}
 * SIGINT or SIGTERM stops every node and exits. Run again on the same DIR to restart the same
 * consortium with its chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { genesisBlock, paramsForInterval } from '../../chain/genesis.js';
import type { Genesis, Member, Role } from '../../chain/types.js';
import { DataDir, FILES } from '../data-dir.js';
import { makeGenesis } from '../dev-consortium.js';
import { initMember, SetupError } from './init.js';
import { SERVING_NODE_OPTIONS } from '../gc-tuning.js';

export const DEVNET_ROLES: readonly Role[] = ['manufacturer', 'wholesaler', 'pharmacy', 'hospital', 'regulator'];
export const DEFAULT_PREFIXES = ['0614141', '4012345', '9521234'];
export const MAX_DEVNET_NODES = 100;
const MANIFEST = 'devnet.json';

export interface DevnetOptions {
  nodes: number;
  dir: string;
  basePort: number;
  prefixes: string[];
  blockIntervalMs: number;
  workers: number;
  logLevel: string;
  /** Max wait for one node to become ready. */
  readyTimeoutMs: number;
}

export interface DevnetNodeLine {
  name: string;
  role: Role;
  api: string;
  token: string;
  peerId: string;
  data: string;
}

interface Manifest {
  chainId: string;
  nodes: { name: string; role: Role; dir: string; peerId: string }[];
}

/** Member names and roles in devnet order, with the prefixes handed round-robin to manufacturers. */
export function devnetPlan(n: number, prefixes: readonly string[]): { name: string; role: Role; prefixes: string[] }[] {
  const plan = Array.from({ length: n }, (_, i) => {
    const role = DEVNET_ROLES[i % DEVNET_ROLES.length] as Role;
    return { name: `${role}-${Math.floor(i / DEVNET_ROLES.length) + 1}`, role, prefixes: [] as string[] };
  });
  const manufacturers = plan.filter((p) => p.role === 'manufacturer');
  prefixes.forEach((p, i) => manufacturers[i % manufacturers.length]?.prefixes.push(p));
  return plan;
}

export function devnetPorts(basePort: number, i: number): { api: number; p2p: number } {
  return { api: basePort + i, p2p: basePort + 100 + i };
}

/** The CLI script, found by walking up from this module to the package root. */
function cliScript(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(d, 'bin', 'tracechain.js');
    if (existsSync(candidate)) return candidate;
    d = dirname(d);
  }
  throw new SetupError('cannot find bin/tracechain.js above the devnet module');
}

/** Create the consortium's data directories, or reuse the ones a previous run made. */
export async function prepareDevnet(opts: Pick<DevnetOptions, 'nodes' | 'dir' | 'prefixes' | 'blockIntervalMs'>): Promise<Manifest> {
  const root = resolve(opts.dir);
  const manifestPath = join(root, MANIFEST);
  if (existsSync(manifestPath)) {
    const m = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    if (m.nodes.length !== opts.nodes) throw new SetupError(`${root} holds a ${m.nodes.length}-node devnet; use another --dir for ${opts.nodes} nodes`);
    return m;
  }
  await new DataDir(root).ensure();
  const plan = devnetPlan(opts.nodes, opts.prefixes);
  const members: Member[] = [];
  const nodes: Manifest['nodes'] = [];
  for (const p of plan) {
    const dir = join(root, p.name);
    // Every devnet member may seal.
    const member = await initMember({ data: dir, name: p.name, role: p.role, prefixes: p.prefixes, seal: true });
    members.push(member);
    nodes.push({ name: p.name, role: p.role, dir, peerId: member.peerId });
  }
  const genesis: Genesis = makeGenesis(`tracechain devnet (${opts.nodes} nodes)`, members, Date.now(), paramsForInterval(opts.blockIntervalMs));
  for (const n of nodes) await new DataDir(n.dir).writeGenesis(genesis);
  const manifest: Manifest = { chainId: genesisBlock(genesis).hashHex, nodes };
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

async function healthy(api: string): Promise<boolean> {
  try {
    const res = await fetch(`${api}/health`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch (err) {
    // Not listening yet (fetch failed) or a slow answer (timeout): ask again.
    if (err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError')) return false;
    throw err;
  }
}

export async function devnetCommand(opts: DevnetOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (opts.nodes < 1 || opts.nodes > MAX_DEVNET_NODES) throw new SetupError(`--nodes must be between 1 and ${MAX_DEVNET_NODES}`);
  if (opts.basePort < 1 || opts.basePort + 100 + opts.nodes > 65535) throw new SetupError('--base-port leaves no room for the API and p2p ports');
  const manifest = await prepareDevnet(opts);
  const script = cliScript();
  const children: ChildProcess[] = [];
  let stopping = false;
  let signalled = false;
  let resolveStop: () => void = () => undefined;
  const stopRequested = new Promise<void>((r) => (resolveStop = r));
  const onSignal = (sig: NodeJS.Signals): void => {
    err.write(`devnet: ${sig}, stopping ${children.length} node(s)\n`);
    signalled = true;
    resolveStop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const addr = (i: number): string => {
    const n = manifest.nodes[i] as Manifest['nodes'][number];
    return `/ip4/127.0.0.1/tcp/${devnetPorts(opts.basePort, i).p2p}/p2p/${n.peerId}`;
  };
  let failed: string | undefined;
  manifest.nodes.forEach((n, i) => {
    const ports = devnetPorts(opts.basePort, i);
    const others = manifest.nodes.map((_, j) => j).filter((j) => j !== i).map(addr);
    const args = [script, 'start', '--data', n.dir, '--api', `127.0.0.1:${ports.api}`, '--p2p', `/ip4/127.0.0.1/tcp/${ports.p2p}`, '--workers', String(opts.workers), '--log-level', opts.logLevel];
    if (others.length > 0) args.push('--bootstrap', ...others);
    // The node exits when this process is gone, even killed with SIGKILL: the IPC channel closes
    // and --exit-with-parent stops it. It writes its log itself, so the log outlives us too.
    args.push('--exit-with-parent');
    const log = openSync(join(n.dir, 'node.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...SERVING_NODE_OPTIONS, ...args], { stdio: ['ignore', log, log, 'ipc'] });
    } finally {
      closeSync(log);
    }
    // The channel is the node's lifeline, not a reason to keep this process running.
    child.channel?.unref();
    child.on('exit', (code, signal) => {
      if (!stopping) {
        failed ??= `${n.name} exited (${signal ?? code}); see ${join(n.dir, 'node.log')}`;
        err.write(`devnet: ${failed}\n`);
        resolveStop();
      }
    });
    children.push(child);
  });

  let code = 0;
  try {
    for (const [i, n] of manifest.nodes.entries()) {
      const api = `http://127.0.0.1:${devnetPorts(opts.basePort, i).api}`;
      const deadline = Date.now() + opts.readyTimeoutMs;
      let ready = false;
      while (!ready && !signalled && failed === undefined && Date.now() < deadline) {
        ready = await healthy(api);
        if (!ready) await Promise.race([new Promise((r) => setTimeout(r, 200)), stopRequested]);
      }
      if (signalled) break;
      if (failed !== undefined) {
        code = 1;
        break;
      }
      if (!ready) {
        err.write(`devnet: ${n.name} not ready after ${opts.readyTimeoutMs} ms; see ${join(n.dir, 'node.log')}\n`);
        code = 1;
        break;
      }
      const token = (await readFile(join(n.dir, FILES.apiToken), 'utf8')).trim();
      const line: DevnetNodeLine = { name: n.name, role: n.role, api, token, peerId: n.peerId, data: n.dir };
      out.write(JSON.stringify(line) + '\n');
    }
    if (code === 0 && !signalled) {
      err.write(`devnet: ${manifest.nodes.length} node(s) ready (chain ${manifest.chainId}); Ctrl-C stops them\n`);
      await stopRequested;
      if (failed !== undefined) code = 1;
    }
  } finally {
    stopping = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(children.map((c) => stopChild(c)));
  }
  return code;
}

function stopChild(c: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (c.exitCode !== null || c.signalCode !== null) return res();
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    c.once('exit', () => {
      clearTimeout(t);
      res();
    });
    c.kill('SIGTERM');
  });
}
