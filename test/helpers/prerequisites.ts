/**
 * What some integration tests need from the machine beyond Node (a tmpfs mount, Debian's
 * libfaketime, Chromium, docker-compose), found the same way on every architecture, and one
 * rule for when it is missing:
 *  - under CI (`CI` set, as `.ci/run` does) the test FAILS, naming what is missing: CI is
 *    supposed to provide it, so a missing tool is a broken CI machine, not a pass;
 *  - elsewhere the test is skipped, and the skip says what is missing (in the test's title
 *    where the skip is decided before the tests run, and always on stderr).
 */
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export interface Missing {
  /** What is missing, e.g. "Chromium (no chromium or chromium-browser on PATH)". */
  what: string;
  /** How to get it. */
  fix: string;
  /**
   * The machine cannot do it at all (a kernel without what containers need), as opposed to
   * something not installed: the test skips and says why even under CI, never passing without
   * having run.
   */
  machineCannot?: true;
}

/** True under CI: `.ci/run` exports CI=1 (and most CI services set CI=true). */
export function inCI(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function describeMissing(m: Missing): string {
  return `missing prerequisite: ${m.what}; ${m.fix}`;
}

/** The error a test throws under CI when `m` is missing. */
export function missingInCI(m: Missing): Error {
  return new Error(`${describeMissing(m)} (CI is set, so this fails instead of skipping: the CI machine must provide it)`);
}

/** The minimal piece of vitest's test context this needs (so the helper has no vitest import). */
interface SkippableContext {
  task: { name: string };
  skip(note?: string): void;
}

/**
 * Call first in a test: nothing when `m` is undefined; under CI throws naming what is missing;
 * elsewhere prints the reason to stderr and skips the test with it as the note.
 */
export function need(t: SkippableContext, m: Missing | undefined): void {
  if (m === undefined) return;
  if (inCI()) throw missingInCI(m);
  const note = describeMissing(m);
  console.warn(`SKIPPED "${t.task.name}": ${note}`);
  t.skip(note);
}

/**
 * For a describe block decided before its tests run: `skip` is true only outside CI; `title`
 * is appended to the describe title so the skip names what is missing in the test report.
 * Under CI with `m` missing, `skip` is false and `check()` (call it in beforeAll) throws.
 */
export function gate(m: Missing | undefined): { skip: boolean; title: string; check(): void } {
  if (m === undefined) return { skip: false, title: '', check: () => undefined };
  if (!inCI() || m.machineCannot === true) {
    console.warn(`SKIPPED: ${describeMissing(m)}`);
    return { skip: true, title: ` [SKIPPED: ${describeMissing(m)}]`, check: () => undefined };
  }
  return {
    skip: false,
    title: '',
    check: () => {
      throw missingInCI(m);
    },
  };
}

function onPath(names: string[]): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    for (const n of names) {
      const p = join(dir, n);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        // not here: try the next directory
      }
    }
  }
  return undefined;
}

/** Chromium for the explorer's end-to-end test: `CHROMIUM_PATH`, else chromium on PATH. */
export function findChromium(): { path?: string; missing?: Missing } {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    return existsSync(fromEnv) ? { path: fromEnv } : { missing: { what: `Chromium (CHROMIUM_PATH=${fromEnv} does not exist)`, fix: 'point CHROMIUM_PATH at a Chromium binary or unset it' } };
  }
  const p = onPath(['chromium', 'chromium-browser']);
  return p !== undefined ? { path: p } : { missing: { what: 'Chromium (no chromium or chromium-browser on PATH)', fix: 'apt-get install chromium (.ci/run does)' } };
}

/** xmllint (Debian's libxml2-utils), to validate XML answers against the EPCIS XSDs. */
export function findXmllint(): { path?: string; missing?: Missing } {
  const p = onPath(['xmllint']);
  return p !== undefined ? { path: p } : { missing: { what: 'xmllint (no xmllint on PATH)', fix: 'apt-get install libxml2-utils (.ci/run does)' } };
}

