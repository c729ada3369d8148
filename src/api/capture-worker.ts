/**
 * Capture worker thread: runs prepareCapture (parse, validate, hash, sign) off the main thread.
 * Protocol: { id, body: ArrayBuffer, time } in, { id, outcome } out; { id, error } for a bug.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fromHex } from '../chain/bytes.js';
import { prepareCapture, type CaptureOutcome, type CaptureSetup } from './capture-core.js';
import type { Member } from '../chain/types.js';

export interface CaptureWorkerInit {
  member: Member;
  secretKeyHex: string;
  chainId: string;
  maxTxBytes: number;
  maxEventsPerTx: number;
}

export interface CaptureRequest {
  id: number;
  body: ArrayBuffer;
  time: number;
}

export type CaptureReply = { id: number; outcome: CaptureOutcome } | { id: number; error: string };

const init = workerData as CaptureWorkerInit;
const setup: CaptureSetup = {
  member: init.member,
  secretKey: fromHex(init.secretKeyHex, 32),
  chainId: init.chainId,
  maxTxBytes: init.maxTxBytes,
  maxEventsPerTx: init.maxEventsPerTx,
};

// Compile the schema and warm the hash path before the first real request.
prepareCapture(
  JSON.stringify({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2024-01-01T00:00:00Z',
    epcisBody: { eventList: [{ type: 'ObjectEvent', eventTime: '2024-01-01T00:00:00Z', eventTimeZoneOffset: '+00:00', epcList: [], action: 'OBSERVE' }] },
  }),
  setup,
  0,
);

const port = parentPort;
if (port === null) throw new Error('capture-worker must run in a worker thread');
port.on('message', (req: CaptureRequest) => {
  let reply: CaptureReply;
  try {
    reply = { id: req.id, outcome: prepareCapture(new Uint8Array(req.body), setup, req.time) };
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ id: -1, ready: true });
