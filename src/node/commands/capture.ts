/**
 * `tracechain capture FILE|-`: POST an EPCIS 2.0 document to a node's /capture. Prints the tx ID
 * and event IDs (or, with --json, the answer); with --wait, waits until the tx is in a block.
 * Exit 0 when accepted, 1 with the problem details (every schema/rule error, the duplicates and
 * where they are) on any HTTP error.
 */
import { ApiClient, readInput, runClientCommand, type ClientFlags } from './client.js';

export interface CaptureFlags extends ClientFlags {
  wait?: boolean;
  waitTimeout?: number;
  /** public or private (docs/confidentiality.md); absent: the node's default. */
  sharing?: string;
}

interface Accepted {
  txId: string;
  eventIds: string[];
}

interface TxEntry {
  block: { hash: string; height: number } | null;
  confirmations: number;
}

export function captureCommand(file: string, flags: CaptureFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('capture', async () => {
    const client = await ApiClient.fromFlags(flags);
    const data = await readInput(file);
    const contentType = file.endsWith('.jsonld') ? 'application/ld+json' : 'application/json';
    if (flags.sharing !== undefined && flags.sharing !== 'public' && flags.sharing !== 'private') throw new Error(`--sharing must be public or private, not "${flags.sharing}"`);
    const path = flags.sharing === undefined ? '/capture' : `/capture?sharing=${flags.sharing}`;
    const { json } = await client.request<Accepted>('POST', path, { data, contentType });
    let entry: TxEntry | undefined;
    if (flags.wait) {
      const deadline = Date.now() + (flags.waitTimeout ?? 120) * 1000;
      for (;;) {
        entry = await client.get<TxEntry>(`/txs/${json.txId}`);
        if (entry.block !== null) break;
        if (Date.now() > deadline) throw new Error(`tx ${json.txId} accepted but not in a block after ${flags.waitTimeout ?? 120} s`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    if (flags.json) {
      out.write(JSON.stringify(entry ? { ...json, block: entry.block, confirmations: entry.confirmations } : json) + '\n');
      return 0;
    }
    out.write(`accepted: tx ${json.txId} with ${json.eventIds.length} event(s)\n`);
    for (const id of json.eventIds) out.write(`  ${id}\n`);
    if (entry?.block) out.write(`in block ${entry.block.height} (${entry.block.hash})\n`);
    return 0;
  });
}
