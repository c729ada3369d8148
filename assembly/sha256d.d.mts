/** Types of the build-time generator (assembly/sha256d.mjs), for tests that build the module in memory. */
export declare const HEADER_PTR: number;
export declare const OUT_PTR: number;
export declare function generateSha256dWasm(): {
  bytes: Uint8Array;
  stats: { constSlots: number; prepareOps: number; word0Ops: number; fullOps: number };
};
