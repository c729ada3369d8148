/**
 * Genesis: the consortium document (name, parameters, members) and the genesis block built
 * deterministically from it. The genesis block's merkle root is SHA-256(JCS(document)), so
 * the genesis hash (the chain ID) commits to every member and parameter.
 */
import { makeBlock, SIGNATURE_SIZE, type Block } from './block.js';
import { HEADER_VERSION } from './header.js';
import { sha256 } from './sha256.js';
import { fromHex, isHex, utf8 } from '../common/bytes.js';
import { keyIdHex } from './keys.js';
import { jcs } from './tx.js';
import { bitsForWork } from '../consensus/work.js';
import { ROLES, type ConsortiumParams, type Genesis, type Member } from './types.js';

/** Hash rate assumed when sizing a new chain's first target (ASERT corrects it within a half-life). */
export const ASSUMED_HASHES_PER_MS = 2_000;

/**
 * Parameters for a given block interval: genesis difficulty sized for ~2 MH/s, half-life and
 * anchor-reset gap of 30 intervals (see consensus/retarget.ts for why 30).
 */
export function paramsForInterval(blockIntervalMs: number): ConsortiumParams {
  return {
    blockIntervalMs,
    powLimitBits: 0x1f00ffff,
    genesisBits: bitsForWork(BigInt(ASSUMED_HASHES_PER_MS * blockIntervalMs)),
    asertHalfLifeMs: Math.max(1_000, 30 * blockIntervalMs),
    asertAnchorResetMs: Math.max(1_000, 30 * blockIntervalMs),
    futureWindowMs: 60_000,
    finalityDepth: 6,
    maxBlockBytes: 4 * 1024 * 1024,
    maxTxBytes: 1024 * 1024,
    maxEventsPerTx: 10_000,
  };
}

export const DEV_PARAMS: ConsortiumParams = paramsForInterval(2_000);

export class GenesisError extends Error {
  override readonly name = 'GenesisError';
}

function fail(msg: string): never {
  throw new GenesisError(`invalid genesis: ${msg}`);
}

/** Validate a parsed genesis document; throws GenesisError naming the problem. */
export function checkGenesis(value: unknown): Genesis {
  if (typeof value !== 'object' || value === null) fail('not an object');
  const g = value as Record<string, unknown>;
  if (g.v !== 1) fail('v must be 1');
  if (typeof g.name !== 'string' || g.name.length === 0 || g.name.length > 200) fail('name must be a non-empty string');
  if (typeof g.time !== 'number' || !Number.isSafeInteger(g.time) || g.time < 0) fail('time must be ms since the epoch');
  const p = g.params as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null) fail('params missing');
  for (const k of Object.keys(DEV_PARAMS) as (keyof ConsortiumParams)[]) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`params.${k} must be a non-negative integer`);
  }
  if ((p.blockIntervalMs as number) < 100) fail('params.blockIntervalMs must be at least 100');
  if ((p.asertHalfLifeMs as number) < 1000) fail('params.asertHalfLifeMs must be at least 1000');
  if (!Array.isArray(g.members) || g.members.length === 0) fail('members must be a non-empty array');
  const ids = new Set<string>();
  const peers = new Set<string>();
  for (const [i, m] of (g.members as unknown[]).entries()) {
    const mm = m as Record<string, unknown>;
    if (typeof mm !== 'object' || mm === null) fail(`members[${i}] is not an object`);
    if (!isHex(mm.signingKey, 32)) fail(`members[${i}].signingKey must be a 32-byte hex Ed25519 key`);
    if (!isHex(mm.id, 20) || mm.id !== keyIdHex(fromHex(mm.signingKey as string))) fail(`members[${i}].id must be the key ID of its signingKey`);
    if (typeof mm.name !== 'string' || mm.name.length === 0) fail(`members[${i}].name missing`);
    if (typeof mm.role !== 'string' || !ROLES.includes(mm.role as Member['role'])) fail(`members[${i}].role must be one of ${ROLES.join(', ')}`);
    if (typeof mm.peerId !== 'string' || mm.peerId.length === 0) fail(`members[${i}].peerId missing`);
    if (!Array.isArray(mm.gs1CompanyPrefixes) || !mm.gs1CompanyPrefixes.every((x) => typeof x === 'string' && /^[0-9]{4,12}$/.test(x))) {
      fail(`members[${i}].gs1CompanyPrefixes must be digit strings of 4 to 12 digits`);
    }
    if (typeof mm.canSeal !== 'boolean') fail(`members[${i}].canSeal must be a boolean`);
    if (mm.parties !== undefined && (!Array.isArray(mm.parties) || !mm.parties.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200))) fail(`members[${i}].parties must be party identifiers (PGLN or GLN)`);
    if (ids.has(mm.id as string)) fail(`duplicate member id ${String(mm.id)}`);
    if (peers.has(mm.peerId as string)) fail(`duplicate peerId ${String(mm.peerId)}`);
    ids.add(mm.id as string);
    peers.add(mm.peerId as string);
  }
  if (!(g.members as Member[]).some((m) => m.canSeal)) fail('at least one member must be able to seal');
  if (g.governance !== undefined) {
    const q = g.governance as Record<string, unknown>;
    if (typeof q !== 'object' || q === null || Object.keys(q).some((k) => !['quorumNum', 'quorumDen', 'proposalLifetimeBlocks'].includes(k))) fail('governance must be {quorumNum, quorumDen, proposalLifetimeBlocks}');
    for (const k of ['quorumNum', 'quorumDen', 'proposalLifetimeBlocks']) {
      if (typeof q[k] !== 'number' || !Number.isSafeInteger(q[k]) || (q[k] as number) < 0) fail(`governance.${k} must be a non-negative integer`);
    }
    if ((q.quorumNum as number) >= (q.quorumDen as number) || (q.proposalLifetimeBlocks as number) < 1) fail('governance: the quorum share must be below 1 and proposals must live at least 1 block');
  }
  return value as Genesis;
}

export function genesisDocumentHash(genesis: Genesis): Uint8Array {
  return sha256(utf8.encode(jcs(genesis)));
}

/** The genesis block: height 0, zero parent, no sealer, no txs; not mined, not signed. */
export function genesisBlock(genesis: Genesis): Block {
  return makeBlock(
    {
      version: HEADER_VERSION,
      height: 0,
      prevHash: new Uint8Array(32),
      merkleRoot: genesisDocumentHash(genesis),
      sealer: new Uint8Array(20),
      time: genesis.time,
      bits: genesis.params.genesisBits,
      nonce: 0n,
    },
    new Uint8Array(SIGNATURE_SIZE),
    [],
  );
}
