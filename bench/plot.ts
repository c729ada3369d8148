/**
 * Small hand-written SVG charts for the benchmark report: a line chart (linear or log x) and a
 * grouped bar chart (linear or log y). No dependencies; the SVG is plain enough for GitHub's
 * README rendering and for Debian's rsvg-convert (PNG copies, when it is installed).
 */

export interface Series {
  name: string;
  points: [number, number][];
  color: string;
  dashed?: boolean;
  /** Draw the points' values as labels. */
  labels?: boolean;
}

export interface LineChart {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  /** Ticks on x (default: the points' x values). */
  xTicks?: number[];
  /** Format of y values (ticks and labels). */
  yFormat?: (v: number) => string;
  xFormat?: (v: number) => string;
  /** Vertical marker lines. */
  markers?: { x: number; label: string }[];
  /** y axis from 0 (default true). */
  yFromZero?: boolean;
}

export interface BarChart {
  title: string;
  subtitle?: string;
  yLabel: string;
  categories: string[];
  groups: { name: string; values: (number | null)[]; color: string }[];
  logY?: boolean;
  yFormat?: (v: number) => string;
}

const W = 760;
const H = 460;
const M = { top: 84, right: 28, bottom: 86, left: 78 };
const FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'";
export const PALETTE = ['#0f5e6b', '#e07a2e', '#6b4fbb', '#1a7f37', '#b42318', '#5b6873'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1.2k, 3.4M …; integers below 1000 as they are, else 3 significant digits. */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return String(+v.toPrecision(2));
}

/** "Nice" linear ticks covering [lo, hi] (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag) as number;
  const out: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  if ((out[out.length - 1] as number) < hi) out.push(+((out[out.length - 1] as number) + step).toPrecision(12));
  return out;
}

/** Powers of ten covering [lo, hi] (lo > 0). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/** Split a subtitle at " · " separators into lines of at most `width` characters (two at most). */
function wrap(text: string, width: number): string[] {
  if (text === '') return [];
  const parts = text.split(' · ');
  const lines: string[] = [''];
  for (const p of parts) {
    const cur = lines[lines.length - 1] as string;
    if (cur !== '' && cur.length + 3 + p.length > width && lines.length < 2) lines.push(p);
    else lines[lines.length - 1] = cur === '' ? p : `${cur} · ${p}`;
  }
  return lines;
}