/** docker-compose, to validate docker-compose.yml: present when `docker-compose version` exits 0. */
export function findDockerCompose(): { missing?: Missing } {
  const r = spawnSync('docker-compose', ['version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status === 0) return {};
  const why = r.error !== undefined ? r.error.message : `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}`;
  return { missing: { what: `docker-compose (\`docker-compose version\` failed: ${why})`, fix: 'apt-get install docker-compose (.ci/run does)' } };
}

/**
 * Debian's libfaketime for this machine's architecture: `LIBFAKETIME` when set; else where the
 * `libfaketime` package put it (`dpkg -L libfaketime`); else the multiarch directories
 * (/usr/lib/<triplet>/faketime/). No architecture is assumed.
 */
export function findLibfaketime(): { path?: string; missing?: Missing } {
  const fromEnv = process.env.LIBFAKETIME;
  if (fromEnv !== undefined && fromEnv !== '') {
    return existsSync(fromEnv) ? { path: fromEnv } : { missing: { what: `libfaketime (LIBFAKETIME=${fromEnv} does not exist)`, fix: 'point LIBFAKETIME at libfaketime.so.1 or unset it' } };
  }
  const listed = spawnSync('dpkg', ['-L', 'libfaketime'], { encoding: 'utf8' });
  if (listed.status === 0) {
    const p = listed.stdout.split('\n').find((l) => l.endsWith('/libfaketime.so.1'));
    if (p !== undefined && existsSync(p)) return { path: p };
  }
  let dirs: string[] = [];
  try {
    dirs = readdirSync('/usr/lib');
  } catch {
    // no /usr/lib: nothing to scan
  }
  for (const d of dirs) {
    const p = join('/usr/lib', d, 'faketime', 'libfaketime.so.1');
    if (existsSync(p)) return { path: p };
  }
  return { missing: { what: 'libfaketime (no libfaketime.so.1 from `dpkg -L libfaketime` or in /usr/lib/*/faketime/)', fix: 'apt-get install faketime (.ci/run does)' } };
}

const run = promisify(execFile);

/**
 * Mount a tmpfs of `sizeMiB` at `dir` (needs root or CAP_SYS_ADMIN). Resolves undefined when
 * mounted, else what is missing.
 */
export async function mountTmpfs(dir: string, sizeMiB: number): Promise<Missing | undefined> {
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
    return undefined;
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? '').trim().split('\n')[0];
    return { what: `a tmpfs mount (mount -t tmpfs failed: ${stderr || (err as Error).message.split('\n')[0]})`, fix: 'run as root or with CAP_SYS_ADMIN (CI runs as root)' };
  }
}

/** podman's settings for the container tests: CONTAINERS_CONF when set, else the repository's. */
export const CONTAINERS_CONF = process.env.CONTAINERS_CONF !== undefined && process.env.CONTAINERS_CONF !== '' ? process.env.CONTAINERS_CONF : fileURLToPath(new URL('../container/containers.conf', import.meta.url));

/** The local stand-in for the Dockerfile's base image (test/container/base-image.sh tags it so). */
export function baseImageName(dockerfile: string): string | undefined {
  const from = /^FROM\s+(\S+)/im.exec(dockerfile)?.[1];
  if (from === undefined) return undefined;
  return from.includes('/') ? from : `docker.io/library/${from}`;
}

function firstLine(s: string | undefined): string {
  return (s ?? '').trim().split('\n').filter((l) => !/level=(error|warning) msg="unable to get systemd connection/.test(l))[0] ?? '';
}

/**
 * What the container tests need: podman that runs containers here (checked by running one:
 * a machine without the kernel features fails there, and the reason is podman's own words),
 * podman-compose, and the base image named by the Dockerfile's FROM (no registry is reached:
 * test/container/base-image.sh builds a local one; `.ci/run` does).
 */
export function findPodman(base: string): { missing?: Missing } {
  const env = { ...process.env, CONTAINERS_CONF };
  const version = spawnSync('podman', ['--version'], { encoding: 'utf8', timeout: 30_000, env });
  if (version.status !== 0) {
    const why = version.error !== undefined ? version.error.message : `exit ${version.status}: ${firstLine(version.stderr)}`;
    return { missing: { what: `podman (\`podman --version\` failed: ${why})`, fix: 'apt-get install podman runc (.ci/run does)' } };
  }
  const compose = spawnSync('podman-compose', ['version'], { encoding: 'utf8', timeout: 30_000, env });
  if (compose.status !== 0) {
    const why = compose.error !== undefined ? compose.error.message : `exit ${compose.status}: ${firstLine(compose.stderr)}`;
    return { missing: { what: `podman-compose (\`podman-compose version\` failed: ${why})`, fix: 'apt-get install podman-compose (.ci/run does)' } };
  }
  const exists = spawnSync('podman', ['image', 'exists', base], { encoding: 'utf8', timeout: 60_000, env });
  if (exists.status !== 0) {
    return { missing: { what: `the base image ${base} (\`podman image exists\` says no${exists.stderr.trim() ? `: ${firstLine(exists.stderr)}` : ''})`, fix: 'run test/container/base-image.sh (.ci/run does), or pull it where a registry is reachable' } };
  }
  const probe = spawnSync('podman', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/true', base], { encoding: 'utf8', timeout: 120_000, env });
  if (probe.status !== 0) {
    const why = probe.error !== undefined ? probe.error.message : `exit ${probe.status}: ${firstLine(probe.stderr)}`;
    return { missing: { what: `a container run on this machine (\`podman run --rm ${base} /bin/true\` failed: ${why})`, fix: 'podman needs runc, a kernel with namespaces and overlay, and CONTAINERS_CONF as in test/container/containers.conf', machineCannot: true } };
  }
  return {};
}
