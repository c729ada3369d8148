/**
 * V8 garbage-collector settings for a long-running node, applied by `tracechain start` before
 * the node is built (V8 reads this one each time it decides, so setting it at run time works;
 * measured on Node 20).
 *
 * Allocation-site pretenuring off: V8 watches object literals whose objects survive scavenges
 * and then allocates that literal's objects straight in the old generation. In this node some
 * sites (cache entries, memo records) qualify, and old-space objects that point at young ones
 * keep them alive through scavenges until the next full collection. On the /trace path that
 * kept every proof tx text read from the store (~46 KB each, four per answer) alive through two
 * scavenges: 2.6 MB promoted per scavenge, scavenges of 3–14 ms, and a mark-compact every few
 * seconds; with it off, 35 KB per scavenge and ~1 ms pauses (docs/api.md, Performance, Query).
 */
import { setFlagsFromString } from 'node:v8';

export const SERVING_V8_FLAGS = ['--no-allocation-site-pretenuring'] as const;

/**
 * Node options a serving node is started with (V8 reads these only when the heap is set up, so
 * they are command-line options: the `tracechain` shebang, `npm start`, devnet's nodes, the
 * container's wrapper and the benches pass them). A 64 MiB semi-space instead of V8's default (1
 * MiB growing to 16 MiB): a /trace answer of a pack that travelled in a case leaves ~0.9 MB of
 * young garbage (its proof txs read from the store), so with the default ~1 request in 18 waits
 * for a scavenge, and the scavenges are what /trace's p99 is made of; with 64 MiB, 1 in ~140
 * (docs/api.md, Performance). Costs up to 128 MiB more resident memory per node.
 */
export const SERVING_NODE_OPTIONS = ['--max-semi-space-size=64', '--min-semi-space-size=64'] as const;

/** The serving options this process was not started with (to log at start). */
export function missingServingOptions(execArgv: readonly string[] = process.execArgv): string[] {
  const given = new Set(execArgv);
  const fromEnv = new Set((process.env.NODE_OPTIONS ?? '').split(/\s+/));
  return SERVING_NODE_OPTIONS.filter((o) => !given.has(o) && !fromEnv.has(o));
}

export function tuneGcForServing(): void {
  for (const flag of SERVING_V8_FLAGS) setFlagsFromString(flag);
}
