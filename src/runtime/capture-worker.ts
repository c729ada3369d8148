/**
 * Capture worker thread entry: runs prepareCapture (parse, validate, hash, sign) off the main
 * thread for api/capture-pool.ts. Messages: api/capture-protocol.ts.
 */
import './shims.js';
import { parentPort, workerData } from 'node:worker_threads';
import { fromHex } from '../common/bytes.js';
import { invariant } from '../common/errors.js';
import { prepareCapture, type CaptureSetup } from '../api/capture-core.js';
import type { CaptureReply, CaptureRequest, CaptureWorkerInit } from '../api/capture-protocol.js';

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
// …and the XML parser.
prepareCapture(
  '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2024-01-01T00:00:00Z"><EPCISBody><EventList><ObjectEvent><eventTime>2024-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset><epcList/><action>OBSERVE</action></ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>',
  setup,
  0,
  'xml',
);

const port = parentPort;
invariant(port !== null, 'capture-worker must run in a worker thread');
port.on('message', (req: CaptureRequest) => {
  let reply: CaptureReply;
  try {
    reply = { id: req.id, outcome: prepareCapture(new Uint8Array(req.body), setup, req.time, req.format, req.mode) };
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ id: -1, ready: true });
