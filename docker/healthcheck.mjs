// Docker HEALTHCHECK: GET /health on the port of TRACECHAIN_API (default 8080); exit 0 when 200.
// With TRACECHAIN_TLS_CERT set the API speaks HTTPS: the probe asks over TLS on loopback without
// checking the certificate (its name is the node's public one, not 127.0.0.1; the probe sends no
// secret and only reads the status).
import { get } from 'node:https';

const api = process.env.TRACECHAIN_API ?? '0.0.0.0:8080';
const port = /:([0-9]+)$/.exec(api)?.[1] ?? '8080';
const tls = (process.env.TRACECHAIN_TLS_CERT ?? '') !== '';
try {
  const status = tls
    ? await new Promise((resolve, reject) => {
        const req = get({ host: '127.0.0.1', port: Number(port), path: '/health', rejectUnauthorized: false, timeout: 4000 }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', reject);
      })
    : (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) })).status;
  process.exit(status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
