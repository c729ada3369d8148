/**
 * Composition root: builds every module from config, starts them in order, stops them in
 * reverse. The only place that knows all the pieces.
 */
import { unwatchFile, watchFile } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Chain } from '../chain/chain.js';
import { Mempool } from '../chain/mempool.js';
import type { TxVerifier } from '../chain/tx-verifier.js';
import { WorkerPoolTxVerifier } from '../chain/verifier-pool.js';
import { MemberRegistry } from '../chain/registry.js';
import { DEV_PARAMS, genesisBlock, paramsForInterval } from '../chain/genesis.js';
import { keyIdHex, type KeyPair } from '../chain/keys.js';
import type { Genesis, Member } from '../chain/types.js';
import { readFile } from 'node:fs/promises';
import { checkMemberPublic } from '../chain/governance.js';
import { MEMBER_FILE } from './commands/init.js';
import type { ChainStore } from '../chain/store.js';
import { FileTxLog, guardedGroup, LevelChainStore, WriteGuard } from '../storage/index.js';
import { TxLogFinality } from '../chain/tx-log-finality.js';
import { replayTxLog, reportTxLogOpen } from './tx-log-replay.js';
import { importLegacyMempool } from './legacy-mempool.js';
import { buildApi } from '../api/server.js';
import type { ApiContext } from '../api/context.js';
import { NodeMetrics } from '../api/metrics.js';
import type { Server as TlsServer } from 'node:tls';
import { DataDir, FILES, peerIdOf } from './data-dir.js';
import { TokenService } from './token-service.js';
import { FileAuditLog } from '../storage/audit-log.js';
import { reloadTls, tlsEnabled } from '../api/tls.js';
import type { AuditEntry, AuditSink } from '../api/context.js';
import { devGenesis } from './dev-consortium.js';
import { MinerService, type BlockMiner } from './miner-service.js';
import { FileTokenAdmin } from './token-admin.js';
import { networkView, startNetwork, type NetworkService } from './network.js';
import { createMiner } from '../consensus/miner/index.js';
import { traceRules } from '../trace/chain-rules.js';
import { backfillLinks } from './links-backfill.js';
import { backfillQueryTerms } from './terms-backfill.js';
import type { NodeConfig } from './config.js';
import { writeBackup } from './backup.js';
import { NodePrivacy } from './privacy.js';
import { NotifyService } from '../notify/service.js';
import { webhookSender } from '../notify/webhook.js';
import { NotifyRecords } from '../storage/index.js';
import { DEFAULT_QUERY_LIMITS } from '../api/query.js';

export interface NodeInfo {
  name: string;
  role: string;
  memberId: string;
  peerId: string;
  chainId: string;
  api: string;
  data: string;
}

export class TracechainNode {
  private store: LevelChainStore | undefined;
  private txLog: FileTxLog | undefined;
  private finality: TxLogFinality | undefined;
  private writeGuard: WriteGuard | undefined;
  private chain: Chain | undefined;
  private verifier: TxVerifier | undefined;
  private miner: BlockMiner | undefined;
  private minerService: MinerService | undefined;
  private network: NetworkService | undefined;
  private api: FastifyInstance | undefined;
  private metrics: NodeMetrics | undefined;
  private futureTimer: NodeJS.Timeout | undefined;
  private tokens: TokenService | undefined;
  private auditLog: FileAuditLog | undefined;
  private privacy: NodePrivacy | undefined;
  private notify: NotifyService | undefined;
  private tlsWatched: string[] = [];
  private apiAddress = '';
  private readonly log: Logger;
  private info: Omit<NodeInfo, 'api'> | undefined;

  constructor(
    private readonly config: NodeConfig,
    private readonly modules: { logger: Logger; clock?: () => number },
  ) {
    this.log = modules.logger.child({ module: 'node' });
  }

  get chainOrThrow(): Chain {
    if (!this.chain) throw new Error('node not started');
    return this.chain;
  }

  /** Create a one-member dev consortium in the data dir if it holds none. */
  static async ensureDevConsortium(dir: DataDir, clock: () => number, log: Logger, blockIntervalMs = DEV_PARAMS.blockIntervalMs): Promise<void> {
    await dir.ensure();
    if (await dir.exists(FILES.genesis)) return;
    const key = (await dir.readMemberKey()) ?? (await dir.createMemberKey());
    const peerKey = (await dir.readPeerKey()) ?? (await dir.createPeerKey());
    const genesis = devGenesis(key, await peerIdOf(peerKey), clock(), paramsForInterval(blockIntervalMs));
    await dir.writeGenesis(genesis);
    if (!(await dir.exists(FILES.apiToken))) await dir.createApiToken();
    log.info({ dir: dir.path, chainId: genesisBlock(genesis).hashHex }, 'created a one-member dev consortium');
  }

