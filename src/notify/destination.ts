/**
 * Which webhook destinations the node accepts: https URLs; plain http only to a loopback address
 * (local integrations, tests) or anywhere when the config allows it (notify.allowHttp). No
 * credentials in the URL (the signature authenticates the node; the receiver's own credentials
 * belong in its secret), no fragments.
 */
import { isIP } from 'node:net';
import { HttpProblem } from '../api/problem.js';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** The destination as a URL, or HttpProblem BAD_DESTINATION saying why not. */
export function checkDestination(dest: string, opts: { allowHttp: boolean }): URL {
  let url: URL;
  try {
    url = new URL(dest);
  } catch {
    throw new HttpProblem('BAD_DESTINATION', `dest ${JSON.stringify(dest.slice(0, 200))} is not an absolute URL`);
  }
  if (url.username !== '' || url.password !== '') throw new HttpProblem('BAD_DESTINATION', 'dest must not carry credentials (user:password@); the node signs each delivery with your signatureToken');
  if (url.hash !== '') throw new HttpProblem('BAD_DESTINATION', 'dest must not carry a #fragment');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname) || opts.allowHttp) return url;
    throw new HttpProblem('BAD_DESTINATION', `dest ${url.origin} is plain http to a non-loopback host: use https (or set notify.allowHttp in the node's config)`);
  }
  throw new HttpProblem('BAD_DESTINATION', `dest scheme ${url.protocol} is not https`);
}

/** The destination as logged: scheme, host and path, never a query string (it may hold a key). */
export function loggableDestination(dest: string): string {
  try {
    const u = new URL(dest);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
