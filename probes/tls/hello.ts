/**
 * Hand-built TLS ClientHellos (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2) and the
 * ServerHello they draw out. Building the hello ourselves lets us offer
 * SSLv3 and TLS 1.0 (which Node's OpenSSL refuses to send) and any cipher
 * suite, and stop after the ServerHello: one round trip per question.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export const TLS_VERSIONS = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

// ProtocolVersion values (RFC 6101 §5.2.1 for SSLv3, RFC 8446 §4.2.1 for 1.3).
export const WIRE_VERSION: Record<TlsVersion, number> = { SSLv3: 0x0300, TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 };
const VERSION_NAME = new Map(Object.entries(WIRE_VERSION).map(([k, v]) => [v, k as TlsVersion]));

// Record content types (RFC 5246 §6.2.1) and handshake types (§7.4).
const HANDSHAKE = 22;
const ALERT = 21;
const CLIENT_HELLO = 1;
const SERVER_HELLO = 2;
// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3).
const RENEGOTIATION_SCSV = 0x00ff;
// ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

// Extension types (RFC 6066, 8422, 5246, 8446).
const EXT = { serverName: 0, supportedGroups: 10, ecPointFormats: 11, signatureAlgorithms: 13, supportedVersions: 43, keyShare: 51 } as const;
// x25519, secp256r1, secp384r1, secp521r1, secp224r1, ffdhe2048, ffdhe3072 (RFC 8422 §5.1.1, RFC 7919).
const GROUPS = [29, 23, 24, 25, 21, 256, 257];
// SignatureScheme values (RFC 8446 §4.2.3), SHA-1 ones included: we want to see what the server accepts.
const SIGNATURE_SCHEMES = [0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203, 0x0202, 0x0402];

const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const vec16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
const vec8 = (b: Buffer): Buffer => Buffer.concat([u8(b.length), b]);
const ext = (type: number, body: Buffer): Buffer => Buffer.concat([u16(type), vec16(body)]);

export function clientHello(version: TlsVersion, suites: readonly number[], serverName?: string): Buffer {
  const tls13 = version === 'TLSv1.3';
  const legacyVersion = tls13 ? WIRE_VERSION['TLSv1.2'] : WIRE_VERSION[version];
  const cipherBytes = Buffer.concat([...suites, ...(tls13 ? [] : [RENEGOTIATION_SCSV])].map(u16));
  const extensions: Buffer[] = [];
  if (version !== 'SSLv3') {
    if (serverName && net.isIP(serverName) === 0) {
      const name = Buffer.from(serverName, 'ascii');
      extensions.push(ext(EXT.serverName, vec16(Buffer.concat([u8(0), vec16(name)]))));
    }
    extensions.push(ext(EXT.supportedGroups, vec16(Buffer.concat(GROUPS.map(u16)))));
    extensions.push(ext(EXT.ecPointFormats, vec8(Buffer.from([0]))));
    if (version === 'TLSv1.2' || tls13) extensions.push(ext(EXT.signatureAlgorithms, vec16(Buffer.concat(SIGNATURE_SCHEMES.map(u16)))));
    if (tls13) {
      extensions.push(ext(EXT.supportedVersions, vec8(u16(WIRE_VERSION['TLSv1.3']))));
      // An x25519 share of random bytes: enough to draw a ServerHello, and we never finish the handshake.
      extensions.push(ext(EXT.keyShare, vec16(Buffer.concat([u16(29), vec16(randomBytes(32))]))));
    }
  }
  const body = Buffer.concat([
    u16(legacyVersion),
    randomBytes(32),
    vec8(tls13 ? randomBytes(32) : Buffer.alloc(0)),
    vec16(cipherBytes),
    vec8(Buffer.from([0])),
    ...(extensions.length ? [vec16(Buffer.concat(extensions))] : []),
  ]);
  const handshake = Buffer.concat([u8(CLIENT_HELLO), u24(body.length), body]);
  // Record-layer version: 0x0300 for SSLv3, 0x0301 otherwise (what real clients send for compatibility).
  return Buffer.concat([u8(HANDSHAKE), u16(version === 'SSLv3' ? 0x0300 : 0x0301), vec16(handshake)]);
}

export type HelloAnswer =
  | { kind: 'server-hello'; version: TlsVersion | string; suite: number; retry: boolean }
  | { kind: 'alert'; level: number; description: number }
  | { kind: 'closed' }
  | { kind: 'not-tls'; firstBytes: string };

/** Parse what a server sent back to a ClientHello; null when more bytes are needed. */
export function parseAnswer(buf: Buffer): HelloAnswer | null {
  if (buf.length < 5) return null;
  const type = buf[0];
  const len = buf.readUInt16BE(3);
  if (type !== HANDSHAKE && type !== ALERT) return { kind: 'not-tls', firstBytes: buf.subarray(0, 16).toString('hex') };
  if (buf.length < 5 + len) return null;
  const frag = buf.subarray(5, 5 + len);
  if (type === ALERT) return { kind: 'alert', level: frag[0], description: frag[1] };
  if (frag[0] !== SERVER_HELLO || frag.length < 4) return { kind: 'not-tls', firstBytes: frag.subarray(0, 16).toString('hex') };
  const hello = frag.subarray(4, 4 + frag.readUIntBE(1, 3));
  let o = 0;
  const legacy = hello.readUInt16BE(o);
  o += 2;
  const random = hello.subarray(o, o + 32);
  o += 32;
  o += 1 + hello[o];
  const suite = hello.readUInt16BE(o);
  o += 2 + 1;
  let wire = legacy;
  if (o + 2 <= hello.length) {
    const end = o + 2 + hello.readUInt16BE(o);
    o += 2;
    while (o + 4 <= end) {
      const t = hello.readUInt16BE(o);
      const l = hello.readUInt16BE(o + 2);
      if (t === EXT.supportedVersions && l === 2) wire = hello.readUInt16BE(o + 4);
      o += 4 + l;
    }
  }
  return { kind: 'server-hello', version: VERSION_NAME.get(wire) ?? `0x${wire.toString(16)}`, suite, retry: random.equals(HRR_RANDOM) };
}

/** Send a ClientHello on a connected socket and wait for the answer (bounded time and bytes). */
export function askHello(sock: net.Socket, hello: Buffer, timeoutMs: number): Promise<HelloAnswer | { kind: 'timeout' }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (a: HelloAnswer | { kind: 'timeout' }): void => {
      clearTimeout(timer);
      sock.removeAllListeners('data');
      sock.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
    sock.on('data', (c: Buffer) => {
      // A ServerHello fits easily in 16 KiB; a server sending more before it is not speaking TLS to us.
      buf = Buffer.concat([buf, c]).subarray(0, 16384 + 5);
      const a = parseAnswer(buf);
      if (a) done(a);
      else if (buf.length >= 16384 + 5) done({ kind: 'not-tls', firstBytes: buf.subarray(0, 16).toString('hex') });
    });
    sock.once('close', () => done({ kind: 'closed' }));
    sock.write(hello);
  });
}
