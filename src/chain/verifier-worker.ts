/**
 * Tx verifier worker: runs verifyTxSync (signature, chain, submitter, EPCIS rules, event IDs,
 * roles) off the main thread. Unexpected errors are answered as such, never as a valid tx.
 */
import '../node/shims.js';
import { parentPort, workerData } from 'node:worker_threads';
import { TxError } from './errors.js';
import { MemberRegistry } from './registry.js';
import { verifyTxSync } from './tx-verifier.js';
import { traceRules } from '../trace/tx-rules.js';
import type { TxFailure, VerifierWorkerInit, VerifyRequest, VerifyResponse } from './verifier-protocol.js';

if (parentPort === null) throw new Error('verifier worker must run in a worker thread');
const port = parentPort;
const init = workerData as VerifierWorkerInit;
const registry = MemberRegistry.fromGenesis(init.genesis);
const rules = traceRules();

port.on('message', (req: VerifyRequest) => {
  let res: VerifyResponse;
  try {
    const results: (TxFailure | null)[] = req.txs.map((tx, i) => {
      try {
        verifyTxSync(tx, init.chainId, registry, rules, req.txIds[i]);
        return null;
      } catch (err) {
        if (!(err instanceof TxError)) throw err;
        return { code: err.code, message: err.message.replace(/^[A-Z_]+: /, ''), details: err.details };
      }
    });
    res = { id: req.id, results };
  } catch (err) {
    res = { id: req.id, error: (err as Error).stack ?? String(err) };
  }
  port.postMessage(res);
});
