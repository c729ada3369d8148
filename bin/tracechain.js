#!/usr/bin/env -S node --max-semi-space-size=64 --min-semi-space-size=64
// Entry point of the `tracechain` CLI. The shim must load before anything imports libp2p.
import '../dist/src/runtime/shims.js';
const { main } = await import('../dist/src/node/cli.js');
process.exitCode = await main(process.argv);
