/** A missing prerequisite fails the test under CI and skips it, saying what is missing, elsewhere. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { baseImageName, findChromium, findDockerCompose, findLibfaketime, findPodman, gate, inCI, need, type Missing } from './prerequisites.js';

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['CI', 'PATH', 'LIBFAKETIME', 'CHROMIUM_PATH']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  vi.restoreAllMocks();
});

const missing: Missing = { what: 'docker-compose (`docker-compose version` failed: spawn docker-compose ENOENT)', fix: 'apt-get install docker-compose (.ci/run does)' };

describe('need / gate', () => {
  it('under CI: throws naming what is missing, never skips', () => {
    process.env.CI = '1';
    expect(inCI()).toBe(true);
    const skip = vi.fn();
    expect(() => need({ task: { name: 't' }, skip }, missing)).toThrow(/missing prerequisite: docker-compose .*apt-get install docker-compose.*CI is set/);
    expect(skip).not.toHaveBeenCalled();
    const g = gate(missing);
    expect(g.skip).toBe(false);
    expect(() => g.check()).toThrow(/missing prerequisite: docker-compose/);
  });

  it('outside CI: skips with the reason as the note, and says so on stderr', () => {
    delete process.env.CI;
    expect(inCI()).toBe(false);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const skip = vi.fn();
    need({ task: { name: 'the test' }, skip }, missing);
    expect(skip).toHaveBeenCalledWith(expect.stringMatching(/^missing prerequisite: docker-compose/));
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^SKIPPED "the test": missing prerequisite: docker-compose/));
    const g = gate(missing);
    expect(g.skip).toBe(true);
    expect(g.title).toMatch(/\[SKIPPED: missing prerequisite: docker-compose/);
  });

  it('a machine that cannot do it (no container support): skips with the reason even under CI', () => {
    process.env.CI = '1';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const g = gate({ what: 'a container run on this machine (exit 125: no user namespaces)', fix: 'a kernel with namespaces', machineCannot: true });
    expect(g.skip).toBe(true);
    expect(g.title).toMatch(/\[SKIPPED: missing prerequisite: a container run on this machine \(exit 125: no user namespaces\)/);
    expect(warn).toHaveBeenCalled();
  });

  it('does nothing when nothing is missing', () => {
    process.env.CI = '1';
    const skip = vi.fn();
    need({ task: { name: 't' }, skip }, undefined);
    expect(skip).not.toHaveBeenCalled();
    expect(gate(undefined)).toMatchObject({ skip: false, title: '' });
  });

  it('CI=0 and CI=false are not CI', () => {
    process.env.CI = '0';
    expect(inCI()).toBe(false);
    process.env.CI = 'false';
    expect(inCI()).toBe(false);
  });
});

describe('finding the tools', () => {
  it('names a tool that is not there', () => {
    process.env.PATH = '/nonexistent';
    delete process.env.CHROMIUM_PATH;
    expect(findChromium().missing?.what).toMatch(/no chromium or chromium-browser on PATH/);
    expect(findDockerCompose().missing?.what).toMatch(/docker-compose version` failed/);
    process.env.LIBFAKETIME = '/nonexistent/libfaketime.so.1';
    expect(findLibfaketime().missing?.what).toMatch(/LIBFAKETIME=\/nonexistent\/libfaketime.so.1 does not exist/);
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    expect(findChromium().missing?.what).toMatch(/CHROMIUM_PATH=\/nonexistent\/chromium does not exist/);
  });

  it('finds libfaketime without assuming an architecture', () => {
    delete process.env.LIBFAKETIME;
    const found = findLibfaketime();
    // CI installs the faketime package (.ci/run): there it must be found, wherever it was put.
    if (inCI()) expect(found.missing).toBeUndefined();
    if (found.path !== undefined) expect(found.path).toMatch(/\/libfaketime\.so\.1$/);
    else expect(found.missing?.what).toMatch(/libfaketime/);
  });

  it('names what the container test lacks: podman, or the base image the Dockerfile names', () => {
    process.env.PATH = '/nonexistent';
    expect(findPodman('docker.io/library/node:24-bookworm-slim').missing?.what).toMatch(/^podman \(`podman --version` failed: /);
    process.env.PATH = saved.PATH;
    const found = findPodman('localhost/tracechain-no-such-image:0');
    // CI installs podman and podman-compose (.ci/run): there only the image is missing.
    if (inCI()) expect(found.missing?.what).toMatch(/^the base image localhost\/tracechain-no-such-image:0 \(`podman image exists` says no/);
    else expect(found.missing?.what).toMatch(/^(the base image localhost\/tracechain-no-such-image:0 |podman |podman-compose )/);
  });

  it('the base image is the first FROM, with Docker Hub\'s full name', () => {
    expect(baseImageName('# x\nFROM node:24-bookworm-slim AS build\nFROM node:24-bookworm-slim\n')).toBe('docker.io/library/node:24-bookworm-slim');
    expect(baseImageName('FROM registry.example/team/node:24\n')).toBe('registry.example/team/node:24');
    expect(baseImageName('RUN true\n')).toBeUndefined();
  });
});
