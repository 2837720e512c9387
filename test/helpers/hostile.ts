/**
 * Hostile devices, in process, on loopback: each kind listens on several
 * ports at once so one assessment sends every probe at it (declared as SSH,
 * telnet, HTTP, HTTPS and MQTT). Nothing here answers the way a device
 * should; a harness that says `pass` against any of them is wrong.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { listenOn, type Running } from './servers';

export const HOSTILE_KINDS = [
  'tarpit',
  'random-bytes',
  'reset-mid-tls',
  'reset-mid-ssh-kex',
  'drip',
  'banner-50mb',
  'http-body-50mb',
  'tls-bad-certificate',
  'mqtt-malformed',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

const FIFTY_MB = 50 * 1024 * 1024;
const CHUNK = randomBytes(64 * 1024);

/** Write `total` bytes as fast as the peer reads them, stopping when it goes away. */
function pour(sock: net.Socket, total: number, head: Buffer = Buffer.alloc(0)): void {
  let sent = 0;
  if (head.length) sock.write(head);
  const more = (): void => {
    while (sent < total && !sock.destroyed) {
      const n = Math.min(CHUNK.length, total - sent);
      sent += n;
      if (!sock.write(CHUNK.subarray(0, n))) return void sock.once('drain', more);
    }
    if (!sock.destroyed) sock.end();
  };
  more();
}

/** TLS 1.2 handshake records a server would send, with a certificate of random bytes. */
function badCertificateFlight(): Buffer {
  const hs = (type: number, body: Buffer): Buffer =>
    Buffer.concat([Buffer.from([type, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  const serverHello = hs(
    2,
    Buffer.concat([Buffer.from([0x03, 0x03]), randomBytes(32), Buffer.from([0x00]), Buffer.from([0xc0, 0x2f]), Buffer.from([0x00]), Buffer.from([0x00, 0x00])]),
  );
  const cert = randomBytes(300);
  const certList = Buffer.concat([Buffer.from([0, (cert.length >> 8) & 0xff, cert.length & 0xff]), cert]);
  const certificate = hs(11, Buffer.concat([Buffer.from([0, (certList.length >> 8) & 0xff, certList.length & 0xff]), certList]));
  const done = hs(14, Buffer.alloc(0));
  const payload = Buffer.concat([serverHello, certificate, done]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x03, (payload.length >> 8) & 0xff, payload.length & 0xff]), payload]);
}

function behaviour(kind: HostileKind): (sock: net.Socket) => void {
  switch (kind) {
    case 'tarpit':
      return () => undefined;
    case 'random-bytes':
      return (sock) => {
        sock.write(randomBytes(8192));
        sock.on('data', () => sock.write(randomBytes(4096)));
        setTimeout(() => sock.destroy(), 3000).unref();
      };
    case 'reset-mid-tls':
      // Any TLS ClientHello (or anything else) is answered with half a ServerHello, then a reset.
      return (sock) =>
        sock.once('data', () => {
          sock.write(badCertificateFlight().subarray(0, 20));
          setTimeout(() => sock.resetAndDestroy(), 20);
        });
    case 'reset-mid-ssh-kex':
      return (sock) => {
        sock.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
        // The start of a KEXINIT packet (length 1000, type 20), then a reset.
        sock.write(Buffer.concat([Buffer.from([0, 0, 0x03, 0xe8, 0x06, 20]), randomBytes(40)]));
        setTimeout(() => sock.resetAndDestroy(), 50);
      };
    case 'drip': {
      return (sock) => {
        const t = setInterval(() => (sock.destroyed ? clearInterval(t) : sock.write('x')), 1000);
        sock.on('close', () => clearInterval(t));
      };
    }
    case 'banner-50mb':
      return (sock) => pour(sock, FIFTY_MB);
    case 'http-body-50mb':
      return (sock) =>
        sock.once('data', () => pour(sock, FIFTY_MB, Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${FIFTY_MB}\r\n\r\n`)));
    case 'tls-bad-certificate':
      return (sock) =>
        sock.once('data', (d: Buffer) => {
          if (d[0] === 0x16) sock.write(badCertificateFlight());
          else sock.end();
        });
    case 'mqtt-malformed':
      return (sock) =>
        sock.on('data', (d: Buffer) => {
          // A CONNACK whose remaining length never ends (5 continuation bytes), then a PUBLISH longer than what follows.
          if ((d[0] & 0xf0) === 0x10) sock.write(Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x30, 0x7f, 0x00, 0x03, 0x61]));
          else sock.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
        });
  }
}

export interface HostileDevice {
  kind: HostileKind;
  ports: number[];
  close(): Promise<void>;
}

export async function hostileDevice(kind: HostileKind, count = 5): Promise<HostileDevice> {
  const running: Running[] = [];
  for (let i = 0; i < count; i++) running.push(await listenOn(net.createServer({ pauseOnConnect: false }, behaviour(kind))));
  return { kind, ports: running.map((r) => r.port), close: async () => void (await Promise.all(running.map((r) => r.close()))) };
}
