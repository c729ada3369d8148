/**
 * The consortium network: one libp2p host per node, admitting only registry members, gossiping
 * txs and blocks, serving and running headers-first sync, keeping connections to the other
 * members up (bootstrap addresses and addresses learnt through identify are redialled), and
 * scoring peers. Handlers only decode and call the chain (through ChainPort); the rules live
 * in chain/.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { ChainPort } from './chain-port.js';
import type { PeerInfo } from './peer-info.js';
import { createHost, type Host } from './host.js';
import { memberGater, registryAdmits } from './gater.js';
import { GossipValidators, syncProtocolFor, topicsFor, type GossipCounters, type Topics } from './gossip.js';
import { PeerScores, DEFAULT_SCORE_POLICY, type Offence, type ScorePolicy } from './scores.js';
import { DEFAULT_TIMEOUTS, SyncClient, serveSyncStream, type RequestTimeouts } from './sync-protocol.js';
import { Synchronizer, type SyncOptions, type SyncProgress } from './sync.js';
import type { Verdict } from './verdict.js';

export interface NetworkOptions {
  privateKey: PrivateKey;
  /** Listen multiaddrs; none: dial out only. */
  listen: string[];
  /** Member addresses to dial, each ending in /p2p/<peer ID>. */
  bootstrap: string[];
  /** Swarm key file bytes (optional second fence). */
  swarmKey?: Uint8Array;
  redialIntervalMs?: number;
  sync?: Partial<SyncOptions>;
  timeouts?: Partial<RequestTimeouts>;
  score?: Partial<ScorePolicy>;
}

export interface NetworkEvents {
  progress: [progress: SyncProgress];
  'peer:connect': [peerId: string];
  'peer:disconnect': [peerId: string];
}

export class NetworkConfigError extends Error {
  override readonly name = 'NetworkConfigError';
}

interface BootstrapTarget {
  peerId: string;
  addr: Multiaddr;
}

/** Parse bootstrap multiaddrs; each must name its peer (/p2p/<id>) so the gater can vet it. */
export function parseBootstrap(addrs: readonly string[]): BootstrapTarget[] {
  return addrs.map((a) => {
    let ma: Multiaddr;
    try {
      ma = multiaddr(a);
    } catch (err) {
      throw new NetworkConfigError(`bootstrap address "${a}" is not a multiaddr: ${(err as Error).message}`);
    }
    const p2p = ma.getComponents().find((c) => c.name === 'p2p');
    if (!p2p?.value) throw new NetworkConfigError(`bootstrap address "${a}" must end in /p2p/<peer ID>`);
    return { peerId: p2p.value, addr: ma };
  });
}

function toResult(v: Verdict): TopicValidatorResult {
  if (v === 'accept') return TopicValidatorResult.Accept;
  if (v === 'reject') return TopicValidatorResult.Reject;
  return TopicValidatorResult.Ignore;
}

export class P2PNetwork extends EventEmitter<NetworkEvents> {
  readonly topics: Topics;
  readonly protocol: string;
  readonly scores: PeerScores;
  private readonly host: Host;
  private readonly gossip: GossipValidators;
  private readonly sync: Synchronizer;
  private readonly bootstrap: BootstrapTarget[];
  private readonly bootstrapIds: ReadonlySet<string>;
  private readonly peerIds = new Map<string, PeerId>();
  private readonly log: Logger;
  private readonly redialMs: number;
  private redialTimer: NodeJS.Timeout | undefined;
  private redialing = false;
  private started = false;
  private offTip: (() => void) | undefined;

