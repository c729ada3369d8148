/**
 * The files of a node's data directory: genesis, member key, peer key, API token (plaintext
 * for the operator, SHA-256 for the node), and the LevelDB store under chain/.
 */
import { mkdir, readFile, writeFile, access, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { checkGenesis } from '../chain/genesis.js';
import { fromHex, isHex, toHex } from '../common/bytes.js';
import { generateKeyPair, keyPairFromSecret, type KeyPair } from '../chain/keys.js';
import type { Genesis } from '../chain/types.js';

export const FILES = {
  genesis: 'genesis.json',
  memberKey: 'member.key',
  peerKey: 'peer.key',
  apiToken: 'api-token',
  apiTokenHashes: 'api-tokens.sha256',
  /** Named, scoped API tokens (hashes): `tracechain token ...` writes it, the node reads it. */
  tokens: 'tokens.json',
  /** Last use of each token, written by the node. */
  tokensUsed: 'tokens-used.json',
  /** The audit log of write requests (rotated files). */
  audit: 'audit',
  chain: 'chain',
  /** Pending txs saved at a graceful stop by releases before the tx log: imported once at start, then deleted. */
  mempool: 'mempool.dat',
  /** The tx log: every locally accepted tx, fsynced before its 202, until it is final. */
  txLog: 'txlog',
  /** Private event bodies this node is entitled to (docs/confidentiality.md): a LevelDB of its own. */
  privateBodies: 'private',
} as const;

export class DataDir {
  constructor(readonly path: string) {}

  file(name: string): string {
    return join(this.path, name);
  }

  async ensure(): Promise<void> {
    await mkdir(this.path, { recursive: true, mode: 0o700 });
  }

  async exists(name: string): Promise<boolean> {
    try {
      await access(this.file(name));
      return true;
    } catch {
      return false;
    }
  }

  async readGenesis(): Promise<Genesis | undefined> {
    if (!(await this.exists(FILES.genesis))) return undefined;
    const text = await readFile(this.file(FILES.genesis), 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.file(FILES.genesis)} is not valid JSON: ${(err as Error).message}`);
    }
    return checkGenesis(parsed);
  }

  async writeGenesis(genesis: Genesis): Promise<void> {
    await writeFile(this.file(FILES.genesis), JSON.stringify(genesis, null, 2) + '\n');
  }

  /** The member signing key (32-byte Ed25519 seed, hex). */
  async readMemberKey(): Promise<KeyPair | undefined> {
    if (!(await this.exists(FILES.memberKey))) return undefined;
    const hex = (await readFile(this.file(FILES.memberKey), 'utf8')).trim();
    if (!isHex(hex, 32)) throw new Error(`${this.file(FILES.memberKey)} must hold a 32-byte Ed25519 seed in hex`);
    return keyPairFromSecret(fromHex(hex));
  }

  async createMemberKey(): Promise<KeyPair> {
    const kp = generateKeyPair();
    await writeSecret(this.file(FILES.memberKey), toHex(kp.secretKey) + '\n');
    return kp;
  }

  async readPeerKey(): Promise<PrivateKey | undefined> {
    if (!(await this.exists(FILES.peerKey))) return undefined;
    const hex = (await readFile(this.file(FILES.peerKey), 'utf8')).trim();
    if (!isHex(hex, 32)) throw new Error(`${this.file(FILES.peerKey)} must hold a 32-byte Ed25519 seed in hex`);
    return generateKeyPairFromSeed('Ed25519', fromHex(hex));
  }

  async createPeerKey(): Promise<PrivateKey> {
    const seed = new Uint8Array(randomBytes(32));
    await writeSecret(this.file(FILES.peerKey), toHex(seed) + '\n');
    return generateKeyPairFromSeed('Ed25519', seed);
  }

  /** Create an API token: plaintext for the operator, its SHA-256 for the node. */
  async createApiToken(): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await writeSecret(this.file(FILES.apiToken), token + '\n');
    await writeSecret(this.file(FILES.apiTokenHashes), hashToken(token) + '\n');
    return token;
  }

  async readApiToken(): Promise<string | undefined> {
    if (!(await this.exists(FILES.apiToken))) return undefined;
    return (await readFile(this.file(FILES.apiToken), 'utf8')).trim();
  }

  /** SHA-256 hashes of the accepted API tokens, one per line (revoke by deleting a line). */
  async readTokenHashes(): Promise<string[]> {
    if (!(await this.exists(FILES.apiTokenHashes))) return [];
    return (await readFile(this.file(FILES.apiTokenHashes), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => isHex(l, 32));
  }
}

async function writeSecret(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time check of a presented token against stored hashes. */
export function tokenMatches(token: string, hashes: readonly string[]): boolean {
  const h = Buffer.from(hashToken(token), 'hex');
  let ok = false;
  for (const stored of hashes) {
    const s = Buffer.from(stored, 'hex');
    if (s.length === h.length && timingSafeEqual(s, h)) ok = true;
  }
  return ok;
}

export async function peerIdOf(key: PrivateKey): Promise<string> {
  return peerIdFromPrivateKey(key).toString();
}
