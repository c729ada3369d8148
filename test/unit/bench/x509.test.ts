/** bench/x509.ts: the certificates it makes are accepted by node's TLS stack, server and client (mTLS). */
import { describe, expect, it } from 'vitest';
import { createServer, get, type RequestOptions, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { loopbackCert, makeCert } from '../../../bench/x509.js';

function serveOnce(opts: ServerOptions): Promise<{ port: number; close: () => void }> {
  const srv = createServer(opts, (req, res) => {
    const sock = req.socket as TLSSocket;
    res.end(JSON.stringify({ authorized: sock.authorized, cn: sock.getPeerCertificate()?.subject?.CN ?? null }));
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r({ port: (srv.address() as AddressInfo).port, close: () => srv.close() })));
}

function fetchJson(opts: RequestOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(opts, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve(JSON.parse(b)));
    }).on('error', reject);
  });
}

describe('x509 test certificates', () => {
  it('a loopback server certificate verifies against itself, and a CA-signed client certificate is authorized', async () => {
    const server = loopbackCert();
    const ca = makeCert({ cn: 'clients', kind: 'ca' });
    const client = makeCert({ cn: 'pharmacy', kind: 'client', issuer: ca });
    const s = await serveOnce({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false });
    try {
      expect(await fetchJson({ host: '127.0.0.1', port: s.port, ca: server.certPem, cert: client.certPem, key: client.keyPem, path: '/' })).toEqual({ authorized: true, cn: 'pharmacy' });
      // A client certificate from another CA is seen but not authorized.
      const stranger = makeCert({ cn: 'stranger', kind: 'client' });
      expect(await fetchJson({ host: '127.0.0.1', port: s.port, ca: server.certPem, cert: stranger.certPem, key: stranger.keyPem, path: '/' })).toMatchObject({ authorized: false });
      // Without the server certificate as CA, the client refuses the server.
      await expect(fetchJson({ host: '127.0.0.1', port: s.port, path: '/' })).rejects.toThrow(/self-signed|certificate/i);
    } finally {
      s.close();
    }
  });
});
