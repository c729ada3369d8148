/**
 * Consortium setup.
 *
 * `tracechain init` prepares one member's data directory (member signing key, libp2p peer key,
 * API token) and prints the member's public part as JSON: what the consortium needs to know of
 * it, no secret. `tracechain genesis` assembles the genesis document from those public parts
 * (and, with --swarm-key, a pre-shared swarm key file); every member then copies genesis.json
 * (and swarm.key) into its data directory.
 */
import { checkParties } from '../../chain/governance.js';
import { readFile, writeFile } from 'node:fs/promises';
import { checkGenesis, genesisBlock, paramsForInterval, GenesisError } from '../../chain/genesis.js';
import { ROLES, type Genesis, type Member, type Role } from '../../chain/types.js';
import { DataDir, FILES, peerIdOf } from '../data-dir.js';
import { makeGenesis, memberOf } from '../dev-consortium.js';
import { generateSwarmKey } from '../../p2p/swarm-key.js';

export const MEMBER_FILE = 'member.json';

export class SetupError extends Error {
  override readonly name = 'SetupError';
}

export interface InitOptions {
  data: string;
  name: string;
  role: Role;
  prefixes: string[];
  /** Party identifiers (PGLN, GLNs); empty: none (docs/confidentiality.md). */
  parties?: string[];
  seal: boolean;
}

export function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new SetupError(`role must be one of ${ROLES.join(', ')}`);
  return value as Role;
}

export function parsePrefixes(value: string): string[] {
  const out = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const p of out) if (!/^[0-9]{4,12}$/.test(p)) throw new SetupError(`"${p}" is not a GS1 company prefix (4 to 12 digits)`);
  return out;
}

/** `urn:epc:id:pgln:…,urn:epc:id:sgln:…` → the list (each checked as the registry checks it). */
export function parseParties(value: string): string[] {
  const out = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  try {
    return out.length === 0 ? [] : checkParties(out, '--parties');
  } catch (err) {
    throw new SetupError((err as Error).message);
  }
}

/** Create (or reuse) a member's keys and token; returns its public part, also written to member.json. */
export async function initMember(opts: InitOptions): Promise<Member> {
  if (opts.name.trim() === '') throw new SetupError('a member needs a name');
  const dir = new DataDir(opts.data);
  await dir.ensure();
  if (await dir.exists(FILES.genesis)) throw new SetupError(`${dir.path} already belongs to a consortium (it has ${FILES.genesis})`);
  const key = (await dir.readMemberKey()) ?? (await dir.createMemberKey());
  const peerKey = (await dir.readPeerKey()) ?? (await dir.createPeerKey());
  if (!(await dir.exists(FILES.apiToken))) await dir.createApiToken();
  const member = memberOf({ name: opts.name, role: opts.role, key, peerId: await peerIdOf(peerKey), gs1CompanyPrefixes: opts.prefixes, canSeal: opts.seal });
  if (opts.parties !== undefined && opts.parties.length > 0) member.parties = opts.parties;
  await writeFile(dir.file(MEMBER_FILE), JSON.stringify(member, null, 2) + '\n');
  return member;
}

export async function initCommand(opts: InitOptions, out: NodeJS.WritableStream): Promise<number> {
  const member = await initMember(opts);
  out.write(JSON.stringify(member) + '\n');
  return 0;
}

export interface GenesisOptions {
  name: string;
  members: string[];
  out: string;
  blockIntervalMs: number;
  /** Write a new swarm key file here. */
  swarmKey?: string;
  time?: number;
}

async function readMember(path: string): Promise<Member> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new SetupError(`cannot read member file ${path}: ${(err as Error).message}`);
  }
  return parsed as Member;
}

/** Assemble and check a genesis document from members' public parts. */
export async function assembleGenesis(opts: GenesisOptions): Promise<Genesis> {
  if (opts.members.length === 0) throw new SetupError('give at least one --member file');
  const members: Member[] = [];
  for (const f of opts.members) members.push(await readMember(f));
  const genesis = makeGenesis(opts.name, members, opts.time ?? Date.now(), paramsForInterval(opts.blockIntervalMs));
  try {
    return checkGenesis(genesis);
  } catch (err) {
    if (err instanceof GenesisError) throw new SetupError(err.message);
    throw err;
  }
}

export async function genesisCommand(opts: GenesisOptions, out: NodeJS.WritableStream): Promise<number> {
  const genesis = await assembleGenesis(opts);
  await writeFile(opts.out, JSON.stringify(genesis, null, 2) + '\n');
  if (opts.swarmKey) await writeFile(opts.swarmKey, generateSwarmKey(), { mode: 0o600 });
  out.write(JSON.stringify({ chainId: genesisBlock(genesis).hashHex, genesis: opts.out, members: genesis.members.length, swarmKey: opts.swarmKey ?? null }) + '\n');
  return 0;
}
