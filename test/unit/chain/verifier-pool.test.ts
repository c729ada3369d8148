import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { WorkerPoolTxVerifier } from '../../../src/chain/verifier-pool.js';
import { InlineTxVerifier } from '../../../src/chain/tx-verifier.js';
import { MemberRegistry } from '../../../src/chain/registry.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { generateKeyPair, keyIdHex, sign } from '../../../src/chain/keys.js';
import { blockSigningMessage } from '../../../src/chain/block.js';
import { signTx } from '../../../src/chain/tx.js';
import { prepareDocument } from '../../../src/trace/index.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { makeGenesis, memberOf } from '../../../src/node/dev-consortium.js';
import type { SignedTx } from '../../../src/chain/types.js';

const EXAMPLE = new URL('../../../../shared/vectors/gs1-epcis-examples/Example_9.6.1-ObjectEvent.jsonld', import.meta.url);

describe('WorkerPoolTxVerifier', () => {
  const dev = generateKeyPair();
  const pharmacy = generateKeyPair();
  const outsider = generateKeyPair();
  const genesis = makeGenesis(
    'verifier-test',
    [memberOf({ name: 'dev', role: 'dev', key: dev, peerId: 'p1' }), memberOf({ name: 'pharmacy', role: 'pharmacy', key: pharmacy, peerId: 'p2', canSeal: false })],
    1_700_000_000_000,
  );
  const chainId = genesisBlock(genesis).hashHex;
  let pool: WorkerPoolTxVerifier;
  let events: Record<string, unknown>[];
  let eventIds: string[];

  beforeAll(async () => {
    pool = new WorkerPoolTxVerifier({ workers: 2, chunkSize: 2 }, { genesis });
    const doc = JSON.parse(await readFile(EXAMPLE, 'utf8')) as unknown;
    ({ events, eventIds } = prepareDocument(doc));
  });
  afterAll(async () => pool.close());

  const tx = (key = dev, over: Partial<SignedTx> = {}): SignedTx =>
    signTx({ v: 1, chain: chainId, kind: 'epcis', submitter: keyIdHex(key.publicKey), time: 1, events, eventIds, ...over }, key.secretKey);

  it('gives the same verdicts as the inline verifier, in order', async () => {
    const good = tx();
    const badSig = { ...tx(), sig: '11'.repeat(64) };
    const wrongChain = tx(dev, { chain: '00'.repeat(32) });
    const stranger = tx(outsider);
    const badId = tx(dev, { eventIds: eventIds.map(() => `ni:///sha-256;${'0'.repeat(64)}?ver=CBV2.0`) });
    const role = tx(pharmacy); // a pharmacy may not commission (the example is an ObjectEvent ADD/OBSERVE)
    const batch = [good, badSig, wrongChain, stranger, badId, role, good];
    const inline = await new InlineTxVerifier({ chainId }, { registry: MemberRegistry.fromGenesis(genesis), rules: traceRules() }).verify(batch);
    const pooled = await pool.verify(batch);
    expect(pooled.map((r) => r?.code ?? null)).toEqual(inline.map((r) => r?.code ?? null));
    expect(pooled[0]).toBeNull();
    expect(pooled[1]?.code).toBe('BAD_SIGNATURE');
    expect(pooled[2]?.code).toBe('WRONG_CHAIN');
    expect(pooled[3]?.code).toBe('UNKNOWN_SUBMITTER');
    expect(pooled[4]?.code).toBe('BAD_EVENT_ID');
    expect(pooled[6]).toBeNull();
  });

  it('handles many concurrent batches', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => pool.verify([tx(), tx()])));
    expect(results.flat().every((r) => r === null)).toBe(true);
  });

  it('checks sealer signatures: the sealer key over the block hash, nothing else', async () => {
    const hash = new Uint8Array(32).fill(5);
    const seal = (key = dev, h = hash) => sign(key.secretKey, blockSigningMessage(h));
    const valid = await pool.verifySeals([
      { hash, sealer: keyIdHex(dev.publicKey), signature: seal() },
      { hash, sealer: keyIdHex(dev.publicKey), signature: seal(dev, new Uint8Array(32).fill(6)) }, // over another hash
      { hash, sealer: keyIdHex(dev.publicKey), signature: seal(pharmacy) }, // by another member's key
      { hash, sealer: keyIdHex(outsider.publicKey), signature: seal(outsider) }, // not a member
      { hash, sealer: keyIdHex(dev.publicKey), signature: new Uint8Array(63) }, // malformed
    ]);
    expect(valid).toEqual([true, false, false, false, false]);
    expect(await pool.verifySeals([])).toEqual([]);
  });

  it('refuses new work once closed', async () => {
    const p = new WorkerPoolTxVerifier({ workers: 1 }, { genesis });
    await p.close();
    await expect(p.verify([tx()])).rejects.toThrow(/closed/);
  });
});
