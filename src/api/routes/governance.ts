/**
 * Governance routes (docs/governance.md). Reads: GET /members (the registry at the tip: every
 * member with its status, keys and history of changes, the policy and the registry's hash) and
 * GET /governance/proposals (pending, approved, applied, failed, expired, with approvers).
 * Writes (a token with the admin scope): POST /governance/proposals and POST /governance/approvals build a
 * governance tx, sign it with this node's member key and admit it like a capture (202 once it is
 * in the mempool and, with the tx log, fsynced). Refusals are the chain's TxError codes.
 */
import type { FastifyInstance } from 'fastify';
import { keyIdHex, keyPairFromSecret } from '../../chain/keys.js';
import { approvalsNeeded, checkGovAction, governanceHash, proposalStatusAt } from '../../chain/governance.js';
import { canonicalTx, governanceTxBody, jcs, signTx } from '../../chain/tx.js';
import { toHex } from '../../common/bytes.js';
import type { GovAction } from '../../chain/types.js';
import type { ApiContext } from '../context.js';
import { HttpProblem } from '../problem.js';
import { problems } from '../schemas.js';

const anyObject = { type: 'object', additionalProperties: true } as const;

/** The members and the policy at the tip, as GET /members answers. */
export function membersView(ctx: ApiContext): Record<string, unknown> {
  const { chain } = ctx;
  const state = chain.governance;
  const registry = chain.registry;
  return {
    chainId: chain.chainId,
    height: chain.tip.height,
    registryHash: governanceHash(state, jcs),
    policy: state.policy,
    policyHistory: state.policyHistory,
    voters: registry.members.length,
    approvalsNeeded: approvalsNeeded(state.policy, registry.members.length),
    members: registry.all.map((m) => ({ ...m, keyId: m.keys[m.keys.length - 1] })),
    /** The key ID this node signs with (null: it has no member key). */
    self: ctx.signer ? keyIdHex(keyPairFromSecret(ctx.signer.secretKey).publicKey) : null,
  };
}

/** Every proposal with its status at the tip's successor and its approvers' names. */
export function proposalsView(ctx: ApiContext): Record<string, unknown> {
  const { chain } = ctx;
  const state = chain.governance;
  const registry = chain.registry;
  const name = (id: string): string => registry.get(id)?.name ?? id;
  return {
    height: chain.tip.height,
    approvalsNeeded: approvalsNeeded(state.policy, registry.members.length),
    proposals: state.proposals.map((p) => ({
      ...p,
      status: proposalStatusAt(registry.state, p, registry.height),
      expiresAfter: p.height + state.policy.proposalLifetimeBlocks,
      proposerName: name(p.proposer),
      approvals: p.approvals.map((a) => ({ ...a, name: name(a.member) })),
    })),
  };
}

export async function governanceRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/members', { config: { scope: 'read' }, schema: { summary: 'The member registry at the tip: members (status, keys, history), policy, registry hash', tags: ['governance'], response: { 200: anyObject } } }, async () => membersView(ctx));
  app.get('/governance/proposals', { config: { scope: 'read' }, schema: { summary: 'Governance proposals with status and approvers', tags: ['governance'], response: { 200: anyObject } } }, async () => proposalsView(ctx));

  const submit = async (action: unknown): Promise<{ txId: string }> => {
    if (ctx.signer === undefined) throw new HttpProblem('NO_SIGNER', 'this node has no member key to sign governance txs with');
    const gov: GovAction = checkGovAction(action);
    const key = keyPairFromSecret(ctx.signer.secretKey);
    const tx = signTx(governanceTxBody(ctx.chain.chainId, keyIdHex(key.publicKey), (ctx.clock ?? Date.now)(), gov), key.secretKey);
    const c = canonicalTx(tx);
    await ctx.chain.submitTx(tx, { id: c.id, raw: c.bytes, origin: 'local' });
    return { txId: toHex(c.id) };
  };
  // Governance changes are the consortium's administration: the admin scope.
  const write = { config: { scope: 'admin' as const }, schema: { tags: ['governance'], security: [{ bearer: [] }], response: { 202: anyObject, ...problems(400, 401, 403, 404, 409, 422, 503) } } };

  app.post<{ Body: { change: unknown; activation?: number } }>(
    '/governance/proposals',
    {
      ...write,
      schema: {
        ...write.schema,
        summary: 'Propose one change (add, update, rotate, suspend, resume, revoke, policy), signed by this node: counts as its approval',
        body: { type: 'object', required: ['change'], additionalProperties: false, properties: { change: anyObject, activation: { type: 'integer', minimum: 0 } } },
      },
    },
    async (req, reply) => {
      const { txId } = await submit({ op: 'propose', change: req.body.change, activation: req.body.activation ?? 0 });
      return reply.code(202).header('location', `/txs/${txId}`).send({ txId, proposal: txId });
    },
  );

  app.post<{ Body: { proposal: string } }>(
    '/governance/approvals',
    {
      ...write,
      schema: {
        ...write.schema,
        summary: 'Approve a proposal (by its tx ID), signed by this node',
        body: { type: 'object', required: ['proposal'], additionalProperties: false, properties: { proposal: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
      },
    },
    async (req, reply) => {
      const { txId } = await submit({ op: 'approve', proposal: req.body.proposal });
      return reply.code(202).header('location', `/txs/${txId}`).send({ txId, proposal: req.body.proposal });
    },
  );
}