  private constructor(
    host: Host,
    private readonly opts: NetworkOptions,
    private readonly chain: ChainPort,
    logger: Logger,
    scores: PeerScores,
    /** Members the operator blocked (partition switch); the gater reads the same set. */
    private readonly blockedRef: Set<string>,
    bootstrap: BootstrapTarget[],
  ) {
    super();
    this.host = host;
    this.scores = scores;
    this.log = logger.child({ module: 'p2p' });
    this.topics = topicsFor(chain.chainId);
    this.protocol = syncProtocolFor(chain.chainId);
    this.bootstrap = bootstrap;
    this.bootstrapIds = new Set(bootstrap.map((b) => b.peerId));
    this.redialMs = opts.redialIntervalMs ?? 2_000;
    this.gossip = new GossipValidators(
      chain,
      {
        offence: (peer, offence, code) => this.offence(peer, offence, code),
        unknownParent: (peer, height) => this.sync.noteAnnounced(peer, height),
        aheadOfClock: (peer, height) => this.sync.noteAheadOfClock(peer, height),
      },
      this.log,
    );
    const client = new SyncClient(host, this.protocol, (id) => this.peerIds.get(id), chain.limits.maxBlockBytes, { ...DEFAULT_TIMEOUTS, ...opts.timeouts });
    this.sync = new Synchronizer(opts.sync ?? {}, { chain, transport: client, logger });
    this.sync.on('progress', (p) => this.emit('progress', p));
    this.sync.on('stall', (peer) => this.stall(peer));
    this.sync.on('offence', (peer, offence, detail) => this.offence(peer, offence, detail));
  }

  static async create(opts: NetworkOptions, modules: { chain: ChainPort; logger: Logger }): Promise<P2PNetwork> {
    const { chain } = modules;
    const scores = new PeerScores({ ...DEFAULT_SCORE_POLICY, ...opts.score });
    const blocked = new Set<string>();
    const log = modules.logger.child({ module: 'p2p' });
    const topics = topicsFor(chain.chainId);
    // Refuse bad addresses before any host exists.
    const bootstrap = parseBootstrap(opts.bootstrap);
    // The registry at our tip decides (it follows the chain: docs/governance.md). The bootstrap
    // peers the operator named are admitted too: a member added after genesis syncs from one
    // that its genesis-only registry may not know yet.
    const bootstrapIds = new Set(bootstrap.map((b) => b.peerId));
    const gater = memberGater(
      {
        isMember: (id) => registryAdmits((p) => chain.peerStanding(p), id, bootstrapIds),
        isBanned: (id) => scores.isBanned(id),
        isBlocked: (id) => blocked.has(id),
      },
      (id, why, where) => log.debug({ peer: id, why, where }, 'connection refused'),
    );
    const members = chain.otherMembers('').length;
    const host = await createHost({
      privateKey: opts.privateKey,
      listen: opts.listen,
      gater,
      swarmKey: opts.swarmKey,
      topics: [topics.tx, topics.block],
      maxMessageBytes: chain.limits.maxBlockBytes,
      appScore: (id) => scores.score(id),
      maxConnections: 2 * members + 8,
    });
    return new P2PNetwork(host, opts, chain, modules.logger, scores, blocked, bootstrap);
  }

  get peerId(): string {
    return this.host.peerId.toString();
  }

  /** Listen addresses, each with /p2p/<our peer ID>. */
  addresses(): string[] {
    return this.host.getMultiaddrs().map((m) => m.toString());
  }