  /** Start every module; if one fails, whatever already started is stopped before the error propagates. */
  async start(): Promise<NodeInfo> {
    try {
      return await this.startModules();
    } catch (err) {
      await this.stop().catch((stopErr: unknown) => this.log.error({ err: stopErr }, 'cleanup after a failed start failed too'));
      throw err;
    }
  }

  private async startModules(): Promise<NodeInfo> {
    const clock = this.modules.clock ?? Date.now;
    const { logger } = this.modules;
    const dir = new DataDir(this.config.dataDir);
    await TracechainNode.ensureDevConsortium(dir, clock, this.log, this.config.dev.blockIntervalMs);
    const genesis = (await dir.readGenesis()) as Genesis;
    const key = await dir.readMemberKey();
    if (!key) throw new Error(`${dir.file(FILES.memberKey)} is missing: this node has no member key`);
    const peerKey = (await dir.readPeerKey()) ?? (await dir.createPeerKey());
    const memberId = keyIdHex(key.publicKey);
    // Membership is chain state (docs/governance.md): a member added after genesis starts from
    // the genesis file, syncs, and may capture and seal from its activation. Until then it
    // runs under the public part `tracechain init` wrote, and the chain refuses its txs.
    const ownPart = await readOwnMember(dir);
    const inGenesis = MemberRegistry.fromGenesis(genesis).get(memberId);
    if (!(await dir.exists(FILES.apiToken)) && (await dir.readTokenHashes()).length === 0 && !(await dir.exists(FILES.tokens))) await dir.createApiToken();
    // Revocation takes effect without a restart: the token files are checked for a change at
    // every authenticated request (node/token-service.ts), and re-read on SIGHUP too.
    this.tokens = new TokenService({ flushMs: 5_000 }, { dir, clock, logger });
    this.tokens.start();
    const tokens = this.tokens;
    if (this.config.api.audit.enabled) {
      const mib = 1024 * 1024;
      this.auditLog = await FileAuditLog.open({ dir: dir.file(FILES.audit), maxFileBytes: this.config.api.audit.maxFileMiB * mib, maxFiles: this.config.api.audit.maxFiles, maxQueue: 100_000, syncMs: 1_000 });
    }
    const auditLog = this.auditLog;
    const chainId = genesisBlock(genesis).hashHex;

    this.store = await LevelChainStore.open(dir.file(FILES.chain), { logger });
    this.privacy = await NodePrivacy.open(dir.file(FILES.privateBodies), this.config.privacy, logger);
    const privacy = this.privacy;
    // The tx log: a local tx is acknowledged only once it is fsynced there (docs/reliability.md).
    const txLogLog = logger.child({ module: 'tx-log' });
    if (this.config.txLog.enabled) {
      const mib = 1024 * 1024;
      const opened = await FileTxLog.open(
        { dir: dir.file(FILES.txLog), maxPayloadBytes: genesis.params.maxTxBytes, segmentBytes: this.config.txLog.segmentMiB * mib, maxQueueBytes: this.config.txLog.maxQueueMiB * mib },
        { logger: txLogLog },
      );
      this.txLog = opened.log;
      reportTxLogOpen(opened.report, txLogLog);
    } else {
      txLogLog.warn('tx log disabled (txLog.enabled false): a 202 is NOT durable, a stop or crash loses pending txs; for benchmark comparisons only');
    }
    const txLog = this.txLog;
    const rules = traceRules();
    const { maxBlockBytes, maxTxBytes, maxEventsPerTx } = genesis.params;
    await backfillLinks(this.store, rules, { maxBlockBytes, maxTxBytes, maxEventsPerTx }, logger.child({ module: 'storage' }), clock);
    await backfillQueryTerms(this.store, rules, { maxBlockBytes, maxTxBytes, maxEventsPerTx }, logger.child({ module: 'storage' }), clock);
    this.verifier = new WorkerPoolTxVerifier({ workers: this.config.verifier.workers }, { genesis });
    const mempool = new Mempool(this.config.mempool);
    this.chain = await Chain.open({ genesis }, { store: this.store as ChainStore, rules, verifier: this.verifier, mempool, clock, logger, ...(txLog ? { txLog } : {}) });
    const chain = this.chain;
    const member: Member | undefined = chain.registry.get(memberId) ?? inGenesis ?? ownPart;
    if (!member) throw new Error(`member key ${memberId} is not a member of consortium "${genesis.name}" at the stored tip, and ${dir.file(MEMBER_FILE)} is missing`);
    if (chain.registry.get(memberId) === undefined) this.log.warn({ memberId }, 'this node is not a member at the tip yet: it syncs, and may capture and seal once its admission activates');
    this.futureTimer = setInterval(() => {
      if (chain.futureCount > 0) void chain.retryFutureBlocks();
    }, 1_000);
    this.futureTimer.unref();

    // Disk space: suspend writes before the disk fills, recover the store after a failed write.
    this.writeGuard = new WriteGuard(
      { minFreeBytes: this.config.storage.minFreeMiB * 1024 * 1024, intervalMs: this.config.storage.checkIntervalMs },
      { store: txLog ? guardedGroup(this.store, txLog) : this.store, logger: logger.child({ module: 'storage' }) },
    );
    this.writeGuard.on('change', (health) => {
      if (!health.writable) return;
      // A heavier block may have been stored but not connected when writes stopped.
      chain.reactivate().catch((err: unknown) => this.log.error({ err }, 'fork choice after the store recovered failed'));
    });
    await this.writeGuard.start();
    const store = this.store;

    if (this.config.mining.enabled) {
      this.miner = await createMiner({ workers: this.config.mining.workers, logger });
      this.minerService = new MinerService({ refreshMs: this.config.mining.refreshMs, key }, { chain, miner: this.miner, clock, logger, writeBlocked: () => store.writeBlockedReason });
    }

    this.metrics = new NodeMetrics();
    this.metrics.bindChain(chain);
    const guard = this.writeGuard;
    this.metrics.setSources({
      peers: () => this.network?.network.peerCount() ?? 0,
      hashrate: () => this.minerService?.hashrate() ?? 0,
      storage: () => guard.health(),
      txLog: () => txLog?.stats(),
      notify: () => this.notify?.stats(),
    });
    this.network = await startNetwork({ config: this.config, dir, chain, peerKey, sealed: this.minerService, logger });
    const network = this.network?.network;
    if (network) await privacy.startExchange(chain, network, () => chain.registry.get(memberId), clock, logger);
    privacy.startPurge(clock);

    // Subscriptions deliver from the chain on their own (docs/notifications.md): started before
    // the API so a restart resumes every cursor, stopped after it.
    const n = this.config.notify;
    this.notify = new NotifyService(
      {
        allowHttp: n.allowHttp,
        maxQueries: n.maxQueries,
        maxSubscriptions: n.maxSubscriptions,
        maxStreams: n.maxStreams,
        maxEventsPerDelivery: n.maxEventsPerDelivery,
        retryBaseMs: n.retryBaseMs,
        retryMaxMs: n.retryMaxMs,
        pauseAfterMs: n.pauseAfterMs,
        maxBacklogBlocks: n.maxBacklogBlocks,
        finalityDepth: genesis.params.finalityDepth,
        maxStreamBuffer: 4 * 1024 * 1024,
        limits: { ...DEFAULT_QUERY_LIMITS, scanBudget: this.config.api.queryScanBudget },
      },
      { chain, records: new NotifyRecords(this.store), send: webhookSender({ timeoutMs: n.timeoutMs, userAgent: 'tracechain-notify/1' }), clock, logger },
    );
    await this.notify.start();

    const ctx: ApiContext = {
      chain,
      queries: this.notify,
      signer: { member, secretKey: key.secretKey },
      metrics: this.metrics,
      clock,
      ...(network ? { network: networkView(network) } : {}),
      status: {
        peers: () => network?.peerCount() ?? 0,
        synced: () => network?.synced() ?? true,
        hashrate: () => this.minerService?.hashrate() ?? 0,
        storeOpen: () => this.store?.isOpen() ?? false,
        networked: () => network !== undefined,
        storage: () => guard.health(),
      },
      authenticate: (secret) => tokens.authenticate(secret),
      authenticateCert: (sha256) => tokens.authenticateCert(sha256),
      ...(auditLog ? { audit: auditSink(auditLog) } : {}),
      backup: this.backupSource(store, dir, genesis, clock, logger),
      privacy: privacy.context(),
      ...(this.config.api.tokenApi ? { tokenAdmin: new FileTokenAdmin({ dir, clock, lastUsed: (name) => tokens.lastUsed(name) }) } : {}),
    };
    if (txLog && this.verifier) {
      await replayTxLog(txLog, chain, this.verifier, txLogLog);
      // Records are dropped once their tx is final (k confirmations) or can never be recorded.
      const finality = new TxLogFinality({ finalityDepth: genesis.params.finalityDepth, limits: chain.limits }, { txLog, mempool, store: this.store, logger });
      this.finality = finality;
      const settle = (): void => {
        finality.update(chain.tip.height).catch((err: unknown) => txLogLog.warn({ err: (err as Error).message }, 'tx log finality pass failed; will retry at the next block'));
      };
      chain.on('block', (b) => finality.noteBlock(b));
      chain.on('reorg', () => finality.noteReorg());
      chain.on('tip', settle);
      settle();
    }
    await importLegacyMempool(dir.file(FILES.mempool), chain, this.log);
    this.api = await buildApi(this.config.api, ctx, logger);
    this.apiAddress = await this.api.listen({ host: this.config.api.host, port: this.config.api.port });
    if (tlsEnabled(this.config.api.tls)) {
      // A renewed certificate is picked up when its files change (polled every second) and on SIGHUP.
      const { cert, key, clientCa } = this.config.api.tls;
      this.tlsWatched = [cert, key, ...(clientCa !== '' ? [clientCa] : [])];
      for (const f of this.tlsWatched) watchFile(f, { interval: 1_000, persistent: false }, () => this.reloadTls('file changed'));
    }
    this.minerService?.start();
    this.info = { name: member.name, role: member.role, memberId, peerId: await peerIdOf(peerKey), chainId, data: dir.path };
    this.log.info({ api: this.apiAddress, chainId, height: chain.tip.height, mining: !!this.minerService, p2p: network?.addresses() ?? [] }, 'node started');
    return { ...this.info, api: this.apiAddress };
  }

