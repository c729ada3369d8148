/**
 * Verifier worker thread entry (for chain/verifier-pool.ts): runs verifyTxSync (signature, chain, submitter, EPCIS rules, event IDs,
 * roles) and blocks' sealer signature checks off the main thread. Unexpected errors are
 * answered as such, never as a valid tx or signature. chain/ reaches the EPCIS rules only through
 * its `TxRules` port: this entry is where trace's implementation is plugged in.
 */
import './shims.js';
import { parentPort, workerData } from 'node:worker_threads';
import { invariant, TxError } from '../common/errors.js';
import { MemberRegistry } from '../chain/registry.js';
import { verifyTxSync } from '../chain/tx-verifier.js';
import { sealSignatureValid } from '../chain/block-checks.js';
import { traceRules } from '../trace/chain-rules.js';
import type { TxFailure, VerifierMessage, VerifierRequest, VerifierWorkerInit, VerifyResponse } from '../chain/verifier-protocol.js';

invariant(parentPort !== null, 'verifier worker must run in a worker thread');
const port = parentPort;
const init = workerData as VerifierWorkerInit;
let registry = new MemberRegistry(init.registry.state, init.registry.height);
const rules = traceRules();

function answer(req: VerifierRequest): VerifyResponse {
  if (req.kind === 'seals') {
    return { id: req.id, kind: 'seals', valid: req.seals.map((s) => sealSignatureValid(registry, s.hash, s.sealer, s.signature)) };
  }
  const against = req.registry ? new MemberRegistry(req.registry.state, req.registry.height) : registry;
  const results: (TxFailure | null)[] = req.txs.map((tx, i) => {
    try {
      verifyTxSync(tx, init.chainId, against, rules, req.txIds[i], req.full);
      return null;
    } catch (err) {
      if (!(err instanceof TxError)) throw err;
      return { type: err.type, message: err.message.replace(/^[A-Z_]+: /, '') };
    }
  });
  return { id: req.id, kind: 'txs', results };
}

port.on('message', (req: VerifierMessage) => {
  if (req.kind === 'registry') {
    registry = new MemberRegistry(req.state, req.height);
    return;
  }
  let res: VerifyResponse;
  try {
    res = answer(req);
  } catch (err) {
    res = { id: req.id, kind: 'error', error: (err as Error).stack ?? String(err) };
  }
  port.postMessage(res);
});
