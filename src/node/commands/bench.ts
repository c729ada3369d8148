/**
 * `tracechain bench <name>`: runs a benchmark from bench/, prints a table for people and, with
 * --json, one JSON object on the last line for machines.
 */
import { benchHashrate, formatHashrateTable } from '../../../bench/hashrate.js';
import { availableParallelism } from 'node:os';
import { progressBar } from '../progress.js';

export interface BenchFlags {
  seconds: number;
  workers?: number;
  json?: boolean;
}

export const BENCHES = ['hashrate'] as const;

export async function benchCommand(which: string, flags: BenchFlags, out: NodeJS.WritableStream): Promise<number> {
  switch (which) {
    case 'hashrate': {
      const bar = progressBar('hashrate');
      const report = await benchHashrate({
        seconds: flags.seconds,
        workers: flags.workers ?? Math.max(1, availableParallelism()),
        onProgress: (d, t) => bar.update(d, t),
      });
      bar.stop();
      out.write(formatHashrateTable(report) + '\n');
      if (flags.json) out.write(JSON.stringify(report) + '\n');
      return 0;
    }
    default:
      process.stderr.write(`tracechain bench: unknown benchmark "${which}"; choose one of: ${BENCHES.join(', ')}\n`);
      return 2;
  }
}
