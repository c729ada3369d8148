/**
 * `tracechain hash FILE`: prints the CBV 2.0 event ID of each event of an EPCIS 2.0 JSON or
 * JSON-LD document (EPCISDocument or EPCISQueryDocument), one per line, in document order.
 * `-` reads standard input. Exit code 0 on success; 1 with a message on stderr for an unreadable
 * file, invalid JSON, an invalid document, or a document without events.
 */
import { readFile } from 'node:fs/promises';
import { eventHash, eventsOfDocument, hashContextOf, type JsonObject } from '../../trace/index.js';

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function fail(message: string): number {
  process.stderr.write(`tracechain hash: ${message}\n`);
  return 1;
}

export async function hashCommand(file: string, out: NodeJS.WritableStream): Promise<number> {
  const name = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = await readInput(file);
  } catch (e) {
    return fail(`cannot read ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    return fail(`${name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail(`${name}: not an EPCIS 2.0 document (a JSON object)`);
  const d = doc as JsonObject;
  if (d['type'] !== 'EPCISDocument' && d['type'] !== 'EPCISQueryDocument') {
    return fail(`${name}: not an EPCIS 2.0 document: type is ${JSON.stringify(d['type'])}, expected EPCISDocument or EPCISQueryDocument`);
  }
  const events = eventsOfDocument(d);
  if (events === undefined) return fail(`${name}: the document has no event list (epcisBody.eventList)`);
  if (events.length === 0) return fail(`${name}: the document has no events`);
  const bad = events.findIndex((e) => typeof e !== 'object' || e === null || Array.isArray(e));
  if (bad >= 0) return fail(`${name}: event ${bad} is not a JSON object`);
  // IDs are computed for any well-formed document, as the reference tool does; capture applies
  // the full validation rules.
  const context = hashContextOf(d);
  const ids = (events as JsonObject[]).map((e) => eventHash(e, context));
  out.write(ids.join('\n') + '\n');
  return 0;
}
