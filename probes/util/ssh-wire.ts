/** Reading the SSH transport's first messages by hand (RFC 4253 §4.2, §6, §7.1). */
import { createHash } from 'node:crypto';
import type net from 'node:net';

// SSH_MSG_KEXINIT (RFC 4253 §12).
const MSG_KEXINIT = 20;
// RFC 4253 §6.1: implementations must handle packets of at least 35000 bytes; a KEXINIT is far smaller.
const MAX_PACKET = 35000;
// RFC 4253 §4.2: the identification line is at most 255 characters; other lines may come before it.
const MAX_PRELUDE = 8192;

export interface KexInit {
  kex: string[];
  hostKey: string[];
  encryptionClientToServer: string[];
  encryptionServerToClient: string[];
  macClientToServer: string[];
  macServerToClient: string[];
  compressionClientToServer: string[];
  compressionServerToClient: string[];
}

export interface ServerHello {
  banner: string;
  /** Lines the server sent before its identification (RFC 4253 §4.2 allows them). */
  prelude: string[];
  kexinit: KexInit;
}

/** Send our identification, read the server's identification and its KEXINIT. */
export function readServerHello(sock: net.Socket, ourIdent: string, timeoutMs: number): Promise<ServerHello> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let banner: string | undefined;
    const prelude: string[] = [];
    const fail = (msg: string): void => {
      cleanup();
      reject(new Error(msg));
    };
    const timer = setTimeout(() => fail(`no SSH ${banner ? 'KEXINIT' : 'identification'} within ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      sock.removeAllListeners('data');
      sock.destroy();
    };
    sock.once('close', () => fail(`connection closed before the server's ${banner ? 'KEXINIT' : 'identification'}`));
    sock.on('error', () => undefined);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (banner === undefined) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (buf.length > MAX_PRELUDE) return fail('no SSH identification line in the first 8 KiB');
          return;
        }
        const line = buf.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        buf = buf.subarray(nl + 1);
        if (line.startsWith('SSH-')) banner = line;
        else if (prelude.push(line) > 50) return fail('more than 50 lines before the SSH identification');
      }
      if (buf.length < 5) return;
      const len = buf.readUInt32BE(0);
      if (len > MAX_PACKET || len < 5) return fail(`implausible SSH packet length ${len}`);
      if (buf.length < 4 + len) return;
      const padding = buf[4];
      const payload = buf.subarray(5, 4 + len - padding);
      if (payload[0] !== MSG_KEXINIT) return fail(`expected KEXINIT (20), got message ${payload[0]}`);
      try {
        const kexinit = parseKexInit(payload);
        cleanup();
        resolve({ banner, prelude, kexinit });
      } catch (err) {
        fail(`malformed KEXINIT: ${(err as Error).message}`);
      }
    });
    sock.write(`${ourIdent}\r\n`);
  });
}

export function parseKexInit(payload: Buffer): KexInit {
  let o = 1 + 16;
  const lists: string[][] = [];
  for (let i = 0; i < 10; i++) {
    if (o + 4 > payload.length) throw new Error('truncated name-list');
    const n = payload.readUInt32BE(o);
    if (o + 4 + n > payload.length) throw new Error('name-list runs past the packet');
    const s = payload.subarray(o + 4, o + 4 + n).toString('ascii');
    lists.push(s ? s.split(',') : []);
    o += 4 + n;
  }
  return {
    kex: lists[0],
    hostKey: lists[1],
    encryptionClientToServer: lists[2],
    encryptionServerToClient: lists[3],
    macClientToServer: lists[4],
    macServerToClient: lists[5],
    compressionClientToServer: lists[6],
    compressionServerToClient: lists[7],
  };
}

/** The key's type, size and fingerprint (OpenSSH's form: SHA256: and the unpadded base64 of the blob's SHA-256). */
export function hostKeyFacts(blob: Buffer): { type: string; bits?: number; sha256: string } {
  return { ...hostKeyShape(blob), sha256: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` };
}

/** Type and size of a public key in SSH wire format (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709). */
function hostKeyShape(blob: Buffer): { type: string; bits?: number } {
  let o = 0;
  const str = (): Buffer => {
    const n = blob.readUInt32BE(o);
    const v = blob.subarray(o + 4, o + 4 + n);
    o += 4 + n;
    return v;
  };
  const mpintBits = (b: Buffer): number => {
    let i = 0;
    while (i < b.length && b[i] === 0) i++;
    return i === b.length ? 0 : (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]));
  };
  const type = str().toString('ascii');
  if (type === 'ssh-rsa') {
    str();
    return { type, bits: mpintBits(str()) };
  }
  if (type === 'ssh-dss') return { type, bits: mpintBits(str()) };
  if (type.startsWith('ecdsa-sha2-nistp')) return { type, bits: Number(type.slice('ecdsa-sha2-nistp'.length)) };
  if (type === 'ssh-ed25519') return { type, bits: 256 };
  if (type === 'ssh-ed448') return { type, bits: 456 };
  return { type };
}
