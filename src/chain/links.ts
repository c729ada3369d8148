/** The links index records of a block (trace/journey.ts says what each event makes), in position order. */
import type { Block } from './block.js';
import type { LinkEntry } from './store.js';
import type { TxRules } from './tx-rules-port.js';

export function linksOfBlock(block: Block, rules: Pick<TxRules, 'linksOf'>): LinkEntry[] {
  const out: LinkEntry[] = [];
  const height = block.header.height;
  block.txs.forEach((tx, txIndex) => {
    tx.events.forEach((event, eventIndex) => {
      for (const l of rules.linksOf(event)) {
        const entry: LinkEntry = { key: l.key, kind: l.kind, height, txIndex, eventIndex };
        if (l.other !== undefined) entry.other = l.other;
        out.push(entry);
      }
    });
  });
  return out;
}
