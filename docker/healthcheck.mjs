// Docker HEALTHCHECK: GET /health on the port of TRACECHAIN_API (default 8080); exit 0 when 200.
const api = process.env.TRACECHAIN_API ?? '0.0.0.0:8080';
const port = /:([0-9]+)$/.exec(api)?.[1] ?? '8080';
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