function frame(title: string, subtitle: string | undefined, body: string[]): string {
  return [
    `<svg xmlns='http://www.w3.org/2000/svg' width='${W}' height='${H}' viewBox='0 0 ${W} ${H}' ${FONT}>`,
    `<rect width='${W}' height='${H}' fill='#ffffff'/>`,
    `<text x='${M.left}' y='28' font-size='17' font-weight='bold' fill='#17222b'>${escapeXml(title)}</text>`,
    ...wrap(subtitle ?? '', 100).map((line, i) => `<text x='${M.left}' y='${48 + 15 * i}' font-size='12' fill='#5b6873'>${escapeXml(line)}</text>`),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function legend(items: { name: string; color: string; dashed?: boolean; bar?: boolean }[]): string[] {
  const out: string[] = [];
  let x = M.left;
  const y = H - 18;
  for (const it of items) {
    if (it.bar) out.push(`<rect x='${x}' y='${y - 9}' width='14' height='10' fill='${it.color}'/>`);
    else out.push(`<line x1='${x}' y1='${y - 4}' x2='${x + 18}' y2='${y - 4}' stroke='${it.color}' stroke-width='2.5'${it.dashed ? " stroke-dasharray='5 4'" : ''}/>`);
    out.push(`<text x='${x + 24}' y='${y}' font-size='12' fill='#17222b'>${escapeXml(it.name)}</text>`);
    x += 44 + it.name.length * 7.2;
  }
  return out;
}

export function lineChart(c: LineChart): string {
  const fy = c.yFormat ?? compact;
  const fx = c.xFormat ?? compact;
  const pts = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length === 0) return frame(c.title, c.subtitle ?? 'no data', []);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const xTicks = c.xTicks ?? [...new Set(xs)].sort((a, b) => a - b);
  let xLo = Math.min(...xs, ...xTicks);
  let xHi = Math.max(...xs, ...xTicks);
  if (xLo === xHi) [xLo, xHi] = c.logX ? [xLo / 2, xHi * 2] : [xLo - 1, xHi + 1];
  const yTicks = niceTicks(c.yFromZero === false ? Math.min(...ys) : 0, Math.max(...ys) * 1.08);
  const yLo = yTicks[0] as number;
  const yHi = yTicks[yTicks.length - 1] as number;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number => M.left + (c.logX ? (Math.log(x) - Math.log(xLo)) / (Math.log(xHi) - Math.log(xLo)) : (x - xLo) / (xHi - xLo)) * pw;
  const sy = (y: number): number => M.top + ph - ((y - yLo) / (yHi - yLo)) * ph;
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1='${M.left}' y1='${sy(t).toFixed(1)}' x2='${W - M.right}' y2='${sy(t).toFixed(1)}' stroke='#e3e8ec'/>`);
    body.push(`<text x='${M.left - 8}' y='${(sy(t) + 4).toFixed(1)}' font-size='11' text-anchor='end' fill='#5b6873'>${escapeXml(fy(t))}</text>`);
  }
  for (const t of xTicks) {
    body.push(`<line x1='${sx(t).toFixed(1)}' y1='${M.top + ph}' x2='${sx(t).toFixed(1)}' y2='${M.top + ph + 5}' stroke='#5b6873'/>`);
    body.push(`<text x='${sx(t).toFixed(1)}' y='${M.top + ph + 19}' font-size='11' text-anchor='middle' fill='#5b6873'>${escapeXml(fx(t))}</text>`);
  }
  body.push(`<line x1='${M.left}' y1='${M.top + ph}' x2='${W - M.right}' y2='${M.top + ph}' stroke='#5b6873'/>`);
  body.push(`<line x1='${M.left}' y1='${M.top}' x2='${M.left}' y2='${M.top + ph}' stroke='#5b6873'/>`);
  body.push(`<text x='${M.left + pw / 2}' y='${M.top + ph + 40}' font-size='12' text-anchor='middle' fill='#17222b'>${escapeXml(c.xLabel)}</text>`);
  body.push(`<text transform='translate(18 ${M.top + ph / 2}) rotate(-90)' font-size='12' text-anchor='middle' fill='#17222b'>${escapeXml(c.yLabel)}</text>`);
  for (const m of c.markers ?? []) {
    if (m.x < xLo || m.x > xHi) continue;
    body.push(`<line x1='${sx(m.x).toFixed(1)}' y1='${M.top}' x2='${sx(m.x).toFixed(1)}' y2='${M.top + ph}' stroke='#9aa5ae' stroke-dasharray='2 4'/>`);
    body.push(`<text x='${(sx(m.x) + 5).toFixed(1)}' y='${M.top + 12}' font-size='11' fill='#5b6873'>${escapeXml(m.label)}</text>`);
  }
  for (const s of c.series) {
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    if (p.length === 0) continue;
    const d = p.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`).join(' ');
    body.push(`<path d='${d}' fill='none' stroke='${s.color}' stroke-width='2.5'${s.dashed ? " stroke-dasharray='6 5'" : ''}/>`);
    for (const [x, y] of p) {
      if (!s.dashed) body.push(`<circle cx='${sx(x).toFixed(1)}' cy='${sy(y).toFixed(1)}' r='4' fill='${s.color}'/>`);
      if (s.labels) body.push(`<text x='${sx(x).toFixed(1)}' y='${(sy(y) - 9).toFixed(1)}' font-size='11' text-anchor='middle' fill='${s.color}'>${escapeXml(fy(y))}</text>`);
    }
  }
  body.push(...legend(c.series));
  return frame(c.title, c.subtitle, body);
}

