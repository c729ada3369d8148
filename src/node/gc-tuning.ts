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

export function tuneGcForServing(): void {
  for (const flag of SERVING_V8_FLAGS) setFlagsFromString(flag);
}
