/**
 * HTTPS for the API: the server's TLS options from the configured PEM files, and reloading them
 * into the running server (`setSecureContext`): connections already open keep their session,
 * new ones get the new certificate; nothing is dropped, no request is refused. A reload that
 * fails (a half-written file, a key that does not match) keeps the previous certificate and says why.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type Server as TlsServer } from 'node:tls';

export interface TlsFiles {
  cert: string;
  key: string;
  /** Client certificates signed by this CA are verified (mTLS); '' for none. */
  clientCa: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export function tlsEnabled(files: TlsFiles | undefined): files is TlsFiles {
  return files !== undefined && files.cert !== '' && files.key !== '';
}

/** Read and check the PEM files (throws naming the file and the problem). */
export function loadTls(files: TlsFiles): TlsMaterial {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const m: TlsMaterial = { cert: read('certificate', files.cert), key: read('key', files.key), ...(files.clientCa !== '' ? { ca: read('client CA', files.clientCa) } : {}) };
  try {
    createSecureContext(m);
  } catch (err) {
    throw new Error(`the TLS certificate ${files.cert} and key ${files.key} are not usable together: ${(err as Error).message}`);
  }
  return m;
}

/** Options for fastify's `https`: client certificates are asked for (not required) when a client CA is set. */
export function httpsOptions(m: TlsMaterial): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean; minVersion: 'TLSv1.2' } {
  return { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}), requestCert: m.ca !== undefined, rejectUnauthorized: false, minVersion: 'TLSv1.2' };
}

/** Put freshly read files into the running server. */
export function reloadTls(server: TlsServer, files: TlsFiles): void {
  const m = loadTls(files);
  server.setSecureContext({ cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}), minVersion: 'TLSv1.2' });
}
