/**
 * The optional pre-shared swarm key (`@libp2p/pnet`, libp2p's "PSK v1" file format): a second
 * fence around the consortium, in front of the member gater. A node holding a swarm key speaks
 * only to nodes holding the same one.
 */
import { randomBytes } from 'node:crypto';
import { utf8 } from '../common/bytes.js';

const HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n';

export class SwarmKeyError extends Error {
  override readonly name = 'SwarmKeyError';
}

/** A new swarm key file's content. */
export function generateSwarmKey(): string {
  return HEADER + randomBytes(32).toString('hex') + '\n';
}

/** Check a swarm key file and return the bytes @libp2p/pnet expects. Throws SwarmKeyError. */
export function parseSwarmKey(text: string): Uint8Array {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[0] !== '/key/swarm/psk/1.0.0/' || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '')) {
    throw new SwarmKeyError('a swarm key file holds "/key/swarm/psk/1.0.0/", "/base16/" and 64 hex digits, one per line');
  }
  if (lines.slice(3).some((l) => l.trim() !== '')) throw new SwarmKeyError('unexpected content after the key');
  return utf8.encode(`${HEADER}${(lines[2] as string).toLowerCase()}`);
}