export function barChart(c: BarChart): string {
  const fy = c.yFormat ?? compact;
  const vals = c.groups.flatMap((g) => g.values).filter((v): v is number => v !== null && Number.isFinite(v) && (!c.logY || v > 0));
  if (vals.length === 0 || c.categories.length === 0) return frame(c.title, c.subtitle ?? 'no data', []);
  const yTicks = c.logY ? logTicks(Math.min(...vals), Math.max(...vals)) : niceTicks(0, Math.max(...vals) * 1.08);
  const yLo = yTicks[0] as number;
  const yHi = yTicks[yTicks.length - 1] as number;
  const bottom = M.bottom + 24; // room for three-line category labels
  const pw = W - M.left - M.right;
  const ph = H - M.top - bottom;
  const sy = (y: number): number => M.top + ph - (c.logY ? (Math.log(y) - Math.log(yLo)) / (Math.log(yHi) - Math.log(yLo)) : (y - yLo) / (yHi - yLo)) * ph;
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1='${M.left}' y1='${sy(t).toFixed(1)}' x2='${W - M.right}' y2='${sy(t).toFixed(1)}' stroke='#e3e8ec'/>`);
    body.push(`<text x='${M.left - 8}' y='${(sy(t) + 4).toFixed(1)}' font-size='11' text-anchor='end' fill='#5b6873'>${escapeXml(fy(t))}</text>`);
  }
  body.push(`<line x1='${M.left}' y1='${M.top + ph}' x2='${W - M.right}' y2='${M.top + ph}' stroke='#5b6873'/>`);
  body.push(`<line x1='${M.left}' y1='${M.top}' x2='${M.left}' y2='${M.top + ph}' stroke='#5b6873'/>`);
  body.push(`<text transform='translate(18 ${M.top + ph / 2}) rotate(-90)' font-size='12' text-anchor='middle' fill='#17222b'>${escapeXml(c.yLabel)}</text>`);
  const slot = pw / c.categories.length;
  const bw = Math.min(28, (slot * 0.75) / c.groups.length);
  c.categories.forEach((cat, i) => {
    const cx = M.left + slot * (i + 0.5);
    c.groups.forEach((g, j) => {
      const v = g.values[i];
      if (v === null || v === undefined || !Number.isFinite(v) || (c.logY && v <= 0)) return;
      const x = cx - (bw * c.groups.length) / 2 + j * bw;
      const y = sy(Math.max(v, yLo));
      body.push(`<rect x='${x.toFixed(1)}' y='${y.toFixed(1)}' width='${(bw - 2).toFixed(1)}' height='${(M.top + ph - y).toFixed(1)}' fill='${g.color}'/>`);
      body.push(`<text x='${(x + bw / 2 - 1).toFixed(1)}' y='${(y - 4).toFixed(1)}' font-size='10' text-anchor='middle' fill='#17222b'>${escapeXml(fy(v))}</text>`);
    });
    // Category label, wrapped on " · " or spaces into at most two lines.
    const words = cat.split(' ');
    const lines: string[] = [''];
    for (const w of words) {
      const cur = lines[lines.length - 1] as string;
      if (cur.length + w.length + 1 > Math.max(10, Math.floor(slot / 6.2)) && cur !== '' && lines.length < 3) lines.push(w);
      else lines[lines.length - 1] = cur === '' ? w : `${cur} ${w}`;
    }
    lines.forEach((l, k) => body.push(`<text x='${cx.toFixed(1)}' y='${M.top + ph + 17 + k * 14}' font-size='11' text-anchor='middle' fill='#17222b'>${escapeXml(l)}</text>`));
  });
  body.push(...legend(c.groups.map((g) => ({ name: g.name, color: g.color, bar: true }))));
  return frame(c.title, c.subtitle, body);
}
