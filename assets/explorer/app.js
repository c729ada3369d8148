// @ts-check
/**
 * The explorer page: chain tip and recent blocks, block / tx / event views, an item's journey
 * as a timeline with every event's proof checked here in the browser (proof.js), and the
 * node's health. Plain DOM, no framework; every piece of chain data is put in the page as text
 * (never as HTML), since events carry whatever their capturers wrote.
 */
import { verifyEventProof, sha256Engine, compactTarget, hexToBytes, bytesToHex } from './proof.js';

/** @typedef {import('./proof.js').EventProof} EventProof */
/** @typedef {import('./proof.js').ProofCheck} ProofCheck */
/** @typedef {{ code: string, message: string, eventId: string, time: number }} Alert */
/** @typedef {{ id: string, name: string, role: string, canSeal: boolean, gs1CompanyPrefixes: string[] }} MemberInfo */
/** @typedef {{ eventId: string, event: Record<string, any>, txId: string, block: { hash: string, height: number } | null, confirmations: number, proof: EventProof | null, via?: string, path?: string[] }} EventEntry */

const view = /** @type {HTMLElement} */ (document.getElementById('view'));
const engine = sha256Engine();
const TOKEN_KEY = 'tracechain.token';

// ---------------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------------

/** @typedef {Node | string | number | null | undefined | false | Child[]} Child */

/**
 * @param {string} tag  "div.class#id"
 * @param {Record<string, string | number | boolean | undefined | null> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
function h(tag, attrs, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || 'div');
  for (const r of rest) {
    if (r.startsWith('.')) el.classList.add(r.slice(1));
    else el.id = r.slice(1);
  }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  const add = (/** @type {Child} */ c) => {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  };
  children.forEach(add);
  return el;
}

/** @param {string} s @param {number} [n] */
const short = (s, n = 10) => (typeof s === 'string' && s.length > 2 * n + 1 ? `${s.slice(0, n)}…${s.slice(-6)}` : s);

