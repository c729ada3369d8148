#!/usr/bin/env node
// Entry point of the `tracechain` CLI. The shim must load before anything imports libp2p.
import '../dist/src/runtime/shims.js';
const { main } = await import('../dist/src/node/cli.js');
process.exitCode = await main(process.argv);
