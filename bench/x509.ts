/**
 * Minimal X.509 certificates made with node:crypto alone (ECDSA P-256, SHA-256), for the HTTPS
 * bench and tests: a self-signed server certificate for 127.0.0.1/localhost, a CA, and client
 * certificates it signs (mTLS). DER is assembled by hand: only the fields TLS stacks need
 * (version 3, serial, validity, names, SPKI, SAN, basic constraints, key and extended key usage).
 */
import { createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
function oid(text: string): Buffer {
  const parts = text.split('.').map(Number);
  const out = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const groups: number[] = [];
    let v = p;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i] = (groups[i] as number) | 0x80;
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}
function utcTime(d: Date): Buffer {
  const p = (n: number): string => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'latin1'));
}
const name = (cn: string): Buffer => seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export interface MadeCert {
  certPem: string;
  keyPem: string;
  key: KeyObject;
  cn: string;
  /** SHA-256 of the DER, hex (what the node binds a token to). */
  sha256: string;
}

export interface CertOptions {
  cn: string;
  /** Server names (DNS) and addresses (IPv4) for the SAN. */
  dns?: string[];
  ips?: string[];
  kind: 'server' | 'client' | 'ca';
  /** Signing CA (absent: self-signed). */
  issuer?: MadeCert;
  days?: number;
  /** Validity start (default: an hour ago). */
  notBefore?: Date;
}

export function makeCert(o: CertOptions): MadeCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  const from = o.notBefore ?? new Date(Date.now() - 3_600_000);
  const to = new Date(from.getTime() + (o.days ?? 30) * 86_400_000);
  const exts: Buffer[] = [];
  if (o.kind === 'ca') {
    exts.push(seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(tlv(0x01, Buffer.from([0xff]))))));
    exts.push(seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([0x01, 0x06])))));
  } else {
    exts.push(seq(oid('2.5.29.19'), tlv(0x04, seq())));
    exts.push(seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([0x07, 0x80])))));
    exts.push(seq(oid('2.5.29.37'), tlv(0x04, seq(oid(o.kind === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2')))));
    const san = [...(o.dns ?? []).map((d) => tlv(0x82, Buffer.from(d, 'latin1'))), ...(o.ips ?? []).map((ip) => tlv(0x87, Buffer.from(ip.split('.').map(Number))))];
    if (san.length > 0) exts.push(seq(oid('2.5.29.17'), tlv(0x04, seq(...san))));
  }
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ECDSA_SHA256,
    name(o.issuer?.cn ?? o.cn),
    seq(utcTime(from), utcTime(to)),
    name(o.cn),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, o.issuer?.key ?? privateKey);
  const der = seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), signature));
  const cert = new X509Certificate(der);
  if (o.issuer === undefined ? !cert.verify(createPublicKey(privateKey)) : !cert.verify(o.issuer.key.asymmetricKeyType ? createPublicKey(o.issuer.key) : o.issuer.key)) {
    throw new Error('made a certificate that does not verify');
  }
  return { certPem: cert.toString(), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, key: privateKey, cn: o.cn, sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase() };
}

/**
 * A self-signed server certificate for the loopback addresses. Each gets its own subject name: a
 * client trusting two of them (across a renewal) finds each one's issuer by name.
 */
export function loopbackCert(days = 30): MadeCert {
  return makeCert({ cn: `tracechain test ${randomBytes(4).toString('hex')}`, dns: ['localhost'], ips: ['127.0.0.1'], kind: 'server', days });
}
