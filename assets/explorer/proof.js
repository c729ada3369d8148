// @ts-check
/**
 * Client-side check of a tracechain event proof, written from DESIGN.md's external contract
 * alone (it imports nothing of the node), so the explorer page can say "proof verified in your
 * browser" without trusting the node that served the page. The same module runs in Node in the
 * unit tests (test/unit/explorer/proof.test.ts).
 *
 * A proof is {tx, txIndex, txCount, auditPath, merkleRoot, blockHash, header}:
 *   1. tx is the RFC 8785 canonical JSON of the signed tx; its body is it without `sig`;
 *      tx ID = SHA-256(JCS(body)); the event ID must be among the tx's eventIds;
 *   2. the RFC 6962 audit path from leaf SHA-256(0x00 ‖ txid) (nodes SHA-256(0x01 ‖ l ‖ r))
 *      must reach merkleRoot, which must be the header's bytes 40..72;
 *   3. SHA-256(SHA-256(header)) must be blockHash, and meet the target in the header's bits
 *      (bytes 100..104, Bitcoin's compact form).
 * What it cannot say alone: that the block is on the main chain (ask several nodes for the
 * block at that height) and that the tx's signature is a member's (needs the member registry).
 *
 * SHA-256 comes from WebCrypto (crypto.subtle) where the page has it; browsers offer it only to
 * secure contexts (https, or http on localhost/127.0.0.1), so a page opened over plain http on
 * a LAN address falls back to the small SHA-256 below (FIPS 180-4, checked against WebCrypto and
 * node:crypto in the tests).
 */

const encoder = new TextEncoder();

/**
 * RFC 8785 canonical JSON for the values a tx holds: keys sorted by UTF-16 code units,
 * no whitespace, ECMAScript number and string forms (JSON.stringify's).
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalJson(value) {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('JCS: not a finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const o = /** @type {Record<string, unknown>} */ (value);
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new TypeError(`JCS: cannot encode ${typeof value}`);
}

/** @param {string} hex @returns {Uint8Array | null} */
export function hexToBytes(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** @param {Uint8Array} bytes @returns {string} */
export function bytesToHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** @param {Uint8Array[]} parts @returns {Uint8Array} */
function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * SHA-256 in plain JavaScript (FIPS 180-4), for pages without WebCrypto.
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
export function sha256Fallback(data) {
  const bitLen = data.length * 8;
  const padded = new Uint8Array((((data.length + 9 + 63) >> 6) << 6));
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 0x100000000));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + 4 * i);
    for (let i = 16; i < 64; i++) {
      const a = /** @type {number} */ (w[i - 15]);
      const b = /** @type {number} */ (w[i - 2]);
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (/** @type {number} */ (w[i - 16]) + s0 + /** @type {number} */ (w[i - 7]) + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = /** @type {[number, number, number, number, number, number, number, number]} */ (Array.from(h));
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + /** @type {number} */ (K[i]) + /** @type {number} */ (w[i])) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = (/** @type {number} */ (h[0]) + a) >>> 0;
    h[1] = (/** @type {number} */ (h[1]) + b) >>> 0;
    h[2] = (/** @type {number} */ (h[2]) + c) >>> 0;
    h[3] = (/** @type {number} */ (h[3]) + d) >>> 0;
    h[4] = (/** @type {number} */ (h[4]) + e) >>> 0;
    h[5] = (/** @type {number} */ (h[5]) + f) >>> 0;
    h[6] = (/** @type {number} */ (h[6]) + g) >>> 0;
    h[7] = (/** @type {number} */ (h[7]) + hh) >>> 0;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(4 * i, /** @type {number} */ (h[i]));
  return out;
}

/**
 * A SHA-256 function: WebCrypto's when available, else the fallback.
 * @typedef {(data: Uint8Array) => Promise<Uint8Array>} Sha256
 * @param {{ subtle?: SubtleCrypto | undefined } | undefined} [cryptoLike]
 * @returns {{ sha256: Sha256, engine: 'webcrypto' | 'fallback' }}
 */
export function sha256Engine(cryptoLike = globalThis.crypto) {
  const subtle = cryptoLike?.subtle;
  if (subtle !== undefined && typeof subtle.digest === 'function') {
    return { engine: 'webcrypto', sha256: async (data) => new Uint8Array(await subtle.digest('SHA-256', new Uint8Array(data))) };
  }
  return { engine: 'fallback', sha256: async (data) => sha256Fallback(data) };
}

/**
 * Bitcoin compact target → BigInt; null for a negative, zero or overflowing target.
 * @param {number} bits
 * @returns {bigint | null}
 */
export function compactTarget(bits) {
  const exp = bits >>> 24;
  const mant = bits & 0x007fffff;
  if (bits & 0x00800000 || mant === 0) return null;
  const t = exp <= 3 ? BigInt(mant >>> (8 * (3 - exp))) : BigInt(mant) << BigInt(8 * (exp - 3));
  return t === 0n || t >> 256n !== 0n ? null : t;
}

/**
 * RFC 9162 §2.1.3.2: the root an inclusion proof implies, or null when the path does not fit.
 * @param {Sha256} sha256
 * @param {Uint8Array} leaf leaf hash
 * @param {number} index
 * @param {number} size
 * @param {Uint8Array[]} path
 * @returns {Promise<Uint8Array | null>}
 */
