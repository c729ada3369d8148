/**
 * The module map, checked: which folder of src/ may import which (docs/architecture.md, "Allowed
 * imports", has the same table in prose). `npm run check:imports` runs dependency-cruiser with
 * this file; `npm test` runs it first and fails on any violation. Every rule is an error: a
 * forbidden import or an import cycle fails the build. An exception gets its own `pathNot` entry
 * here with a comment saying why.
 *
 * Type-only imports count: the TypeScript parser (swc) sees `import type` like any other import,
 * so a layer cannot lean on another one's types either (except where a rule says so).
 */

/** Node built-ins and packages that do I/O (disk, network, threads, processes). */
const IO_MODULES = [
  '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|dns/promises|tls|child_process|cluster|readline|worker_threads)$',
  '^(level|classic-level|libp2p|fastify)$',
  '^@(libp2p|fastify|multiformats)/',
];

/**
 * The parts of the pure modules that DESIGN.md sets aside: the worker pools (they start threads)
 * and the wasm kernel's loader (it reads the compiled kernel from disk). Nothing else in chain/,
 * consensus/ or trace/ may touch I/O or runtime/.
 */
const POOLS = ['^src/chain/verifier-pool[.]ts$', '^src/consensus/miner/pool[.]ts$', '^src/consensus/kernel/wasm-kernel[.]ts$'];

/** runtime/ files that only locate build outputs; the pools (and api's capture pool) use them. */
const RUNTIME_LOCATORS = '^src/runtime/(built-file|worker-entries)[.]ts$';

/** A rule that `from` may import nothing in src/ but `allowed` (its own folder is always allowed). */
function only(name, from, allowed, comment) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: `^src/${from}/` },
    to: { path: '^src/', pathNot: [`^src/${from}/`, ...allowed] },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'No import cycles, inside a folder or across folders.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    only('common-imports', 'common', [], 'common/ (bytes, coded errors, LRU, JSON guards) is the bottom layer: it imports nothing from src/.'),
    only(
      'consensus-imports',
      'consensus',
      ['^src/common/', RUNTIME_LOCATORS],
      'consensus/ (targets, work, retarget, block time, kernels, miner) imports only common/, and its pool the worker locators.',
    ),
    only(
      'chain-imports',
      'chain',
      ['^src/common/', '^src/consensus/', RUNTIME_LOCATORS],
      'chain/ imports common/ and consensus/; it reaches the EPCIS rules through its TxRules port and storage through its ChainStore port, never trace/ or storage/ themselves.',
    ),
    only(
      'trace-imports',
      'trace',
      ['^src/common/', '^src/chain/(types|store|tx-rules-port)[.]ts$'],
      "trace/ imports common/ and, to implement chain's TxRules port, chain's types and port interfaces (types.ts, store.ts, tx-rules-port.ts) only.",
    ),
    only(
      'storage-imports',
      'storage',
      ['^src/common/', '^src/chain/'],
      "storage/ implements chain's ChainStore port with chain's codecs; it imports common/ and chain/.",
    ),
    only(
      'p2p-imports',
      'p2p',
      ['^src/common/', '^src/chain/', '^src/consensus/target[.]ts$'],
      'p2p/ imports common/, chain/ (through its ChainPort adapter) and the compact-target rule (header batches are checked for proof of work before any block is fetched).',
    ),
    only(
      'api-imports',
      'api',
      ['^src/common/', '^src/chain/', '^src/trace/', '^src/storage/(errors|write-guard)[.]ts$', '^src/p2p/peer-info[.]ts$', RUNTIME_LOCATORS],
      "api/ imports common/, chain/, trace/, storage's errors and write state (it reads the chain through chain's ChainStore port), p2p's PeerInfo type, and the capture pool the worker locators.",
    ),
    only(
      'notify-imports',
      'notify',
      ['^src/common/', '^src/chain/', '^src/trace/', '^src/api/(query|problem|notify-port)[.]ts$'],
      "notify/ (subscriptions, webhook delivery, WebSocket streams) imports common/, chain/, trace/, and from api/ the query engine it reuses, the problem codes it answers with and the port it implements; it reads its records through its own RecordStore port (node/ wires storage's NotifyRecords to it).",
    ),
    only(
      'runtime-imports',
      'runtime',
      ['^src/common/', '^src/chain/', '^src/consensus/', '^src/trace/', '^src/api/capture-(core|protocol)[.]ts$'],
      'runtime/ holds the worker entry points: each wires the pure code its thread runs (and trace\'s rules into chain\'s port). No node/, storage/ or p2p/.',
    ),
    {
      name: 'runtime-entries-are-roots',
      comment: 'Worker entry points and the shims are started (new Worker, bin/), never imported; only the locators are.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/runtime/' },
      to: { path: '^src/runtime/', pathNot: RUNTIME_LOCATORS },
    },
    {
      name: 'pure-no-runtime',
      comment: 'In chain/, consensus/ and trace/ only the worker pools may use runtime/ (to find their entry points).',
      severity: 'error',
      from: { path: '^src/(chain|consensus|trace)/', pathNot: POOLS },
      to: { path: '^src/runtime/' },
    },
    {
      name: 'pure-no-io',
      comment: 'common/, chain/, consensus/ and trace/ are pure: no disk, network, thread or process modules (the worker pools and the wasm loader aside).',
      severity: 'error',
      from: { path: '^src/(common|chain|consensus|trace)/', pathNot: POOLS },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown', 'unknown'], path: IO_MODULES },
    },
    {
      name: 'src-not-tests',
      comment: 'Shipped code never imports tests.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'bench-only-from-bench-command',
      comment: 'The benchmarks (bench/) ship with the CLI, but only `tracechain bench` loads them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/node/commands/bench[.]ts$' },
      to: { path: '^bench/' },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript API, so dependency-cruiser parses the sources with swc.
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      conditionNames: ['import', 'require', 'node', 'default'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
