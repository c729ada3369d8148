/** `tracechain audit`: re-verify a (stopped) node's stored chain and indexes. */
import { auditChain, type AuditReport } from '../../chain/audit.js';
import { LevelChainStore } from '../../storage/index.js';
import { DataDir, FILES } from '../data-dir.js';
import { progressBar } from '../progress.js';
import { traceRules } from '../../trace/chain-rules.js';

export async function auditCommand(opts: { data: string; json?: boolean }, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const dir = new DataDir(opts.data);
  const genesis = await dir.readGenesis();
  if (!genesis) {
    err.write(`audit: no consortium in ${dir.path} (no ${FILES.genesis})\n`);
    return 2;
  }
  const store = await LevelChainStore.open(dir.file(FILES.chain));
  const bar = progressBar('audit');
  let report: AuditReport;
  try {
    report = await auditChain(store, genesis, traceRules(), (d, t) => bar.update(d, t));
  } finally {
    bar.stop();
    await store.close();
  }
  if (opts.json) out.write(JSON.stringify(report) + '\n');
  else if (report.ok) {
    out.write(`audit ok: ${report.blocksChecked} blocks to height ${report.tipHeight}, ${report.txsChecked} txs, ${report.eventsChecked} events, ${report.itemsChecked} items checked\n`);
  } else {
    const p = report.problem;
    out.write(`audit FAILED at block ${p?.height ?? '?'}${p?.hash ? ` (${p.hash})` : ''}: ${p?.reason ?? 'unknown'}\n`);
  }
  return report.ok ? 0 : 1;
}
