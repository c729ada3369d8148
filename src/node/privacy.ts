/**
 * Private events on a node (docs/confidentiality.md): the body store, the exchange of bodies with
 * entitled peers (p2p/private-bodies.ts) with trace's rules plugged in, and the retention purge.
 */
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.js';
import type { Member, SignedTx } from '../chain/types.js';
import type { PrivacyContext } from '../api/context.js';
import { LevelPrivateBodyStore } from '../storage/private-bodies.js';
import { PrivateBodyExchange, type PrivateBodyRules, type PrivateEntry } from '../p2p/private-bodies.js';
import type { P2PNetwork } from '../p2p/network.js';
import { bodyTextProblem, eventIdOfText, isEntitledToText } from '../trace/entitlement.js';
import { commitmentId } from '../trace/private-event.js';

const DAY_MS = 86_400_000;
const PURGE_EVERY_MS = 3_600_000;

/**
 * The private event with this commitment on the main chain (its projection and submitter's member
 * ID); 'pending' while its tx waits in the mempool; undefined when it is neither (a capture whose
 * tx was refused after its body was kept, or a public event). One tx read, not the block.
 */
export async function privateEntryOf(chain: Chain, commitment: string): Promise<PrivateEntry | 'pending' | undefined> {
  const id = commitmentId(commitment);
  const loc = await chain.store.getEventLocation(id);
  if (loc === undefined) return chain.mempool.txOfEvent(id) !== undefined ? 'pending' : undefined;
  const txLoc = await chain.store.getTxLocation(loc.txId);
  if (txLoc === undefined) return undefined;
  const bytes = await chain.store.getBlockTx(txLoc.blockHash, txLoc.index);
  const tx: SignedTx | undefined = bytes !== undefined ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as SignedTx) : (await chain.getBlock(txLoc.blockHash))?.txs[txLoc.index];
  const projection = tx?.events[loc.index];
  if (tx === undefined || tx.kind !== 'private' || projection === undefined) return undefined;
  return { projection, submitter: chain.registry.get(tx.submitter)?.id ?? tx.submitter };
}

/** trace/'s rules (who is entitled, does a body open its commitment) with the main chain to look commitments up in. */
export function privateBodyRules(chain: Chain): PrivateBodyRules {
  return { lookup: (commitment) => privateEntryOf(chain, commitment), entitled: isEntitledToText, check: bodyTextProblem, eventIdOf: eventIdOfText };
}

export class NodePrivacy {
  private exchange: PrivateBodyExchange | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private offBlock: (() => void) | undefined;

  private constructor(
    readonly bodies: LevelPrivateBodyStore,
    private readonly config: { defaultSharing: string; pullIntervalMs: number; retentionDays: number },
    private readonly log: Logger,
  ) {}

  static async open(dir: string, config: NodePrivacy['config'], logger: Logger): Promise<NodePrivacy> {
    return new NodePrivacy(await LevelPrivateBodyStore.open(dir), config, logger.child({ module: 'private-bodies' }));
  }

  /** What the API sees. */
  context(): PrivacyContext {
    return { bodies: this.bodies, defaultSharing: this.config.defaultSharing === 'private' ? 'private' : 'public' };
  }

  /** Exchange bodies with the network's member peers: ask each every pullIntervalMs and after every block. */
  async startExchange(chain: Chain, network: P2PNetwork, self: () => Member | undefined, clock: () => number, logger: Logger): Promise<void> {
    const exchange = new PrivateBodyExchange(
      { chainId: chain.chainId, self, intervalMs: this.config.pullIntervalMs, batch: 128, timeoutMs: 10_000, maxEventBytes: chain.limits.maxTxBytes },
      {
        store: this.bodies,
        rules: privateBodyRules(chain),
        transport: {
          handle: (protocol, handler) => network.handleProtocol(protocol, handler),
          dial: (peer, protocol, signal) => network.dialProtocol(peer, protocol, signal),
          connectedPeers: () => network.connectedPeerIds(),
          memberOfPeer: (peer) => network.memberOfPeer(peer),
          penalize: (peer, detail) => network.penalizeReply(peer, detail),
        },
        clock,
        logger,
      },
    );
    await exchange.start();
    this.exchange = exchange;
    const onBlock = (): void => exchange.pullAll();
    chain.on('tip', onBlock);
    this.offBlock = () => chain.off('tip', onBlock);
    network.on('peer:connect', () => exchange.pullAll());
  }

  /** Drop bodies older than the retention period now and every hour (0 days: never). */
  startPurge(clock: () => number): void {
    if (this.config.retentionDays <= 0) return;
    const run = (): void => {
      this.bodies
        .purge(clock() - this.config.retentionDays * DAY_MS)
        .then((n) => {
          if (n > 0) this.log.info({ purged: n, retentionDays: this.config.retentionDays }, 'private bodies purged after the retention period (commitments kept)');
        })
        .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'private body purge failed; retried in an hour'));
    };
    run();
    this.purgeTimer = setInterval(run, PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  async close(): Promise<void> {
    this.offBlock?.();
    this.exchange?.stop();
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.bodies.close();
  }
}