  /** Online backups for POST /admin/backup: one at a time, each one store snapshot, no keys. */
  private backupSource(store: LevelChainStore, dir: DataDir, genesis: Genesis, clock: () => number, logger: Logger): NonNullable<ApiContext['backup']> {
    let running = false;
    const log = logger.child({ module: 'backup' });
    return {
      running: () => running,
      approximateBytes: () => store.approximateSize(),
      write: async (out) => {
        running = true;
        try {
          return await writeBackup(store, dir, out, { genesis, clock, logger: log });
        } finally {
          running = false;
        }
      },
    };
  }

  /** Re-read the token files (they are also re-read at the first request after they change). */
  reloadTokens(reason = 'SIGHUP'): number {
    return this.tokens?.reload(reason) ?? 0;
  }

  /** Put the TLS files into the running server; a failed reload keeps the previous certificate. */
  reloadTls(reason = 'SIGHUP'): boolean {
    const tls = this.config.api.tls;
    if (!this.api || !tlsEnabled(tls)) return false;
    try {
      reloadTls(this.api.server as unknown as TlsServer, tls);
      this.log.info({ reason, cert: tls.cert }, 'TLS certificate reloaded');
      return true;
    } catch (err) {
      this.log.error({ reason, err: (err as Error).message }, 'TLS certificate not reloaded; the previous one stays in use');
      return false;
    }
  }

