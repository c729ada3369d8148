/** Swarm key files: generated in libp2p's PSK v1 format, checked strictly. */
import { describe, expect, it } from 'vitest';
import { generateSwarmKey, parseSwarmKey, SwarmKeyError } from '../../../src/p2p/swarm-key.js';

describe('swarm key', () => {
  it('generates distinct keys that parse', () => {
    const a = generateSwarmKey();
    expect(a).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    expect(generateSwarmKey()).not.toBe(a);
    expect(new TextDecoder().decode(parseSwarmKey(a))).toBe(a.trimEnd());
    expect(parseSwarmKey(a.replace(/\n/g, '\r\n'))).toEqual(parseSwarmKey(a));
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'hello', '/key/swarm/psk/1.0.0/\n/base16/\nabc\n', '/key/swarm/psk/1.0.0/\n/base64/\n' + 'a'.repeat(64), '/key/swarm/psk/1.0.0/\n/base16/\n' + 'a'.repeat(64) + '\nmore']) {
      expect(() => parseSwarmKey(bad)).toThrow(SwarmKeyError);
    }
  });
});