export async function rootFromAuditPath(sha256, leaf, index, size, path) {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat([Uint8Array.of(1), p, r]));
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await sha256(concat([Uint8Array.of(1), r, p]));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/**
 * @typedef {{ tx: string, txIndex: number, txCount: number, auditPath: string[], merkleRoot: string, blockHash: string, header: string }} EventProof
 * @typedef {{ ok: boolean, problems: string[], txId: string | null, height: number | null, time: number | null, blockHash: string | null, submitter: string | null, engine: 'webcrypto' | 'fallback' }} ProofCheck
 */

/**
 * Check one event's proof. Never throws: every failure is a line in `problems`.
 * @param {string} eventId the event ID the proof should prove (ni:///sha-256;…?ver=CBV2.0)
 * @param {EventProof} proof
 * @param {{ sha256?: Sha256, engine?: 'webcrypto' | 'fallback' }} [opts]
 * @returns {Promise<ProofCheck>}
 */
export async function verifyEventProof(eventId, proof, opts = {}) {
  const chosen = opts.sha256 !== undefined ? { sha256: opts.sha256, engine: opts.engine ?? 'webcrypto' } : sha256Engine();
  const { sha256, engine } = chosen;
  /** @type {string[]} */
  const problems = [];
  /** @type {ProofCheck} */
  const result = { ok: false, problems, txId: null, height: null, time: null, blockHash: null, submitter: null, engine: /** @type {'webcrypto' | 'fallback'} */ (engine) };
  if (proof === null || typeof proof !== 'object' || typeof proof.tx !== 'string') {
    problems.push('no proof (the event is not in a block yet)');
    return result;
  }
  // 1. the tx: canonical, its ID, the event in it
  /** @type {Record<string, unknown>} */
  let tx;
  try {
    const parsed = JSON.parse(proof.tx);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    tx = parsed;
  } catch (err) {
    problems.push(`the tx is not a JSON object: ${err instanceof Error ? err.message : String(err)}`);
    return result;
  }
  let txId;
  try {
    if (canonicalJson(tx) !== proof.tx) problems.push('the tx is not in canonical form (RFC 8785)');
    const body = { ...tx };
    delete body.sig;
    txId = await sha256(encoder.encode(canonicalJson(body)));
    result.txId = bytesToHex(txId);
  } catch (err) {
    problems.push(`the tx cannot be canonicalised: ${err instanceof Error ? err.message : String(err)}`);
    return result;
  }
  if (typeof tx.submitter === 'string') result.submitter = tx.submitter;
  if (!(Array.isArray(tx.eventIds) && tx.eventIds.includes(eventId))) problems.push('the event ID is not in the tx');
  // 2. the audit path to the merkle root, and the root in the header
  const path = Array.isArray(proof.auditPath) ? proof.auditPath.map(hexToBytes) : [null];
  const rootBytes = hexToBytes(proof.merkleRoot);
  if (path.some((p) => p === null || p.length !== 32) || rootBytes === null || rootBytes.length !== 32) {
    problems.push('the audit path or merkle root is not 32-byte hex');
  } else {
    const root = await rootFromAuditPath(sha256, await sha256(concat([Uint8Array.of(0), txId])), proof.txIndex, proof.txCount, /** @type {Uint8Array[]} */ (path));
    if (root === null || bytesToHex(root) !== proof.merkleRoot) problems.push('the audit path does not lead to the merkle root');
  }
  const header = hexToBytes(proof.header);
  if (header === null || header.length !== 112) {
    problems.push('the header is not 112 bytes of hex');
    result.ok = problems.length === 0;
    return result;
  }
  const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  result.height = hv.getUint32(4, true);
  result.time = Number(hv.getBigUint64(92, true));
  if (bytesToHex(header.subarray(40, 72)) !== proof.merkleRoot) problems.push("the header does not carry this merkle root");
  // 3. the block hash and its proof of work
  const hash = await sha256(await sha256(header));
  const hashHex = bytesToHex(hash);
  result.blockHash = hashHex;
  if (hashHex !== proof.blockHash) problems.push('the header does not hash to the block hash');
  const target = compactTarget(hv.getUint32(100, true));
  if (target === null || BigInt(`0x${hashHex}`) > target) problems.push('the block hash does not meet its proof-of-work target');
  result.ok = problems.length === 0;
  return result;
}

/**
 * A private event's revealed body (docs/confidentiality.md): SHA-256(salt ‖ JCS(event)) must be
 * the commitment its chain-level ID names. Whether the projection on chain is the body's is a
 * rule of the node's (`tracechain verify-proof` checks it too); this says the body is the one
 * committed to in the block. Never throws: every failure is a line in the answer.
 * @param {string} eventId the private event's ID, ni:///sha-256;<commitment>?ver=CBV2.0
 * @param {{ event: unknown, salt: string }} body
 * @param {{ sha256?: Sha256 }} [opts]
 * @returns {Promise<string[]>} the problems; none: the body opens the commitment
 */
export async function verifyPrivateBody(eventId, body, opts = {}) {
  const sha256 = opts.sha256 ?? sha256Engine().sha256;
  const m = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/.exec(eventId);
  if (m === null) return ['the event ID is not a commitment'];
  const salt = typeof body?.salt === 'string' ? hexToBytes(body.salt) : null;
  if (salt === null || salt.length !== 32) return ['the salt is not 32 bytes of hex'];
  let text;
  try {
    text = canonicalJson(body.event);
  } catch (err) {
    return [`the body cannot be canonicalised: ${err instanceof Error ? err.message : String(err)}`];
  }
  const got = bytesToHex(await sha256(concat([salt, encoder.encode(text)])));
  return got === m[1] ? [] : [`the body and salt hash to ${got}, not to the commitment ${m[1]}`];
}
