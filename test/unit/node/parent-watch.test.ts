/**
 * watchParent (start --exit-with-parent): a process whose parent is killed with SIGKILL finds out,
 * over an IPC channel and, without one, by its parent PID changing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PARENT_POLL_MS } from '../../../src/node/parent-watch.js';

const dir = mkdtempSync(join(tmpdir(), 'tracechain-parent-watch-'));
// The child runs the compiled module (npm test builds dist/ first).
const moduleUrl = pathToFileURL(join(import.meta.dirname, '../../../dist/src/node/parent-watch.js')).href;
const started: number[] = [];

afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A parent that starts a watching child (with or without IPC), prints the child's PID, then idles. */
function parentScript(out: string, ipc: boolean): string {
  const child = [
    `import { writeFileSync } from 'node:fs';`,
    `const { watchParent } = await import(${JSON.stringify(moduleUrl)});`,
    `watchParent(() => { writeFileSync(${JSON.stringify(out)}, String(process.ppid)); process.exit(0); });`,
    `setInterval(() => undefined, 1000);`,
  ].join('\n');
  return [
    `const { spawn } = require('node:child_process');`,
    `const c = spawn(process.execPath, ['--input-type=module', '-e', ${JSON.stringify(child)}], { stdio: ['ignore', 'ignore', 'inherit'${ipc ? ", 'ipc'" : ''}] });`,
    `console.log(c.pid);`,
    `setInterval(() => undefined, 1000);`,
  ].join('\n');
}

async function killParentAndWait(ipc: boolean): Promise<string> {
  const out = join(dir, ipc ? 'ipc' : 'ppid');
  const parent = spawn(process.execPath, ['-e', parentScript(out, ipc)], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(parent.pid as number);
  const childPid = await new Promise<number>((res, rej) => {
    parent.stdout.once('data', (d: Buffer) => res(Number(d.toString().trim())));
    parent.once('exit', () => rej(new Error('parent exited early')));
  });
  started.push(childPid);
  await new Promise((r) => setTimeout(r, 1_000)); // the child has loaded and is watching
  expect(existsSync(out)).toBe(false);
  parent.kill('SIGKILL');
  const deadline = Date.now() + 10 * PARENT_POLL_MS + 5_000;
  while (!existsSync(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(existsSync(out)).toBe(true);
  return out;
}

describe('watchParent', () => {
  it('fires when the parent holding its IPC channel is killed', async () => {
    await killParentAndWait(true);
  }, 30_000);

  it('fires when the parent is killed and there is no IPC channel (parent PID watch)', async () => {
    await killParentAndWait(false);
  }, 30_000);
});
