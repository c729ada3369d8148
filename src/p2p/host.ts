/**
 * The libp2p host: TCP, noise, yamux, identify and gossipsub, the member gater, and the
 * optional pre-shared swarm key. Gossip limits (message size, RPC decode limits, allowed
 * topics) and peer-score parameters are set here, in one place.
 */
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify, type Identify } from '@libp2p/identify';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { createTopicScoreParams } from '@libp2p/gossipsub/score';
import { preSharedKey } from '@libp2p/pnet';
import type { ConnectionGater, PrivateKey } from '@libp2p/interface';
import { contentMessageId, GOSSIP_RPC_OVERHEAD } from './gossip.js';

export type Host = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

export interface HostOptions {
  privateKey: PrivateKey;
  listen: string[];
  gater: ConnectionGater;
  /** Swarm key file bytes (see swarm-key.ts); none: no pre-shared key. */
  swarmKey?: Uint8Array;
  /** The only topics gossip will carry. */
  topics: string[];
  /** Largest gossip payload (the chain's block size limit). */
  maxMessageBytes: number;
  /** Application part of gossipsub's peer score (our own offence score). */
  appScore?: (peerId: string) => number;
  maxConnections: number;
}

/** Per-topic score: only invalid deliveries count (P4); a quiet consortium must not look idle. */
function topicScore(): ReturnType<typeof createTopicScoreParams> {
  return createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0,
    timeInMeshQuantum: 1_000,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -20,
    invalidMessageDeliveriesDecay: 0.9,
  });
}

export async function createHost(opts: HostOptions): Promise<Host> {
  const scoredTopics: Record<string, ReturnType<typeof createTopicScoreParams>> = {};
  for (const t of opts.topics) scoredTopics[t] = topicScore();
  return createLibp2p({
    start: false,
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: opts.gater,
    ...(opts.swarmKey ? { connectionProtector: preSharedKey({ psk: opts.swarmKey }) } : {}),
    connectionManager: { maxConnections: opts.maxConnections },
    // Off: our sync status requests measure each peer's latency, and a ping stream per connection
    // every 10 s (which could not drop a peer anyway: a busy node must not lose peers to a ping)
    // is load for nothing, N² streams across a consortium (docs/p2p.md).
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        emitSelf: false,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        doPX: false,
        msgIdFn: (msg) => contentMessageId(msg.data),
        allowedTopics: opts.topics,
        maxInboundDataLength: opts.maxMessageBytes + GOSSIP_RPC_OVERHEAD,
        maxOutboundBufferSize: 4 * (opts.maxMessageBytes + GOSSIP_RPC_OVERHEAD),
        decodeRpcLimits: {
          maxSubscriptions: 16,
          maxMessages: 256,
          maxIhaveMessageIDs: 2_000,
          maxIwantMessageIDs: 2_000,
          maxIdontwantMessageIDs: 512,
          maxControlMessages: 256,
          maxPeerInfos: 0,
        },
        scoreParams: {
          topics: scoredTopics,
          appSpecificScore: opts.appScore ?? (() => 0),
          appSpecificWeight: 1,
          // Consortium nodes may share an address (a devnet all on loopback).
          IPColocationFactorWeight: 0,
        },
        scoreThresholds: { gossipThreshold: -40, publishThreshold: -80, graylistThreshold: -100 },
      }),
    },
  });
}
