/** GET /blocks/tip and GET /blocks/:hashOrHeight. */
import type { FastifyInstance } from 'fastify';
import type { Block } from '../../chain/block.js';
import { toHex } from '../../common/bytes.js';
import type { ApiContext } from '../context.js';
import { HttpProblem, storeDamaged } from '../problem.js';

export const blockSchema = {
  $id: 'Block',
  type: 'object',
  required: ['hash', 'height', 'header', 'prevHash', 'merkleRoot', 'time', 'bits', 'nonce', 'sealer', 'txIds'],
  properties: {
    hash: { type: 'string' },
    height: { type: 'integer' },
    header: { type: 'string', description: '112-byte header, hex' },
    prevHash: { type: 'string' },
    merkleRoot: { type: 'string' },
    time: { type: 'integer' },
    bits: { type: 'integer' },
    nonce: { type: 'string', description: 'u64 as a decimal string' },
    sealer: { type: 'string' },
    sealerName: { type: ['string', 'null'] },
    signature: { type: 'string' },
    size: { type: 'integer' },
    confirmations: { type: 'integer' },
    mainChain: { type: 'boolean' },
    txIds: { type: 'array', items: { type: 'string' } },
  },
} as const;

export function blockJson(ctx: ApiContext, block: Block, mainChain: boolean): Record<string, unknown> {
  const h = block.header;
  const sealer = toHex(h.sealer);
  return {
    hash: block.hashHex,
    height: h.height,
    header: toHex(block.headerBytes),
    prevHash: toHex(h.prevHash),
    merkleRoot: toHex(h.merkleRoot),
    time: h.time,
    bits: h.bits,
    nonce: h.nonce.toString(),
    sealer,
    sealerName: ctx.chain.registry.get(sealer)?.name ?? null,
    signature: toHex(block.signature),
    size: block.size,
    confirmations: mainChain ? ctx.chain.confirmations(h.height) : 0,
    mainChain,
    txIds: block.txIds.map((t) => toHex(t)),
  };
}

export async function blockRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/blocks/tip', { config: { scope: 'read' }, schema: { summary: 'The main chain tip', tags: ['blocks'], response: { 200: { $ref: 'Block#' } } } }, async () => {
    const block = await ctx.chain.getBlock(ctx.chain.tip.hash);
    if (!block) throw storeDamaged('the tip block is not in the store');
    return blockJson(ctx, block, true);
  });

  app.get<{ Params: { id: string } }>(
    '/blocks/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A block by hash (64 hex) or main-chain height',
        tags: ['blocks'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 200: { $ref: 'Block#' } },
      },
    },
    async (req) => {
      const { id } = req.params;
      let block: Block | undefined;
      if (/^[0-9]{1,10}$/.test(id)) {
        block = await ctx.chain.getMainBlock(Number(id));
      } else if (/^[0-9a-f]{64}$/.test(id)) {
        block = ctx.chain.header(id) ? await ctx.chain.getBlock(id) : undefined;
      } else {
        throw new HttpProblem('BAD_BLOCK_ID', 'give a block hash (64 lowercase hex) or a height (decimal)');
      }
      if (!block) throw new HttpProblem('BLOCK_NOT_FOUND', `no block ${id}`);
      const entry = ctx.chain.header(block.hashHex);
      return blockJson(ctx, block, entry ? await ctx.chain.isMain(entry) : false);
    },
  );
}
