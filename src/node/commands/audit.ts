/** `tracechain audit`: re-verify a (stopped) node's stored chain and indexes. */
import type { AuditReport } from '../../chain/audit.js';
import { runAudit } from '../audit-run.js';
import { LevelChainStore } from '../../storage/index.js';
import { DataDir, FILES } from '../data-dir.js';
import { progressBar } from '../progress.js';
import { traceRules } from '../../trace/chain-rules.js';

export async function auditCommand(opts: { data: string; json?: boolean; workers?: number }, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
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
    report = await runAudit(store, genesis, traceRules(), (d, t) => bar.update(d, t), opts.workers !== undefined ? { workers: opts.workers } : {});
  } finally {
    bar.stop();
    await store.close();
  }
  if (opts.json) out.write(JSON.stringify(report) + '\n');
  else if (report.ok) {
    out.write(`audit ok: ${report.blocksChecked} blocks to height ${report.tipHeight}, ${report.txsChecked} txs, ${report.eventsChecked} events, ${report.itemsChecked} items, ${report.recordsChecked} alert and pack records checked\n`);
    if (!report.linksChecked) out.write('note: the links index (journeys in /trace) is not built yet: this store was written by an older build, and the node builds it when it starts\n');
  } else {
    const p = report.problem;
    out.write(`audit FAILED at block ${p?.height ?? '?'}${p?.hash ? ` (${p.hash})` : ''}: ${p?.reason ?? 'unknown'}\n`);
  }
  return report.ok ? 0 : 1;
}
