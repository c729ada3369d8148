// @ts-check
/**
 * Generator of the SHA-256d proof-of-work kernel for the 112-byte tracechain header, as a
 * WebAssembly module using 128-bit SIMD (4 nonces per instruction). Run at build time by
 * `assembly/build.mjs` (`npm run build:wasm`); pure: no I/O here.
 *
 * Why a generator rather than hand-written WAT or AssemblyScript: the interesting work is
 * staging. The whole double hash is written once, symbolically (a DAG of 32-bit lane
 * operations), and every value is classed as
 *   - `lit`   known now (SHA-256 constants, padding, the outer IV): folded here;
 *   - `const` known once the header and the nonce's high word are known: computed by
 *             `prepare()` and stored in a slot (midstate, rounds 0-9 of the second chunk,
 *             the nonce-independent part of round 10, the message-schedule words and
 *             partial sums that do not depend on the nonce, K[t] + W[t] ...);
 *   - `var`   depends on the nonce's low word: computed per group of 4 nonces.
 * Nothing is hand-specialised, so nothing can be specialised wrongly: the same code builds
 * the reference graph and the staged one. Dead values (e.g. the last rounds' `e` when only
 * the first digest word is compared) disappear, common subexpressions are shared
 * (Maj reuses the previous round's a^b). Literals the per-nonce code needs (K[t] + W[t] sums,
 * padding terms) are stored in slots by prepare() too: a memory operand costs less than
 * materialising a v128.const. Schedule words are built just before the round that uses
 * them, to keep live ranges short (register pressure is what limits V8's code here).
 *
 * Exports of the module:
 *   memory                    1 page
 *   HEADER_PTR (i32 global)   28 u32 header words (big-endian values, as SHA-256 reads them);
 *                             word 26 (nonce low) is ignored, word 27 = byteswap(nonce high)
 *   OUT_PTR    (i32 global)   hash4 output: 8 x v128, word j of lane l at OUT_PTR + 16j + 4l
 *   prepare()                 after changing the header words
 *   scan(lo, groups, tw0) -> i32
 *       tests nonce low words lo, lo+1, ... (4 per group, wrapping mod 2^32) and returns the
 *       index of the first group holding a lane whose first digest word (big-endian) is
 *       <= tw0 (unsigned), or -1. The caller checks candidates exactly with hash4.
 *   hash4(lo)                 full digests of nonce low words lo..lo+3 to OUT_PTR
 */

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

export const HEADER_PTR = 0;
export const OUT_PTR = 128;
const CONST_PTR = 256;
const NONCE_WORD = 26; // header word holding the nonce's low 32 bits (bytes 104..107)
const HEADER_WORDS = 28;

const LIT = 0;
const CONST = 1;
const VAR = 2;

/**
 * @typedef {'add'|'xor'|'and'|'shl'|'shr'|'in'|'nonce'|'lit'} Op
 * @typedef {{ id: number, op: Op, args: number[], imm: number, cls: number, value: number, depth: number }} Node
 */

class Graph {
  constructor() {
    /** @type {Node[]} */
    this.nodes = [];
    /** @type {Map<string, number>} */
    this.memo = new Map();
  }