  async start(): Promise<void> {
    if (this.started) return;
    if (!this.chain.memberOfPeer(this.peerId)) {
      // A member added after genesis: peers refuse it until its admission activates on their chain.
      this.log.warn({ peerId: this.peerId }, "this node's peer ID is not a member's at our tip yet: peers admit it once its admission activates");
    }
    await this.host.start();
    this.started = true;
    await this.host.handle(
      this.protocol,
      (stream, connection) => {
        if (!this.admits(connection.remotePeer.toString())) {
          stream.abort(new Error('not a member'));
          return;
        }
        void serveSyncStream(stream, this.chain, this.log, this.opts.timeouts?.headersMs ?? DEFAULT_TIMEOUTS.headersMs);
      },
      { maxInboundStreams: 16, maxOutboundStreams: 16 },
    );
    const pubsub = this.host.services.pubsub;
    pubsub.topicValidators.set(this.topics.block, async (peer, msg) =>
      toResult(await this.gossip.validateBlock(peer.toString(), msg.type === 'signed' ? msg.from.toString() : undefined, msg.data)),
    );
    pubsub.topicValidators.set(this.topics.tx, async (peer, msg) =>
      toResult(await this.gossip.validateTx(peer.toString(), msg.type === 'signed' ? msg.from.toString() : undefined, msg.data)),
    );
    pubsub.subscribe(this.topics.block);
    pubsub.subscribe(this.topics.tx);
    this.offTip = this.chain.onTip(() => this.enforceRegistry());
    this.host.addEventListener('peer:connect', this.onConnect);
    this.host.addEventListener('peer:disconnect', this.onDisconnect);
    this.sync.start();
    this.redialTimer = setInterval(() => void this.redial(), this.redialMs);
    this.redialTimer.unref();
    void this.redial();
    this.log.info({ peerId: this.peerId, listen: this.addresses(), bootstrap: this.bootstrap.length, swarmKey: !!this.opts.swarmKey }, 'p2p started');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.redialTimer) clearInterval(this.redialTimer);
    this.offTip?.();
    this.sync.stop();
    this.host.removeEventListener('peer:connect', this.onConnect);
    this.host.removeEventListener('peer:disconnect', this.onDisconnect);
    await this.host.stop();
    this.peerIds.clear();
    this.log.info('p2p stopped');
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString();
    if (!this.admits(id)) {
      // The gater should have refused it; never talk to a stranger.
      this.log.error({ peer: id }, 'connected peer is not a member; hanging up');
      void this.host.hangUp(evt.detail);
      return;
    }
    this.peerIds.set(id, evt.detail);
    this.sync.addPeer(id);
    this.log.info({ peer: id, name: this.chain.memberOfPeer(id)?.name ?? '(bootstrap peer, not a member at our tip)' }, 'peer connected');
    this.emit('peer:connect', id);
  };

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString();
    if (!this.peerIds.delete(id)) return;
    this.sync.removePeer(id);
    this.log.info({ peer: id, name: this.chain.memberOfPeer(id)?.name }, 'peer disconnected');
    this.emit('peer:disconnect', id);
  };

  /** Dial every member we are not connected to (bootstrap address, else addresses learnt). */
  private async redial(): Promise<void> {
    if (!this.started || this.redialing) return;
    this.redialing = true;
    try {
      const attempts: Promise<void>[] = [];
      const viaBootstrap = new Set<string>();
      for (const b of this.bootstrap) {
        viaBootstrap.add(b.peerId);
        if (this.shouldDial(b.peerId)) attempts.push(this.dial(b.addr, b.peerId));
      }
      for (const m of this.chain.otherMembers(this.peerId)) {
        if (viaBootstrap.has(m.peerId) || !this.shouldDial(m.peerId)) continue;
        let pid: PeerId;
        try {
          pid = peerIdFromString(m.peerId);
        } catch (err) {
          this.log.debug({ peer: m.peerId, err: (err as Error).message }, 'member peer ID does not parse');
          continue;
        }
        if (await this.host.peerStore.has(pid)) attempts.push(this.dial(pid, m.peerId));
      }
      await Promise.all(attempts);
    } finally {
      this.redialing = false;
    }
  }

  private shouldDial(peerId: string): boolean {
    return peerId !== this.peerId && !this.peerIds.has(peerId) && !this.blockedRef.has(peerId) && !this.scores.isBanned(peerId);
  }

  private async dial(target: Multiaddr | PeerId, peerId: string): Promise<void> {
    try {
      await this.host.dial(target, { signal: AbortSignal.timeout(5_000) });
    } catch (err) {
      this.log.debug({ peer: peerId, err: (err as Error).message }, 'dial failed');
    }
  }

  /** Whether a peer may talk to us: a member at our tip, or a bootstrap peer the operator named that the registry does not know as suspended or revoked. */
  private admits(peerId: string): boolean {
    return registryAdmits((p) => this.chain.peerStanding(p), peerId, this.bootstrapIds);
  }

  /**
   * The registry moved with the tip: hang up on every connected peer the gater no longer admits
   * (a member suspended, revoked, or whose peer ID was rotated, from the block that activates
   * it); new members are dialled by the redial loop, and may dial us from now on.
   */
  private enforceRegistry(): void {
    for (const id of this.peerIds.keys()) {
      if (!this.admits(id)) {
        this.log.warn({ peer: id }, 'peer is no longer a member at our tip; disconnecting');
        void this.hangUp(id);
      }
    }
  }

  private offence(peerId: string, offence: Offence, detail: string): void {
    if (!this.admits(peerId)) return;
    const r = this.scores.penalize(peerId, offence);
    this.log.warn({ peer: peerId, offence, detail, score: r.score }, 'peer penalised');
    if (r.banned) {
      this.log.warn({ peer: peerId, until: new Date(r.bannedUntil).toISOString() }, 'peer banned; disconnecting');
      void this.hangUp(peerId);
    }
  }

  private stall(peerId: string): void {
    this.offence(peerId, 'stall', 'request timed out');
    void this.hangUp(peerId);
  }

  private async hangUp(peerId: string): Promise<void> {
    const pid = this.peerIds.get(peerId);
    if (!pid) return;
    try {
      await this.host.hangUp(pid);
    } catch (err) {
      this.log.debug({ peer: peerId, err: (err as Error).message }, 'hang up failed');
    }
  }

  /** Gossip a block this node sealed. Resolves with the number of peers it went to. */
  async publishBlock(bytes: Uint8Array): Promise<number> {
    return this.publish(this.topics.block, bytes);
  }

  /** Gossip a tx admitted locally (or returned to the pool by a reorg): its canonical bytes, as the mempool holds them. */
  async publishTx(bytes: Uint8Array): Promise<number> {
    return this.publish(this.topics.tx, bytes);
  }

  private async publish(topic: string, data: Uint8Array): Promise<number> {
    if (!this.started) return 0;
    try {
      const r = await this.host.services.pubsub.publish(topic, data);
      return r.recipients.length;
    } catch (err) {
      this.log.warn({ topic, err: (err as Error).message }, 'publish failed');
      return 0;
    }
  }

  isMember(peerId: string): boolean {
    return this.chain.memberOfPeer(peerId) !== undefined;
  }

  peerCount(): number {
    return this.peerIds.size;
  }

  synced(): boolean {
    return this.sync.isSynced();
  }

  syncProgress(): SyncProgress {
    return this.sync.progress();
  }

  /** How many peers we know to be subscribed to each topic. */
  topicPeers(): Record<'tx' | 'block', number> {
    const pubsub = this.host.services.pubsub;
    return { tx: pubsub.getSubscribers(this.topics.tx).length, block: pubsub.getSubscribers(this.topics.block).length };
  }

  gossipCounters(): Record<'tx' | 'block', GossipCounters> {
    return this.gossip.counters;
  }

  peers(): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const [id, pid] of this.peerIds) {
      const m = this.chain.memberOfPeer(id);
      if (!m) continue;
      const conn = this.host.getConnections(pid)[0];
      const s = this.sync.peer(id);
      const rtt = conn?.rtt ?? s?.rttMs;
      out.push({
        peerId: id,
        name: m.name,
        role: m.role,
        memberId: m.id,
        address: conn ? conn.remoteAddr.toString() : null,
        direction: conn ? conn.direction : null,
        latencyMs: rtt === undefined ? null : Math.round(rtt * 10) / 10,
        tip: s?.status ? { height: s.status.height, hash: s.status.tip } : null,
        score: Math.round(this.scores.score(id) * 10) / 10,
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Operator partition switch: refuse and disconnect these members (empty list: heal). */
  setBlocked(peerIds: readonly string[]): void {
    this.blockedRef.clear();
    for (const id of peerIds) if (id !== this.peerId) this.blockedRef.add(id);
    for (const id of this.blockedRef) void this.hangUp(id);
    this.log.warn({ blocked: [...this.blockedRef] }, 'peer block list set');
    if (this.blockedRef.size === 0) void this.redial();
  }

  blocked(): string[] {
    return [...this.blockedRef];
  }

  banned(): { peerId: string; until: number }[] {
    return this.scores.banned();
  }
}
