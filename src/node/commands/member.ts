/**
 * `tracechain member …`: consortium governance from the command line (docs/governance.md). Each
 * command asks a member's node (--api, with its token) to sign and submit one governance tx:
 *
 *   member propose add FILE             FILE: the public part `tracechain init` printed
 *   member propose update ID [--role R] [--prefixes P,…] [--seal|--no-seal]
 *   member propose rotate --new-data DIR   this node's member: DIR holds the new keys (init)
 *   member propose suspend|resume|revoke ID
 *   member propose policy --quorum N/D --lifetime BLOCKS
 *   member approve PROPOSAL_ID
 *   member list        member proposals
 *
 * Exit 0 when the node accepted (202) or answered, 1 with the problem otherwise.
 */
import { checkMemberPublic, signRotation } from '../../chain/governance.js';
import { toHex } from '../../common/bytes.js';
import { DataDir, peerIdOf } from '../data-dir.js';
import { ApiClient, readInput, runClientCommand, type ClientFlags } from './client.js';
import type { GovChange, MemberPublic, Role } from '../../chain/types.js';

export interface ProposeFlags extends ClientFlags {
  activation?: number;
  role?: Role;
  prefixes?: string[];
  parties?: string[];
  seal?: boolean;
  newData?: string;
  keepPeer?: boolean;
  quorum?: string;
  lifetime?: number;
}

interface MemberView {
  id: string;
  keyId: string;
  name: string;
  role: string;
  status: string;
  canSeal: boolean;
  peerId: string;
  gs1CompanyPrefixes: string[];
  keys: string[];
  history: { height: number; proposal: string | null; change: string }[];
}

interface MembersAnswer {
  chainId: string;
  height: number;
  registryHash: string;
  self: string | null;
  approvalsNeeded: number;
  voters: number;
  members: MemberView[];
}

interface ProposalView {
  id: string;
  proposerName: string;
  height: number;
  change: GovChange;
  activation: number;
  status: string;
  effectiveHeight?: number;
  expiresAfter: number;
  failure?: string;
  approvals: { member: string; name: string; height: number }[];
}

