/**
 * Error declarations (corrections) on a real chain with the node's own trace rules: admitted and
 * connected only for a recorded event, by its submitter or a regulator; recorded under their own
 * record ID; the item status stops counting the erred event, and a disconnect restores it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildBlock, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';
import { BlockError, TxError } from '../../../src/common/errors.js';
import { checkDeclarations } from '../../../src/chain/declarations.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { canonicalItemKey, declarationIdOf, prepareDocument, type JsonObject } from '../../../src/trace/index.js';
import type { Member, SignedTx } from '../../../src/chain/types.js';
import type { KeyPair } from '../../../src/chain/keys.js';

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof BlockError || err instanceof TxError) return err.code;
  throw err ?? new Error('expected a refusal');
}

const PACK = 'urn:epc:id:sgtin:0614141.107346.77';
let n = 0;
function dispense(): JsonObject {
  n++;
  return {
    type: 'ObjectEvent',
    eventTime: `2025-03-01T08:00:${String(n % 60).padStart(2, '0')}.${n}Z`,
    eventTimeZoneOffset: '+00:00',
    epcList: [PACK],
    action: 'OBSERVE',
    bizStep: 'dispensing',
    disposition: 'dispensed',
  };
}
const declared = (e: JsonObject): JsonObject => ({ ...e, errorDeclaration: { declarationTime: '2025-03-02T00:00:00Z', reason: 'incorrect_data' } });

/** A signed tx of these events (prepared as capture prepares them: self-contained, record IDs). */
function txOf(fx: Fixture, events: JsonObject[], key?: KeyPair): SignedTx {
  const p = prepareDocument({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2025-03-01T08:00:00Z', epcisBody: { eventList: events } });
  return makeTx(fx, p.events, key ?? fx.sealer, p.eventIds);
}

async function mine(fx: Fixture, txs: SignedTx[]): Promise<void> {
  const out = await fx.chain.importBlock(buildBlock(fx, { txs }));
  expect(out.status).toBe('connected');
}

const status = async (fx: Fixture): Promise<string | undefined> => (await fx.store.getItem(canonicalItemKey(PACK)))?.['status'] as string | undefined;

describe('error declarations on the chain', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture(undefined, { rules: traceRules() });
  });
  afterEach(async () => fx.close());

  it("the submitter's declaration of a mined event is admitted and mined under its record ID; the erred dispense stops counting; a disconnect restores it", async () => {
    const wrong = dispense();
    const commission = { ...dispense(), action: 'ADD', bizStep: 'commissioning', disposition: 'active' };
    const original = txOf(fx, [wrong]);
    await mine(fx, [txOf(fx, [commission]), original]);
    expect(await status(fx)).toBe('dispensed');
    const decl = txOf(fx, [declared(wrong)]);
    expect(decl.eventIds[0]).toBe(declarationIdOf(original.eventIds[0] as string));
    await fx.chain.submitTx(decl);
    const block = buildBlock(fx, { txs: fx.chain.selectForBlock(1 << 20).map((e) => e.tx) });
    expect(block.txs).toHaveLength(1);
    await fx.chain.importBlock(block);
    expect(await fx.store.getEventLocation(decl.eventIds[0] as string)).toBeDefined();
    expect(await fx.store.getEventLocation(original.eventIds[0] as string)).toBeDefined();
    expect(await status(fx)).toBe('active');
    // A second declaration of the same event is the same record: a duplicate.
    expect(await code(fx.chain.submitTx(txOf(fx, [{ ...declared(wrong), errorDeclaration: { declarationTime: '2025-03-03T00:00:00Z', reason: 'did_not_occur' } }])))).toBe('DUPLICATE_EVENT');
    // Reorg: the declaration's block goes, the erred dispense counts again.
    const tip = fx.chain.tip;
    const parent = fx.chain.header(tip.prevHash);
    expect(parent).toBeDefined();
    const a = buildBlock(fx, { parent });
    await fx.chain.importBlock(a);
    await fx.chain.importBlock(buildBlock(fx, { parent: fx.chain.header(a.hashHex) }));
    expect(fx.chain.tip.height).toBe(tip.height + 1);
    expect(await fx.store.getEventLocation(decl.eventIds[0] as string)).toBeUndefined();
    expect(await status(fx)).toBe('dispensed');
  });

  it('an event and its declaration in one tx (or one block) are accepted', async () => {
    const wrong = dispense();
    await fx.chain.submitTx(txOf(fx, [wrong, declared(wrong)]));
    const other = dispense();
    await mine(fx, [txOf(fx, [declared(other)]), txOf(fx, [other])].reverse());
    expect(await status(fx)).toBe('unknown');
  });

  it('DECLARED_EVENT_UNKNOWN: a declaration of an event not recorded, at admission and in a block', async () => {
    const decl = txOf(fx, [declared(dispense())]);
    expect(await code(fx.chain.submitTx(decl))).toBe('DECLARED_EVENT_UNKNOWN');
    const refused = await code(fx.chain.importBlock(buildBlock(fx, { txs: [decl] })));
    expect(['DECLARED_EVENT_UNKNOWN', 'BAD_TX']).toContain(refused);
    expect(fx.chain.tip.height).toBe(0);
  });

  it('NOT_DECLARANT: another member may not declare the event in error', async () => {
    const wrong = dispense();
    await mine(fx, [txOf(fx, [wrong])]);
    const decl = txOf(fx, [declared(wrong)], fx.nonSealer);
    expect(await code(fx.chain.submitTx(decl))).toBe('NOT_DECLARANT');
    const refused = await code(fx.chain.importBlock(buildBlock(fx, { txs: [decl] })));
    expect(['NOT_DECLARANT', 'BAD_TX']).toContain(refused);
  });
});

describe('checkDeclarations', () => {
  const member = (id: string, role: Member['role']): Member => ({ id, name: id, role, signingKey: '', peerId: '', gs1CompanyPrefixes: [], canSeal: false });
  const tx = { eventIds: ['d'] } as unknown as SignedTx;
  const decls = [{ index: 0, declaredId: 'e' }];
  const lookup = async (ids: readonly string[]) => ids.map((id) => (id === 'e' ? 'maker' : undefined));
  it('lets the submitter and a regulator declare, and nobody else', async () => {
    await expect(checkDeclarations(tx, member('maker', 'manufacturer'), decls, lookup)).resolves.toBeUndefined();
    await expect(checkDeclarations(tx, member('fda', 'regulator'), decls, lookup)).resolves.toBeUndefined();
    expect(await code(checkDeclarations(tx, member('other', 'manufacturer'), decls, lookup))).toBe('NOT_DECLARANT');
    expect(await code(checkDeclarations(tx, member('maker', 'manufacturer'), [{ index: 0, declaredId: 'x' }], lookup))).toBe('DECLARED_EVENT_UNKNOWN');
  });
});