  /** SIGHUP: tokens and the TLS certificate. */
  reload(reason = 'SIGHUP'): void {
    this.reloadTokens(reason);
    this.reloadTls(reason);
  }

  /** Stop in reverse order of start: miner, API, timers, chain writes, store. */
  async stop(): Promise<void> {
    for (const f of this.tlsWatched) unwatchFile(f);
    this.writeGuard?.stop();
    await this.minerService?.stop();
    await this.miner?.close();
    await this.api?.close();
    await this.notify?.stop();
    await this.auditLog?.close();
    await this.tokens?.stop();
    await this.network?.stop();
    await this.privacy?.close();
    this.metrics?.close();
    if (this.futureTimer) clearInterval(this.futureTimer);
    await this.chain?.close();
    // Pending txs need no saving: each local one is in the tx log since before its 202.
    await this.finality?.stop();
    await this.txLog?.close();
    await this.verifier?.close();
    await this.store?.close();
    this.log.info('node stopped');
  }
}

/** The file audit log as the API's sink. */
function auditSink(log: FileAuditLog): AuditSink {
  return {
    append: (entry) => log.append(entry),
    read: async (q) => {
      const page = await log.read(q);
      return { entries: page.entries as unknown as AuditEntry[], next: page.next };
    },
  };
}

export type { KeyPair };

/** This node's public part as `tracechain init` wrote it (member.json), if present and well formed. */
async function readOwnMember(dir: DataDir): Promise<Member | undefined> {
  let text: string;
  try {
    text = await readFile(dir.file(MEMBER_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // a genesis member's directory may have none
    throw err;
  }
  const v = JSON.parse(text) as Record<string, unknown>;
  const { id, ...pub } = v;
  checkMemberPublic(pub, MEMBER_FILE);
  return { id: String(id), ...(pub as unknown as Omit<Member, 'id'>) };
}