/** A member's public part from FILE (or -): what `tracechain init` printed or wrote to member.json. */
async function readPublicPart(file: string): Promise<MemberPublic> {
  const text = (await readInput(file)).toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null) throw new Error(`${file} is not a member's public part`);
  const { id: _id, ...pub } = v as Record<string, unknown>;
  try {
    return checkMemberPublic(pub, file);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

async function rotation(client: ApiClient, flags: ProposeFlags): Promise<GovChange> {
  if (flags.newData === undefined) throw new Error('rotate needs --new-data DIR: a data directory made by `tracechain init` holding the new member key (and peer key)');
  const dir = new DataDir(flags.newData);
  const key = await dir.readMemberKey();
  if (!key) throw new Error(`${flags.newData} holds no member key`);
  const members = await client.get<MembersAnswer>('/members');
  const me = members.self === null ? undefined : members.members.find((m) => m.keys.includes(members.self as string));
  if (!me) throw new Error(`the node at ${client.base} is not a member at its tip`);
  const newKey = toHex(key.publicKey);
  const change: GovChange = { type: 'rotate', member: me.id, signingKey: newKey, proof: signRotation(members.chainId, me.id, newKey, key.secretKey) };
  const peerKey = await dir.readPeerKey();
  if (peerKey && !flags.keepPeer) change.peerId = await peerIdOf(peerKey);
  return change;
}

function parseQuorum(q: string | undefined): { quorumNum: number; quorumDen: number } {
  const m = /^([0-9]+)\/([0-9]+)$/.exec(q ?? '');
  if (!m) throw new Error('--quorum must be N/D, e.g. 1/2 (approvals must exceed this share of the voting members)');
  return { quorumNum: Number(m[1]), quorumDen: Number(m[2]) };
}

export function memberProposeCommand(kind: string, arg: string | undefined, flags: ProposeFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('member propose', async () => {
    const client = await ApiClient.fromFlags(flags);
    const needId = (): string => {
      if (arg === undefined || !/^[0-9a-f]{40}$/.test(arg)) throw new Error(`member propose ${kind} needs a member ID (40 hex digits; see tracechain member list)`);
      return arg;
    };
    let change: GovChange;
    switch (kind) {
      case 'add':
        if (arg === undefined) throw new Error('member propose add needs FILE: the public part `tracechain init` printed (or - for stdin)');
        change = { type: 'add', member: await readPublicPart(arg) };
        break;
      case 'update':
        change = { type: 'update', member: needId() };
        if (flags.role !== undefined) change.role = flags.role;
        if (flags.prefixes !== undefined) change.gs1CompanyPrefixes = flags.prefixes;
        if (flags.parties !== undefined) change.parties = flags.parties;
        if (flags.seal !== undefined) change.canSeal = flags.seal;
        break;
      case 'rotate':
        change = await rotation(client, flags);
        break;
      case 'suspend':
      case 'resume':
      case 'revoke':
        change = { type: kind, member: needId() };
        break;
      case 'policy': {
        if (flags.lifetime === undefined) throw new Error('member propose policy needs --lifetime BLOCKS and --quorum N/D');
        change = { type: 'policy', policy: { ...parseQuorum(flags.quorum), proposalLifetimeBlocks: flags.lifetime } };
        break;
      }
      default:
        throw new Error(`unknown change "${kind}": add, update, rotate, suspend, resume, revoke or policy`);
    }
    const body = JSON.stringify({ change, ...(flags.activation !== undefined ? { activation: flags.activation } : {}) });
    const { json } = await client.request<{ txId: string; proposal: string }>('POST', '/governance/proposals', { data: body, contentType: 'application/json' });
    if (flags.json) out.write(JSON.stringify(json) + '\n');
    else out.write(`proposed: ${kind} (proposal ${json.proposal}); other members approve it with: tracechain member approve ${json.proposal}\n`);
    return 0;
  });
}

export function memberApproveCommand(proposal: string, flags: ClientFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('member approve', async () => {
    if (!/^[0-9a-f]{64}$/.test(proposal)) throw new Error('a proposal ID is 64 hex digits (see tracechain member proposals)');
    const client = await ApiClient.fromFlags(flags);
    const { json } = await client.request<{ txId: string }>('POST', '/governance/approvals', { data: JSON.stringify({ proposal }), contentType: 'application/json' });
    if (flags.json) out.write(JSON.stringify(json) + '\n');
    else out.write(`approved: proposal ${proposal} (tx ${json.txId})\n`);
    return 0;
  });
}

export function memberListCommand(flags: ClientFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('member list', async () => {
    const client = await ApiClient.fromFlags(flags);
    const m = await client.get<MembersAnswer>('/members');
    if (flags.json) {
      out.write(JSON.stringify(m) + '\n');
      return 0;
    }
    out.write(`members at height ${m.height} (registry ${m.registryHash}; ${m.voters} voting, ${m.approvalsNeeded} approvals needed)\n`);
    for (const x of m.members) {
      out.write(`  ${x.id}  ${x.status.padEnd(9)} ${x.role.padEnd(12)} ${x.canSeal ? 'sealer ' : '       '} ${x.name}\n`);
      for (const h of x.history) out.write(`      ${String(h.height).padStart(8)}  ${h.change}${h.proposal ? ` (proposal ${h.proposal})` : ''}\n`);
    }
    return 0;
  });
}

export function memberProposalsCommand(flags: ClientFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('member proposals', async () => {
    const client = await ApiClient.fromFlags(flags);
    const p = await client.get<{ height: number; approvalsNeeded: number; proposals: ProposalView[] }>('/governance/proposals');
    if (flags.json) {
      out.write(JSON.stringify(p) + '\n');
      return 0;
    }
    out.write(`proposals at height ${p.height} (${p.approvalsNeeded} approvals needed)\n`);
    for (const x of p.proposals) {
      const target = 'member' in x.change && typeof x.change.member === 'string' ? x.change.member : x.change.type === 'add' ? x.change.member.name : '';
      out.write(`  ${x.id}  ${x.status.padEnd(8)} ${x.change.type} ${target} by ${x.proposerName} at ${x.height}`);
      out.write(x.effectiveHeight !== undefined ? `, effective at ${x.effectiveHeight}` : `, expires after ${x.expiresAfter}`);
      out.write(`; approvals: ${x.approvals.map((a) => a.name).join(', ')}${x.failure ? `; failed: ${x.failure}` : ''}\n`);
    }
    return 0;
  });
}

