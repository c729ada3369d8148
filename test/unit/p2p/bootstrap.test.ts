/** Bootstrap addresses must parse and name their peer. */
import { describe, expect, it } from 'vitest';
import { NetworkConfigError, parseBootstrap } from '../../../src/p2p/network.js';

describe('parseBootstrap', () => {
  it('takes multiaddrs ending in /p2p/<peer ID>', () => {
    const id = '12D3KooWKbsbXcnc9BS9Tpa2Wh4Pm4oihm3Jd8yDt8hRVW2rR9SE';
    const [t] = parseBootstrap([`/ip4/127.0.0.1/tcp/7000/p2p/${id}`]);
    expect(t?.peerId).toBe(id);
    expect(t?.addr.toString()).toBe(`/ip4/127.0.0.1/tcp/7000/p2p/${id}`);
  });

  it('refuses an address without a peer ID, and garbage', () => {
    expect(() => parseBootstrap(['/ip4/127.0.0.1/tcp/7000'])).toThrow(NetworkConfigError);
    expect(() => parseBootstrap(['not an address'])).toThrow(/not a multiaddr/);
  });
});