  /** @param {number} id */
  n(id) {
    const node = this.nodes[id];
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /**
   * @param {Op} op @param {number[]} args @param {number} imm @param {number} cls @param {number} value
   * @returns {number}
   */
  make(op, args, imm, cls, value) {
    const key = `${op}:${imm}:${value}:${args.join(',')}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const id = this.nodes.length;
    let depth = 0;
    for (const a of args) depth = Math.max(depth, this.n(a).depth + 1);
    this.nodes.push({ id, op, args, imm, cls, value, depth });
    this.memo.set(key, id);
    return id;
  }

  /** @param {number} v */
  lit(v) {
    return this.make('lit', [], 0, LIT, v >>> 0);
  }

  /** @param {number} word */
  input(word) {
    if (word === NONCE_WORD) return this.make('nonce', [], 0, VAR, 0);
    return this.make('in', [], word, CONST, 0);
  }

  /** @param {number} id */
  isLit(id, v = -1) {
    const node = this.n(id);
    return node.op === 'lit' && (v < 0 || node.value === v);
  }

  /** @param {'add'|'xor'|'and'} op @param {number} a @param {number} b */
  bin(op, a, b) {
    const na = this.n(a);
    const nb = this.n(b);
    if (na.cls === LIT && nb.cls === LIT) {
      const x = na.value;
      const y = nb.value;
      return this.lit(op === 'add' ? x + y : op === 'xor' ? x ^ y : x & y);
    }
    if (op !== 'and' && this.isLit(a, 0)) return b;
    if (op !== 'and' && this.isLit(b, 0)) return a;
    if (op === 'and' && (this.isLit(a, 0) || this.isLit(b, 0))) return this.lit(0);
    // canonical operand order for sharing: earlier node first
    const [p, q] = a <= b ? [a, b] : [b, a];
    return this.make(op, [p, q], 0, Math.max(na.cls, nb.cls), 0);
  }

  /** @param {'shl'|'shr'} op @param {number} a @param {number} s */
  shift(op, a, s) {
    const na = this.n(a);
    if (na.cls === LIT) return this.lit(op === 'shl' ? na.value << s : na.value >>> s);
    return this.make(op, [a], s, na.cls, 0);
  }

  /**
   * xor of rotations right by rs and shifts right by ss, where rotr(x, r) = x>>>r ^ x<<(32-r),
   * as two nested chains: x>>>a ^ x>>>b ^ x>>>c = ((x>>>(c-b) ^ x)>>>(b-a) ^ x)>>>a (logical
   * shifts distribute over xor), likewise for the left shifts. The op count is that of the
   * flat form, but only two shifted copies of x are live at a time: fewer register spills,
   * measured ~20% faster than a balanced xor tree of six shifts.
   * @param {number} x @param {number[]} rs @param {number[]} ss
   */
  rotXor(x, rs, ss) {
    const right = [...rs, ...ss].sort((a, b) => b - a); // descending
    const left = rs.map((r) => 32 - r).sort((a, b) => a - b); // ascending
    /** @param {'shl'|'shr'} op @param {number[]} amounts largest last applied first */
    const chain = (op, amounts) => {
      if (amounts.length === 0) return -1;
      let acc = x;
      for (let i = 0; i + 1 < amounts.length; i++) {
        acc = this.bin('xor', this.shift(op, acc, /** @type {number} */ (amounts[i]) - /** @type {number} */ (amounts[i + 1])), x);
      }
      return this.shift(op, acc, /** @type {number} */ (amounts[amounts.length - 1]));
    };
    const r = chain('shr', right);
    const l = chain('shl', left.reverse());
    return l < 0 ? r : this.bin('xor', r, l);
  }

  /**
   * Sum of terms, staged: literal and job-constant terms are added together first (that sum
   * is computed once, in prepare), then the nonce-dependent terms, earliest-available first.
   * @param {number[]} terms
   */
  sum(terms) {
    let lit = 0;
    /** @type {number[]} */
    const consts = [];
    /** @type {number[]} */
    const vars = [];
    for (const t of terms) {
      const node = this.n(t);
      if (node.cls === LIT) lit = (lit + node.value) >>> 0;
      else if (node.cls === CONST) consts.push(t);
      else vars.push(t);
    }
    let acc = this.lit(lit);
    consts.sort((x, y) => this.n(x).depth - this.n(y).depth);
    for (const c of consts) acc = this.bin('add', acc, c);
    vars.sort((x, y) => this.n(x).depth - this.n(y).depth);
    for (const v of vars) acc = this.bin('add', acc, v);
    return acc;
  }
}

/**
 * One SHA-256 compression: returns the 8 output words (state + working variables).
 * @param {Graph} g @param {number[]} state @param {number[]} block 16 word nodes
 */
function compress(g, state, block) {
  const w = block.slice();
  /** message schedule word t, built just before the round that uses it (short live ranges) */
  const schedule = (/** @type {number} */ t) => {
    const w2 = /** @type {number} */ (w[t - 2]);
    const w15 = /** @type {number} */ (w[t - 15]);
    const s1 = g.rotXor(w2, [17, 19], [10]);
    const s0 = g.rotXor(w15, [7, 18], [3]);
    w.push(g.sum([s1, /** @type {number} */ (w[t - 7]), s0, /** @type {number} */ (w[t - 16])]));
  };
  let [a, b, c, d, e, f, h0, h] = /** @type {number[]} */ (state);
  let gg = h0;
  for (let t = 0; t < 64; t++) {
    if (t >= 16) schedule(t);
    const S1 = g.rotXor(/** @type {number} */ (e), [6, 11, 25], []);
    const ch = g.bin('xor', g.bin('and', g.bin('xor', /** @type {number} */ (f), /** @type {number} */ (gg)), /** @type {number} */ (e)), /** @type {number} */ (gg));
    const t1 = g.sum([/** @type {number} */ (h), S1, ch, g.lit(/** @type {number} */ (K[t])), /** @type {number} */ (w[t])]);
    const S0 = g.rotXor(/** @type {number} */ (a), [2, 13, 22], []);
    // Maj(a,b,c) = ((a^b) & (b^c)) ^ b; b^c is the previous round's a^b (shared)
    const maj = g.bin('xor', g.bin('and', g.bin('xor', /** @type {number} */ (a), /** @type {number} */ (b)), g.bin('xor', /** @type {number} */ (b), /** @type {number} */ (c))), /** @type {number} */ (b));
    const t2 = g.sum([S0, maj]);
    h = gg;
    gg = f;
    f = e;
    e = g.sum([/** @type {number} */ (d), t1]);
    d = c;
    c = b;
    b = a;
    a = g.sum([t1, t2]);
  }
  const out = [a, b, c, d, e, f, gg, h];
  return state.map((s, i) => g.sum([s, /** @type {number} */ (out[i])]));
}

/** The staged SHA-256d graph of the 112-byte header. */
function buildSha256d() {
  const g = new Graph();
  /** @type {number[]} */
  const hw = [];
  for (let i = 0; i < HEADER_WORDS; i++) hw.push(g.input(i));
  const iv = IV.map((v) => g.lit(v));
  const mid = compress(g, iv, hw.slice(0, 16));
  const chunk2 = [...hw.slice(16, 28), g.lit(0x80000000), g.lit(0), g.lit(0), g.lit(112 * 8)];
  const inner = compress(g, mid, chunk2);
  const outerBlock = [...inner, g.lit(0x80000000), g.lit(0), g.lit(0), g.lit(0), g.lit(0), g.lit(0), g.lit(0), g.lit(256)];
  const outer = compress(g, iv, outerBlock);
  return { g, outer };
}

// ---------------------------------------------------------------- binary encoding

/** @param {number} n */
function uleb(n) {
  /** @type {number[]} */
  const out = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** @param {number} n */
function sleb(n) {
  /** @type {number[]} */
  const out = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** @param {number[][]} items */
function vec(items) {
  return [...uleb(items.length), ...items.flat()];
}

/** @param {string} s */
function name(s) {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

/** @param {number} id @param {number[]} payload */
function section(id, payload) {
  return [id, ...uleb(payload.length), ...payload];
}

const T_I32 = 0x7f;
const T_V128 = 0x7b;
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  call: 0x10,
  localGet: 0x20,
  localSet: 0x21,
  i32Load: 0x28,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  void: 0x40,
};
/** @param {number} sub */
const simd = (sub) => [0xfd, ...uleb(sub)];
const SIMD = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  splat32: 0x11,
  leU32: 0x3e,
  anyTrue: 0x53,
  and: 0x4e,
  xor: 0x51,
  shl32: 0xab,
  shrU32: 0xad,
  add32: 0xae,
};

/** @param {number} v */
function v128Splat(v) {
  /** @type {number[]} */
  const bytes = [];
  for (let i = 0; i < 4; i++) bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  return [...simd(SIMD.const), ...bytes];
}

/** @param {number[]} lanes four i32 lanes */
function v128Lanes(lanes) {
  /** @type {number[]} */
  const bytes = [];
  for (const v of lanes) bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  return [...simd(SIMD.const), ...bytes];
}

/** @param {number} offset */
const v128LoadAbs = (offset) => [OP.i32Const, ...sleb(0), ...simd(SIMD.load), 4, ...uleb(offset)];

/**
 * Emits straight-line code computing `targets` (and everything they need, within `allowed`
 * classes) into locals. Returns code and the locals map.
 * @param {Graph} g @param {number[]} targets
 * @param {{ stage: 'prepare' | 'core', slotOf: Map<number, number>, firstLocal: number }} ctx
 */
function emitCone(g, targets, ctx) {
  const cls = ctx.stage === 'prepare' ? CONST : VAR;
  /** @type {Set<number>} */
  const need = new Set();
  /** @type {number[]} */
  const stack = targets.slice();
  while (stack.length > 0) {
    const id = /** @type {number} */ (stack.pop());
    const node = g.n(id);
    if (node.cls !== cls || need.has(id)) continue;
    need.add(id);
    for (const a of node.args) stack.push(a);
  }
  const order = [...need].sort((x, y) => x - y);
  /** @type {Map<number, number>} */
  const local = new Map();
  let next = ctx.firstLocal;
  /** @type {number[]} */
  const code = [];
  /** @param {number} id */
  const push = (id) => {
    const node = g.n(id);
    const l = local.get(id);
    if (l !== undefined) code.push(OP.localGet, ...uleb(l));
    else if (node.cls === LIT && !(ctx.stage === 'core' && ctx.slotOf.has(id))) code.push(...v128Splat(node.value));
    else if (node.cls !== VAR && ctx.stage === 'core') {
      const slot = ctx.slotOf.get(id);
      if (slot === undefined) throw new Error(`const node ${id} has no slot`);
      code.push(...v128LoadAbs(CONST_PTR + 16 * slot));
    } else throw new Error(`node ${id} (${node.op}) not available in ${ctx.stage}`);
  };
  for (const id of order) {
    const node = g.n(id);
    switch (node.op) {
      case 'in':
        code.push(OP.i32Const, ...sleb(0), OP.i32Load, 2, ...uleb(HEADER_PTR + 4 * node.imm), ...simd(SIMD.splat32));
        break;
      case 'nonce': {
        // param 0 holds the four nonce low words; the header stores them little-endian, SHA reads big-endian
        const bswap = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
        code.push(OP.localGet, 0, OP.localGet, 0, ...simd(SIMD.shuffle), ...bswap);
        break;
      }
      case 'add':
      case 'xor':
      case 'and':
        push(/** @type {number} */ (node.args[0]));
        push(/** @type {number} */ (node.args[1]));
        code.push(...simd(node.op === 'add' ? SIMD.add32 : node.op === 'xor' ? SIMD.xor : SIMD.and));
        break;
      case 'shl':
      case 'shr':
        push(/** @type {number} */ (node.args[0]));
        code.push(OP.i32Const, ...sleb(node.imm), ...simd(node.op === 'shl' ? SIMD.shl32 : SIMD.shrU32));
        break;
      default:
        throw new Error(`unexpected op ${node.op}`);
    }
    local.set(id, next);
    code.push(OP.localSet, ...uleb(next));
    next++;
  }
  return { code, local, push, count: next - ctx.firstLocal };
}

/** @param {number} v128Locals @param {number} i32Locals @param {number[]} code */
function body(v128Locals, i32Locals, code) {
  /** @type {number[][]} */
  const decl = [];
  if (i32Locals > 0) decl.push([...uleb(i32Locals), T_I32]);
  if (v128Locals > 0) decl.push([...uleb(v128Locals), T_V128]);
  const b = [...vec(decl), ...code, OP.end];
  return [...uleb(b.length), ...b];
}

/** Builds the module bytes. */
export function generateSha256dWasm() {
  const { g, outer } = buildSha256d();
  const word0 = /** @type {number} */ (outer[0]);

  // core functions first (with a provisional slot map), to learn which constants they read
  /** @type {Set<number>} */
  const neededConsts = new Set();
  for (const targets of [[word0], outer]) {
    /** @type {number[]} */
    const stack = targets.slice();
    /** @type {Set<number>} */
    const seen = new Set();
    while (stack.length > 0) {
      const id = /** @type {number} */ (stack.pop());
      if (seen.has(id)) continue;
      seen.add(id);
      const node = g.n(id);
      // literals live in slots too: a memory operand is cheaper than materialising a v128.const
      if (node.cls === CONST || node.cls === LIT) {
        neededConsts.add(id);
        continue;
      }
      if (node.cls === VAR) for (const a of node.args) stack.push(a);
    }
  }
  /** @type {Map<number, number>} */
  const slotOf = new Map();
  for (const id of [...neededConsts].sort((x, y) => x - y)) slotOf.set(id, slotOf.size);

  // prepare(): compute the constants, store each in its slot
  const prep = emitCone(g, [...neededConsts], { stage: 'prepare', slotOf, firstLocal: 0 });
  for (const [id, slot] of slotOf) {
    prep.code.push(OP.i32Const, ...sleb(0));
    prep.push(id);
    prep.code.push(...simd(SIMD.store), 4, ...uleb(CONST_PTR + 16 * slot));
  }

  // core_word0(nonces: v128) -> v128 : first digest word of four nonces
  const c0 = emitCone(g, [word0], { stage: 'core', slotOf, firstLocal: 1 });
  c0.push(word0);
  const core0 = body(c0.count, 0, c0.code);

  // core_full(nonces: v128) : all eight words to OUT_PTR
  const cf = emitCone(g, outer, { stage: 'core', slotOf, firstLocal: 1 });
  for (let j = 0; j < 8; j++) {
    cf.code.push(OP.i32Const, ...sleb(0));
    cf.push(/** @type {number} */ (outer[j]));
    cf.code.push(...simd(SIMD.store), 4, ...uleb(OUT_PTR + 16 * j));
  }
  const coreFull = body(cf.count, 0, cf.code);

  const F_PREPARE = 0;
  const F_CORE0 = 1;
  const F_COREFULL = 2;
  const F_SCAN = 3;
  const F_HASH4 = 4;

  // scan(lo, groups, tw0) -> i32 ; locals: 3 = i (i32), 4 = nonces (v128), 5 = tw (v128)
  const scanCode = [
    OP.localGet, 0, ...simd(SIMD.splat32), ...v128Lanes([0, 1, 2, 3]), ...simd(SIMD.add32), OP.localSet, 4,
    OP.localGet, 2, ...simd(SIMD.splat32), OP.localSet, 5,
    OP.block, OP.void,
    OP.loop, OP.void,
    OP.localGet, 3, OP.localGet, 1, OP.i32GeU, OP.brIf, 1,
    OP.localGet, 4, OP.call, F_CORE0, OP.localGet, 5, ...simd(SIMD.leU32), ...simd(SIMD.anyTrue),
    OP.if, OP.void, OP.localGet, 3, OP.return, OP.end,
    OP.localGet, 4, ...v128Splat(4), ...simd(SIMD.add32), OP.localSet, 4,
    OP.localGet, 3, OP.i32Const, 1, OP.i32Add, OP.localSet, 3,
    OP.br, 0,
    OP.end,
    OP.end,
    OP.i32Const, ...sleb(-1),
  ];
  const scan = [];
  {
    const decl = [[1, T_I32], [2, T_V128]];
    const b = [...vec(decl), ...scanCode, OP.end];
    scan.push(...uleb(b.length), ...b);
  }
  // hash4(lo)
  const hash4Code = [OP.localGet, 0, ...simd(SIMD.splat32), ...v128Lanes([0, 1, 2, 3]), ...simd(SIMD.add32), OP.call, F_COREFULL];
  const hash4 = body(0, 0, hash4Code);
  const prepare = body(prep.count, 0, prep.code);

  const types = [
    [0x60, ...vec([]), ...vec([])], // 0: prepare
    [0x60, ...vec([[T_V128]]), ...vec([[T_V128]])], // 1: core_word0
    [0x60, ...vec([[T_V128]]), ...vec([])], // 2: core_full
    [0x60, ...vec([[T_I32], [T_I32], [T_I32]]), ...vec([[T_I32]])], // 3: scan
    [0x60, ...vec([[T_I32]]), ...vec([])], // 4: hash4
  ];
  const funcs = [[0], [1], [2], [3], [4]];
  const globals = [
    [T_I32, 0x00, OP.i32Const, ...sleb(HEADER_PTR), OP.end],
    [T_I32, 0x00, OP.i32Const, ...sleb(OUT_PTR), OP.end],
  ];
  const exports = [
    [...name('memory'), 0x02, 0],
    [...name('prepare'), 0x00, F_PREPARE],
    [...name('scan'), 0x00, F_SCAN],
    [...name('hash4'), 0x00, F_HASH4],
    [...name('HEADER_PTR'), 0x03, 0],
    [...name('OUT_PTR'), 0x03, 1],
  ];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(funcs)),
    ...section(5, vec([[0x00, 1]])),
    ...section(6, vec(globals)),
    ...section(7, vec(exports)),
    ...section(10, vec([prepare, core0, coreFull, scan, hash4])),
  ];
  if (CONST_PTR + 16 * slotOf.size > 65536) throw new Error('constant slots exceed one page');
  return {
    bytes: Uint8Array.from(bytes),
    stats: {
      constSlots: slotOf.size,
      prepareOps: prep.count,
      word0Ops: c0.count,
      fullOps: cf.count,
    },
  };
}
