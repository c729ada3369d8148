/**
 * Chain.submitTx with a tx log: a local tx resolves only after its record's append resolved;
 * until then it is out of block templates and not gossiped; a failed append takes it out of
 * the mempool again and the error reaches the caller. Gossip, reorg and replay admit no record.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/common/bytes.js';
import { txId } from '../../../src/chain/tx.js';
import { TxLogError, type TxLog } from '../../../src/chain/tx-log.js';
import { makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';

/** A tx log whose appends wait until the test lets them finish (or fail). */
class GatedLog implements TxLog {
  readonly appended: string[] = [];
  private gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  appendTx(id: Uint8Array): Promise<void> {
    this.appended.push(toHex(id));
    return new Promise((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  open(): void {
    for (const g of this.gates.splice(0)) g.resolve();
  }
  fail(err: Error): void {
    for (const g of this.gates.splice(0)) g.reject(err);
  }
  get waiting(): number {
    return this.gates.length;
  }
  *liveTxIds(): Iterable<string> {}
  async readTx(): Promise<Uint8Array | undefined> {
    return undefined;
  }
  async settle(): Promise<void> {}
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('submitTx with a tx log', () => {
  let fx: Fixture;
  let log: GatedLog;
  afterEach(async () => fx?.close());

  async function setup(): Promise<void> {
    log = new GatedLog();
    fx = await makeFixture(undefined, { txLog: log });
  }

  it('a local tx resolves only once its record is written; until then no block template offers it and it is not gossiped', async () => {
    await setup();
    const tx = makeTx(fx, [{ epc: 'urn:x:d1', action: 'commission' }]);
    const id = toHex(txId(tx));
    const gossiped: string[] = [];
    fx.chain.on('tx', (_t, i) => gossiped.push(i));
    let resolved = false;
    const submitted = fx.chain.submitTx(tx).then((r) => {
      resolved = true;
      return r;
    });
    while (log.waiting === 0) await tick();
    expect(log.appended).toEqual([id]);
    expect(fx.chain.mempool.has(id)).toBe(true); // admitted: a duplicate capture is refused meanwhile
    expect(fx.chain.mempool.select(1 << 20).map((e) => e.idHex)).toEqual([]);
    await tick();
    expect([resolved, gossiped]).toEqual([false, []]);
    log.open();
    expect(await submitted).toEqual({ txId: id });
    expect(gossiped).toEqual([id]);
    expect(fx.chain.mempool.select(1 << 20).map((e) => e.idHex)).toEqual([id]);
  });

  it('a failed append refuses the tx with the log error and takes it out of the mempool; once the log works it is accepted', async () => {
    await setup();
    const tx = makeTx(fx, [{ epc: 'urn:x:d2', action: 'commission' }]);
    const id = toHex(txId(tx));
    const gossiped: string[] = [];
    fx.chain.on('tx', (_t, i) => gossiped.push(i));
    const submitted = fx.chain.submitTx(tx).then(
      () => undefined,
      (e: unknown) => e,
    );
    while (log.waiting === 0) await tick();
    log.fail(new TxLogError('TX_LOG_UNWRITABLE', 'the tx log write failed: ENOSPC', 30));
    const err = await submitted;
    expect(err).toBeInstanceOf(TxLogError);
    expect((err as TxLogError).code).toBe('TX_LOG_UNWRITABLE');
    expect(fx.chain.mempool.has(id)).toBe(false);
    expect(fx.chain.mempool.size).toBe(0);
    expect(gossiped).toEqual([]);
    const again = fx.chain.submitTx(tx);
    while (log.waiting === 0) await tick();
    log.open();
    expect(await again).toEqual({ txId: id });
    expect(fx.chain.mempool.select(1 << 20).map((e) => e.idHex)).toEqual([id]);
  });

  it('a refused tx (duplicate) appends nothing and leaves no hold behind on the pending one', async () => {
    await setup();
    const tx = makeTx(fx, [{ epc: 'urn:x:d3', action: 'commission' }]);
    const first = fx.chain.submitTx(tx);
    while (log.waiting === 0) await tick();
    await expect(fx.chain.submitTx(tx)).rejects.toMatchObject({ code: 'ALREADY_KNOWN' });
    log.open();
    await first;
    expect(log.appended).toHaveLength(1);
    expect(fx.chain.mempool.select(1 << 20)).toHaveLength(1);
  });

  it('gossiped txs and replayed ones (inLog) are admitted without a record', async () => {
    await setup();
    const a = makeTx(fx, [{ epc: 'urn:x:g1', action: 'commission' }]);
    const b = makeTx(fx, [{ epc: 'urn:x:g2', action: 'commission' }]);
    await fx.chain.submitTx(a, { origin: 'gossip' });
    await fx.chain.submitTx(b, { origin: 'local', inLog: true });
    expect(log.appended).toEqual([]);
    expect(fx.chain.mempool.size).toBe(2);
  });
});