/** @param {number} ms */
function ago(ms) {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** @param {number} hps */
function rate(hps) {
  if (!Number.isFinite(hps) || hps <= 0) return 'not mining';
  if (hps >= 1e9) return `${(hps / 1e9).toFixed(2)} GH/s`;
  if (hps >= 1e6) return `${(hps / 1e6).toFixed(2)} MH/s`;
  if (hps >= 1e3) return `${(hps / 1e3).toFixed(1)} kH/s`;
  return `${Math.round(hps)} H/s`;
}

/** @param {number | string} t */
function when(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "urn:epcglobal:cbv:bizstep:shipping" or "shipping" → "Shipping". @param {unknown} v */
function label(v) {
  if (typeof v !== 'string' || v === '') return '';
  const last = v.replace(/^urn:epcglobal:cbv:[a-z]+:/, '').replace(/^https:\/\/ref\.gs1\.org\/cbv\/[A-Za-z]+-/, '');
  const words = last.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** GS1 mod-10 check digit of a string of digits. @param {string} digits */
function checkDigit(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (sum % 10)) % 10);
}

/** A location for people: "GLN 0614141073467 ext 1234" for an SGLN URN, else as given. @param {unknown} loc */
function place(loc) {
  const id = loc && typeof loc === 'object' && typeof (/** @type {any} */ (loc).id) === 'string' ? /** @type {any} */ (loc).id : null;
  if (id === null) return null;
  const m = /^urn:epc:id:sgln:([0-9]+)\.([0-9]*)\.(.*)$/.exec(id);
  if (m) {
    const body = m[1] + m[2];
    const gln = body + checkDigit(body);
    return { text: `GLN ${gln}${m[3] && m[3] !== '0' ? ` · ext ${m[3]}` : ''}`, title: id };
  }
  const dl = /\/414\/([0-9]{13})(?:\/254\/([^/?#]+))?/.exec(id);
  if (dl) return { text: `GLN ${dl[1]}${dl[2] ? ` · ext ${decodeURIComponent(dl[2])}` : ''}`, title: id };
  return { text: id, title: id };
}

// ---------------------------------------------------------------------------------------------
// API access (with the token when the node asks for one)
// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  /** @param {number} status @param {any} problem */
  constructor(status, problem) {
    super(problem && typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** @returns {Promise<string | null>} */
function askToken() {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('token-dialog'));
  const input = /** @type {HTMLInputElement} */ (document.getElementById('token-input'));
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        const v = dialog.returnValue === 'ok' ? input.value.trim() : '';
        if (v !== '') sessionStorage.setItem(TOKEN_KEY, v);
        resolve(v === '' ? null : v);
      },
      { once: true },
    );
    input.value = '';
    dialog.showModal();
  });
}

/**
 * GET a JSON route; throws ApiError with the problem document on a non-2xx answer.
 * @param {string} path
 * @param {{ allow?: number[] }} [opts]
 * @returns {Promise<any>}
 */
async function api(path, opts = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const res = await fetch(path, { headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (res.ok || (opts.allow ?? []).includes(res.status)) return body;
    if ((res.status === 401 || res.status === 403) && attempt === 0 && path !== '/health') {
      sessionStorage.removeItem(TOKEN_KEY);
      if ((await askToken()) !== null) continue;
    }
    throw new ApiError(res.status, body);
  }
  throw new ApiError(401, null);
}

/** @type {Promise<{ name: string, chainId: string, self: MemberInfo | null, members: Map<string, MemberInfo> }> | undefined} */
let consortiumPromise;
function consortium() {
  consortiumPromise ??= api('/explorer/consortium.json')
    .then((c) => ({ ...c, members: new Map(c.members.map((/** @type {MemberInfo} */ m) => [m.id, m])) }))
    .catch(() => ({ name: '', chainId: '', self: null, members: new Map() }));
  return consortiumPromise;
}

/** @param {string | null | undefined} id */
async function memberName(id) {
  if (!id) return null;
  const m = (await consortium()).members.get(id);
  return m ? { name: m.name, role: m.role } : { name: short(id, 8), role: 'unknown member' };
}

// ---------------------------------------------------------------------------------------------
// Health panel
// ---------------------------------------------------------------------------------------------

/** @param {string} id @param {string} text @param {string} [cls] */
function stat(id, text, cls) {
  const el = document.getElementById(id);
  if (!el) return;
  const v = /** @type {HTMLElement} */ (el.querySelector('.v'));
  v.textContent = text;
  el.className = `stat${cls ? ` ${cls}` : ''}`;
}

let lastTip = '';
async function refreshHealth() {
  try {
    const res = await fetch('/health', { headers: { accept: 'application/json' } });
    const hl = await res.json();
    stat('h-status', hl.status === 'ok' ? (hl.synced ? 'ready' : 'syncing') : 'unavailable', hl.status === 'ok' ? 'good' : 'bad');
    stat('h-height', String(hl.height));
    stat('h-age', ago(hl.lastBlockAgeMs), hl.lastBlockAgeMs > 120_000 ? 'warn' : '');
    stat('h-peers', String(hl.peers));
    stat('h-hashrate', rate(hl.hashrate));
    stat('h-mempool', `${hl.mempool ?? 0} tx${hl.mempool === 1 ? '' : 's'}`);
    if (hl.tip && hl.tip !== lastTip) {
      lastTip = hl.tip;
      document.dispatchEvent(new CustomEvent('tip', { detail: hl }));
    }
  } catch {
    stat('h-status', 'unreachable', 'bad');
  }
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

/** @param {unknown} err */
function errorBox(err) {
  if (err instanceof ApiError) {
    const p = err.problem ?? {};
    return h('div.error', { role: 'alert' }, h('strong', null, p.title ?? `HTTP ${err.status}`), ' ', p.detail ?? '', p.errors?.[0]?.message ? h('div.hint', null, p.errors[0].message) : null);
  }
  return h('div.error', { role: 'alert' }, String(err instanceof Error ? err.message : err));
}

/** @param {string} href @param {string} text @param {string} [title] */
const link = (href, text, title) => h('a', { href, title: title ?? null }, text);
const blockLink = (/** @type {string | number} */ id, /** @type {string} */ text) => link(`#/block/${encodeURIComponent(String(id))}`, text);
const txLink = (/** @type {string} */ id) => link(`#/tx/${id}`, short(id), id);
const eventLink = (/** @type {string} */ id) => link(`#/event/${encodeURIComponent(id)}`, `event ${short(id.replace(/^ni:\/\/\/sha-256;/, '').replace(/\?ver=CBV2\.0$/, ''), 6)}`, id);
const itemLink = (/** @type {string} */ id) => link(`#/item/${encodeURIComponent(id)}`, id);

/** A definition list from [term, value] pairs (null values left out). @param {[string, any][]} rows */
function facts(rows) {
  return h(
    'dl.facts',
    null,
    rows.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

/** A canonical key for people: "SSCC 0061…", "GTIN 1061… lot L1", else as is. @param {string} key */
function keyText(key) {
  const m = /^https:\/\/id\.gs1\.org\/(00|01)\/([0-9]+)(?:\/(10|21)\/([^/]+))?$/.exec(key);
  if (!m) return key;
  if (m[1] === '00') return `SSCC ${m[2]}`;
  return `GTIN ${m[2]}${m[3] ? ` ${m[3] === '10' ? 'lot' : 'serial'} ${decodeURIComponent(m[4] ?? '')}` : ''}`;
}

/**
 * How a journey step belongs to the item when it does not name it: through a container it was
 * in, as a class (lot or GTIN) event, or from an input/output of a transformation.
 * @param {EventEntry} entry @returns {string | null}
 */
function viaText(entry) {
  const via = entry.via;
  if (via === undefined) return null;
  const path = entry.path ?? [];
  if (via === 'class') return `${keyText(path[0] ?? '')} (class event)`;
  if (via === 'input' || via === 'output') return `${via} ${keyText(path[0] ?? '')}${path.length > 1 ? `, in ${path.slice(1).map(keyText).join(' in ')}` : ''}`;
  return `${keyText(via)}${path.length > 1 ? ` (holding ${path.slice(0, -1).map(keyText).join(' holding ')})` : ''}`;
}

/** The "verified in your browser" mark for one check. @param {ProofCheck | null} c */
function mark(c) {
  if (c === null) return h('span.mark.pending', { title: 'not in a block yet' }, '… waiting for a block');
  if (c.ok) return h('span.mark.ok', { title: `tx ${c.txId} · block ${c.blockHash} · SHA-256 by ${c.engine === 'webcrypto' ? 'WebCrypto' : 'this page'}` }, '✓ proof verified in your browser');
  return h('span.mark.bad', { title: c.problems.join('\n') }, `✗ proof check failed: ${c.problems[0]}`);
}

async function homeView() {
  const recent = h('tbody');
  const tipBox = h('div.tip');
  const section = h(
    'section.home',
    null,
    h(
      'div.intro',
      null,
      h('h1', null, 'Where has this pack been, and is it genuine?'),
      h('p', null, 'Scan the 2D code on a pack (its GS1 Digital Link), or paste an EPC URN or an event ID, to see the pack\'s journey from manufacturer to pharmacy. Every step comes with a proof this page checks itself — no need to trust this node.'),
    ),
    tipBox,
    h('h2', null, 'Recent blocks'),
    h('table.blocks', null, h('thead', null, h('tr', null, h('th', null, 'height'), h('th', null, 'hash'), h('th', null, 'sealed by'), h('th', null, 'txs'), h('th', null, 'size'), h('th', null, 'time'))), recent),
  );
  view.replaceChildren(section);
  const fill = async () => {
    const tip = await api('/blocks/tip');
    const sealer = tip.sealerName ?? short(tip.sealer, 8);
    tipBox.replaceChildren(
      h('span.k', null, 'chain tip'),
      blockLink(tip.hash, `#${tip.height}`),
      h('code', { title: tip.hash }, short(tip.hash, 12)),
      h('span', null, `sealed by ${sealer} · ${ago(Date.now() - tip.time)}`),
    );
    const heights = [];
    for (let i = tip.height; i >= Math.max(0, tip.height - 9); i--) heights.push(i);
    const blocks = await Promise.all(heights.map((i) => (i === tip.height ? tip : api(`/blocks/${i}`).catch(() => null))));
    recent.replaceChildren(
      ...blocks
        .filter((b) => b !== null)
        .map((b) =>
          h(
            'tr',
            null,
            h('td', null, blockLink(b.height, String(b.height))),
            h('td', null, h('code', { title: b.hash }, short(b.hash, 12))),
            h('td', null, b.sealerName ?? short(b.sealer, 8)),
            h('td.num', null, String(b.txIds.length)),
            h('td.num', null, b.size !== undefined ? `${(b.size / 1024).toFixed(1)} KiB` : ''),
            h('td', { title: new Date(b.time).toISOString() }, ago(Date.now() - b.time)),
          ),
        ),
    );
  };
  await fill();
  const onTip = () => {
    if (!section.isConnected) return document.removeEventListener('tip', onTip);
    fill().catch(() => undefined);
  };
  document.addEventListener('tip', onTip);
}

/** @param {string} id */
async function blockView(id) {
  const b = await api(`/blocks/${encodeURIComponent(id)}`);
  // Check here what the header says: SHA-256d(header) = hash, and the hash meets its target.
  const header = hexToBytes(b.header);
  let headerCheck = h('span.mark.bad', null, '✗ header missing');
  if (header !== null && header.length === 112) {
    const hash = bytesToHex(await engine.sha256(await engine.sha256(header)));
    const target = compactTarget(new DataView(header.buffer).getUint32(100, true));
    const ok = hash === b.hash && target !== null && BigInt(`0x${hash}`) <= target;
    headerCheck = ok ? h('span.mark.ok', null, '✓ header hash and proof of work checked in your browser') : h('span.mark.bad', null, '✗ the header does not hash to this block');
  }
  const sealer = await memberName(b.sealer);
  view.replaceChildren(
    h(
      'section.block',
      null,
      h('h1', null, `Block #${b.height}`, b.mainChain ? null : h('span.badge.suspect', null, 'not on the main chain')),
      headerCheck,
      facts([
        ['hash', h('code', null, b.hash)],
        ['previous', b.height > 0 ? blockLink(b.prevHash, short(b.prevHash, 12)) : 'none (genesis)'],
        ['time', `${when(b.time)} (${ago(Date.now() - b.time)})`],
        ['sealed by', b.sealerName ?? sealer?.name ?? b.sealer],
        ['confirmations', String(b.confirmations)],
        ['merkle root', h('code', null, b.merkleRoot)],
        ['bits / nonce', `0x${(b.bits >>> 0).toString(16)} / ${b.nonce}`],
        ['size', b.size !== undefined ? `${b.size} bytes` : null],
      ]),
      h('p.nav', null, b.height > 0 ? blockLink(b.height - 1, '← previous') : null, ' ', blockLink(b.height + 1, 'next →')),
      h('h2', null, `${b.txIds.length} transaction${b.txIds.length === 1 ? '' : 's'}`),
      b.txIds.length > 0 ? h('ol.txs', null, b.txIds.map((/** @type {string} */ t) => h('li', null, txLink(t)))) : h('p.empty', null, 'An empty block: no capture was pending when it was sealed.'),
    ),
  );
}

/** @param {string} id */
async function txView(id) {
  const t = await api(`/txs/${encodeURIComponent(id)}`);
  const tx = t.tx;
  const who = await memberName(tx.submitter);
  const check = t.proof ? await verifyEventProof(tx.eventIds[0], t.proof, engine) : null;
  view.replaceChildren(
    h(
      'section.tx',
      null,
      h('h1', null, 'Transaction'),
      mark(check),
      facts([
        ['tx ID', h('code', null, t.txId)],
        ['submitted by', who ? `${who.name} (${who.role})` : tx.submitter],
        ['time', when(tx.time)],
        ['block', t.block ? blockLink(t.block.hash, `#${t.block.height}`) : 'pending (in the mempool)'],
        ['confirmations', String(t.confirmations)],
      ]),
      h('h2', null, `${tx.events.length} event${tx.events.length === 1 ? '' : 's'}`),
      h(
        'ol.events',
        null,
        tx.events.map((/** @type {Record<string, any>} */ e, /** @type {number} */ i) =>
          h('li', null, eventLink(tx.eventIds[i]), ' ', h('span', null, `${e.type ?? ''} · ${label(e.bizStep) || e.action || ''} · ${e.eventTime ?? ''}`)),
        ),
      ),
    ),
  );
}

/** @param {Record<string, any>} e */
function epcsOf(e) {
  const out = [];
  for (const k of ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList']) if (Array.isArray(e[k])) out.push(...e[k].filter((/** @type {unknown} */ x) => typeof x === 'string'));
  if (typeof e.parentID === 'string') out.unshift(e.parentID);
  return out;
}

/** @param {string} id */
async function eventView(id) {
  const entry = /** @type {EventEntry} */ (await api(`/events/${encodeURIComponent(id)}/proof`));
  const check = entry.proof ? await verifyEventProof(entry.eventId, entry.proof, engine) : null;
  const who = await memberName(check?.submitter ?? null);
  const e = entry.event;
  view.replaceChildren(
    h(
      'section.event',
      null,
      h('h1', null, `${label(e.bizStep) || e.type || 'Event'}`),
      mark(check),
      facts([
        ['event ID', h('code', null, entry.eventId)],
        ['type / action', `${e.type ?? ''} ${e.action ?? ''}`],
        ['when', e.eventTime ? `${when(e.eventTime)} (${e.eventTimeZoneOffset ?? ''})` : null],
        ['recorded by', who ? `${who.name} (${who.role})` : null],
        ['where', place(e.readPoint)?.text ?? place(e.bizLocation)?.text ?? null],
        ['disposition', label(e.disposition)],
        ['tx', txLink(entry.txId)],
        ['block', entry.block ? blockLink(entry.block.hash, `#${entry.block.height}`) : 'pending'],
        ['confirmations', String(entry.confirmations)],
      ]),
      h('h2', null, 'Items'),
      h('ul.items', null, epcsOf(e).map((x) => h('li', null, itemLink(x)))),
      h('details', null, h('summary', null, 'The event as captured (EPCIS 2.0 JSON)'), h('pre', null, JSON.stringify(e, null, 2))),
    ),
  );
  // The journey of the event's (first) item, this event marked in it.
  const first = epcsOf(e)[0];
  if (first !== undefined) {
    const slot = h('div.journey-of');
    view.append(slot);
    await journey(first, entry.eventId, (section) => slot.replaceChildren(section)).catch((err) => slot.replaceChildren(errorBox(err)));
  }
}

const STATUS_TEXT = {
  active: 'Active — genuine and in the supply chain',
  in_transit: 'In transit',
  dispensed: 'Dispensed to a patient',
  decommissioned: 'Decommissioned',
  recalled: 'RECALLED — do not dispense',
  destroyed: 'Destroyed',
  suspect: 'SUSPECT — conflicting records, check before use',
  unknown: 'Unknown to this chain',
};

/** @param {string} id */
async function itemView(id) {
  view.replaceChildren(h('p.loading', null, 'Looking up ', id, ' …'));
  await journey(id, null, (section) => view.replaceChildren(section));
}

/**
 * An item's status card and journey timeline. `show` puts the section on the page as soon as it
 * is built; the proofs are then checked and the marks filled in. `highlight` marks one event.
 * @param {string} id
 * @param {string | null} highlight
 * @param {(section: HTMLElement) => void} show
 */
async function journey(id, highlight, show) {
  const enc = encodeURIComponent(id);
  const [trace, status] = await Promise.all([api(`/trace/${enc}`), api(`/verify?id=${enc}`).catch(() => null)]);
  /** @type {EventEntry[]} */
  const events = trace.events;
  /** @type {Alert[]} */
  const alerts = trace.alerts ?? [];
  const st = /** @type {keyof typeof STATUS_TEXT} */ (trace.status);
  const summary = h('div#proof-summary.summary', { 'data-state': 'checking' }, `Checking ${events.length} proof${events.length === 1 ? '' : 's'} in your browser …`);
  const expired = status?.expiry && status.expiry < new Date().toISOString().slice(0, 10);
  const card = h(
    'div.card',
    null,
    h(
      'div.status-line',
      null,
      h(`span.badge.${st}`, { id: 'item-status' }, st.replace('_', ' ')),
      h('span.status-text', null, st === 'unknown' && events.length > 0 ? 'Never commissioned on this chain — origin not recorded here' : (STATUS_TEXT[st] ?? st)),
    ),
    h('h1.item-id', { title: trace.key ?? id }, id),
    facts([
      ['GTIN', status?.gtin ?? null],
      ['serial', status?.serial ?? null],
      ['manufacturer', status?.manufacturer ?? null],
      ['lot', status?.lot ? `${status.lot}${status.lotRecalled ? ' (lot recalled)' : ''}` : null],
      ['expiry', status?.expiry ? h(expired ? 'span.expired' : 'span', null, status.expiry + (expired ? ' — expired' : '')) : null],
      ['held by', status?.custodian ?? null],
    ]),
    alerts.length > 0
      ? h(
          'ul.alerts',
          { role: 'alert' },
          alerts.map((a) => h('li', null, h('strong', null, label(a.code.toLowerCase())), ' — ', a.message, ' ', h('small', null, `(${when(a.time)})`))),
        )
      : null,
  );
  const list = h('ol#timeline.timeline');
  show(
    h(
      'section.item',
      null,
      card,
      summary,
      h('h2', null, `Journey · ${events.length} event${events.length === 1 ? '' : 's'}`),
      events.length ? list : h('p.empty', null, 'No confirmed event for this identifier yet.'),
      trace.nextPageToken ? h('p.more', null, 'Older events than these exist; the API pages them with nextPageToken.') : null,
    ),
  );

  const alertBy = new Map(alerts.map((a) => [a.eventId, a]));
  // Every step is on the page, in the journey's order, before any proof is checked: the checks
  // run concurrently and finish in any order, each filling in its own step (its mark and who
  // recorded it, which the check reads from the proof's tx).
  const steps = events.map((entry) => {
    const e = entry.event;
    const where = place(e.readPoint) ?? place(e.bizLocation);
    const alert = alertBy.get(entry.eventId);
    const step = label(e.bizStep) || `${e.type ?? 'Event'} ${label(e.action?.toLowerCase())}`;
    const kind = typeof e.bizStep === 'string' ? e.bizStep.replace(/^.*[:-]/, '') : 'other';
    const via = viaText(entry);
    const markSlot = h('span.mark.pending', { title: 'checking the proof in your browser' }, '… checking the proof');
    const whoSlot = h('span.who', { hidden: true });
    const li = h(
      `li.step.${kind}${entry.eventId === highlight ? '.highlight' : ''}${via !== null ? '.via' : ''}`,
      { 'data-event-id': entry.eventId, 'data-verified': 'pending', 'data-via': entry.via ?? null, 'aria-current': entry.eventId === highlight ? 'step' : null },
      h('div.dot', { 'aria-hidden': 'true' }),
      h(
        'div.body',
        null,
        h(
          'div.head',
          null,
          h('strong.what', null, step),
          e.disposition ? h('span.disp', null, label(e.disposition)) : null,
          alert ? h('span.badge.suspect', { title: alert.message }, label(alert.code.toLowerCase())) : null,
          via !== null ? h('span.via', { title: (entry.path ?? []).join(' › ') }, `via ${via}`) : null,
        ),
        h('div.meta', null, h('span.when', { title: e.eventTime }, e.eventTime ? when(e.eventTime) : '—'), whoSlot, where ? h('span.where', { title: where.title }, where.text) : null),
        h('div.proof', null, markSlot, ' ', entry.block ? blockLink(entry.block.hash, `block #${entry.block.height}`) : null, ` · ${entry.confirmations} confirmation${entry.confirmations === 1 ? '' : 's'} · `, eventLink(entry.eventId)),
      ),
    );
    list.append(li);
    return { entry, li, markSlot, whoSlot };
  });
  const checks = await Promise.all(
    steps.map(async ({ entry, li, markSlot, whoSlot }) => {
      const check = entry.proof ? await verifyEventProof(entry.eventId, entry.proof, engine) : null;
      const who = await memberName(check?.submitter ?? null);
      if (who) {
        whoSlot.textContent = `${who.name} (${who.role})`;
        whoSlot.hidden = false;
      }
      markSlot.replaceWith(mark(check));
      li.dataset.verified = check?.ok ? 'true' : 'false';
      return check;
    }),
  );
  const good = checks.filter((c) => c?.ok).length;
  if (events.length === 0) {
    summary.dataset.state = 'none';
    summary.textContent = 'Nothing to verify yet.';
  } else if (good === events.length) {
    summary.dataset.state = 'verified';
    summary.className = 'summary ok';
    summary.replaceChildren(h('span.big', null, '✓'), ` All ${good} proof${good === 1 ? '' : 's'} verified in your browser`, h('small', null, ` — SHA-256 by ${engine.engine === 'webcrypto' ? 'WebCrypto' : 'this page (no WebCrypto here)'}; every event is in a block whose proof of work holds`));
  } else {
    summary.dataset.state = 'failed';
    summary.className = 'summary bad';
    summary.replaceChildren(h('span.big', null, '✗'), ` ${events.length - good} of ${events.length} proofs did not check out — do not trust this answer`);
  }
}

// ---------------------------------------------------------------------------------------------
// Search and routing
// ---------------------------------------------------------------------------------------------

/** The members at the tip, each with its history of changes (and key history), and the governance proposals. */
async function membersView() {
  const [m, p] = await Promise.all([api('/members'), api('/governance/proposals')]);
  /** @type {Map<string, string>} */
  const names = new Map();
  const rows = m.members.map((/** @type {any} */ x) =>
    h(
      'tr',
      null,
      h('td', null, x.name),
      h('td', null, x.role),
      h('td', null, x.status),
      h('td', null, x.canSeal ? 'yes' : 'no'),
      h('td', null, x.keys.map((/** @type {string} */ k, /** @type {number} */ i) => h('code', { title: i === x.keys.length - 1 ? 'current key' : 'retired key' }, `${short(k, 8)}${i === x.keys.length - 1 ? '' : ' (retired)'} `))),
      h('td', null, x.history.map((/** @type {any} */ c) => [h('span', null, `${c.change} at `), blockLink(c.height, `#${c.height}`), ' '])),
    ),
  );
  for (const x of m.members) names.set(x.id, x.name);
  const proposals = p.proposals.map((/** @type {any} */ x) =>
    h(
      'tr',
      null,
      h('td', null, h('code', { title: x.id }, short(x.id, 8))),
      h('td', null, `${x.change.type} ${x.change.type === 'add' ? x.change.member.name : x.change.type === 'policy' ? '' : (names.get(x.change.member) ?? short(x.change.member, 8))}`),
      h('td', null, x.status),
      h('td', null, x.approvals.map((/** @type {any} */ a) => a.name).join(', ')),
      h('td', null, blockLink(x.height, `#${x.height}`)),
      h('td', null, x.effectiveHeight !== undefined ? blockLink(x.effectiveHeight, `#${x.effectiveHeight}`) : `expires after #${x.expiresAfter}`),
    ),
  );
  view.replaceChildren(
    h(
      'section.members',
      null,
      h('h1', null, 'Members'),
      h('p', null, `At height ${m.height}: ${m.voters} voting members, ${m.approvalsNeeded} approvals needed. Registry ${short(m.registryHash, 12)}.`),
      h('table.blocks', null, h('thead', null, h('tr', null, h('th', null, 'name'), h('th', null, 'role'), h('th', null, 'status'), h('th', null, 'seals'), h('th', null, 'keys'), h('th', null, 'history'))), h('tbody', null, rows)),
      h('h2', null, 'Governance proposals'),
      h('table.blocks', null, h('thead', null, h('tr', null, h('th', null, 'proposal'), h('th', null, 'change'), h('th', null, 'status'), h('th', null, 'approvals'), h('th', null, 'proposed'), h('th', null, 'effective'))), h('tbody', null, proposals)),
    ),
  );
}

/**
 * A member's open alerts (new and investigating) where it is a party: this node's member unless
 * the route names another (#/alerts/NAME). docs/alerts.md.
 * @param {string | null} who
 */
async function alertsView(who) {
  const c = await consortium();
  const name = who ?? c.self?.name ?? null;
  if (name === null) {
    view.replaceChildren(h('section.alerts', null, h('h1', null, 'Open alerts'), h('p', null, 'This node has no member: name one as #/alerts/NAME.')));
    return;
  }
  const q = `party=${encodeURIComponent(name)}`;
  const [fresh, open] = await Promise.all([api(`/alerts?${q}&status=new`), api(`/alerts?${q}&status=investigating`)]);
  /** @type {any[]} */
  const list = [...fresh.alerts, ...open.alerts].sort((a, b) => b.raisedBy.height - a.raisedBy.height);
  const rows = list.map((a) =>
    h(
      'tr',
      null,
      h('td', null, h('code', { title: a.id }, short(a.id, 8))),
      h('td', null, a.code),
      h('td', null, a.status),
      h('td', null, a.ownerName ?? '—'),
      h('td', null, a.items.slice(0, 3).map((/** @type {string} */ k) => [h('a', { href: `#/item/${encodeURIComponent(k)}` }, short(k, 24)), ' ']), a.itemCount > 3 ? `… ${a.itemCount} packs` : ''),
      h('td', null, blockLink(a.raisedBy.height, `#${a.raisedBy.height}`), ' ', h('a', { href: `#/tx/${a.raisedBy.txId}` }, 'tx')),
      h('td', null, a.message),
    ),
  );
  view.replaceChildren(
    h(
      'section.alerts',
      null,
      h('h1', null, `Open alerts of ${name}`),
      h('p', null, `${list.length} open (new or investigating) at height ${fresh.height}; the owner (the manufacturer) or a regulator closes them.${fresh.next || open.next ? ' The first page of each status is shown.' : ''}`),
      list.length === 0
        ? h('p', null, 'No open alerts.')
        : h('table.blocks', null, h('thead', null, h('tr', null, h('th', null, 'alert'), h('th', null, 'code'), h('th', null, 'status'), h('th', null, 'owner'), h('th', null, 'packs'), h('th', null, 'raised'), h('th', null, 'message'))), h('tbody', null, rows)),
    ),
  );
}

/** Where a search term leads. @param {string} raw @returns {Promise<string>} */
async function route(raw) {
  const q = raw.trim();
  if (q === '') return '#/';
  if (/^ni:\/\/\/sha-256;/i.test(q)) return `#/event/${encodeURIComponent(q)}`;
  if (/^[0-9]{1,10}$/.test(q)) return `#/block/${q}`;
  if (/^[0-9a-fA-F]{64}$/.test(q)) {
    const id = q.toLowerCase();
    const tx = await api(`/txs/${id}`, { allow: [404] }).catch(() => null);
    return tx && tx.txId ? `#/tx/${id}` : `#/block/${id}`;
  }
  return `#/item/${encodeURIComponent(q)}`;
}

async function render() {
  const hash = location.hash || '#/';
  const m = /^#\/(block|tx|event|item)\/(.+)$/.exec(hash);
  view.setAttribute('aria-busy', 'true');
  try {
    if (hash === '#/members') await membersView();
    else if (hash === '#/alerts' || hash.startsWith('#/alerts/')) await alertsView(hash.length > 9 ? decodeURIComponent(hash.slice(9)) : null);
    else if (!m) await homeView();
    else {
      const arg = decodeURIComponent(/** @type {string} */ (m[2]));
      const q = /** @type {HTMLInputElement} */ (document.getElementById('q'));
      if (m[1] === 'item' || m[1] === 'event') q.value = arg;
      if (m[1] === 'block') await blockView(arg);
      else if (m[1] === 'tx') await txView(arg);
      else if (m[1] === 'event') await eventView(arg);
      else await itemView(arg);
    }
  } catch (err) {
    view.replaceChildren(errorBox(err));
  } finally {
    view.removeAttribute('aria-busy');
  }
}

document.getElementById('search')?.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = /** @type {HTMLInputElement} */ (document.getElementById('q')).value;
  const target = await route(q).catch(() => `#/item/${encodeURIComponent(q)}`);
  if (location.hash === target) render();
  else location.hash = target;
});
window.addEventListener('hashchange', () => void render());

consortium().then((c) => {
  const el = document.getElementById('chain-name');
  if (el && c.name) el.textContent = `${c.name}${c.self ? ` · node of ${c.self.name}` : ''}`;
});
refreshHealth();
setInterval(refreshHealth, 3000);
render();
