/** Passive banner reading and a first guess at what a TCP service is. */
import type net from 'node:net';

/** Read what a service says on its own within `ms`, capped at `maxBytes`. */
export function readBanner(sock: net.Socket, ms: number, maxBytes = 1024): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', done);
      resolve(Buffer.concat(chunks).subarray(0, maxBytes));
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      size += c.length;
      if (size >= maxBytes) done();
    };
    const timer = setTimeout(done, ms);
    sock.on('data', onData);
    sock.once('close', done);
  });
}

// RFC 854: telnet option negotiation starts with IAC (255) followed by DO/DONT/WILL/WONT (253/254/251/252).
const IAC = 0xff;

export function identifyBanner(b: Buffer): { service: string; how: string } | undefined {
  if (b.length === 0) return undefined;
  const text = b.toString('latin1');
  if (text.startsWith('SSH-')) return { service: 'ssh', how: `banner ${JSON.stringify(text.split(/\r?\n/)[0].slice(0, 80))}` };
  if (b[0] === IAC && b.length >= 2 && b[1] >= 251 && b[1] <= 254) return { service: 'telnet', how: 'telnet option negotiation (IAC)' };
  if (/^220[ -]/.test(text)) return { service: 'ftp', how: 'FTP 220 greeting' };
  if (/^HTTP\/1\.[01] \d{3}/.test(text)) return { service: 'http', how: 'unsolicited HTTP response' };
  if (/(login|username)\s*:\s*$/i.test(text.trimEnd() + ' ') || /login:/i.test(text)) return { service: 'telnet', how: 'login prompt' };
  if (/(^|\n)[^\n]{0,40}[#$] ?$/.test(text) || /built-in shell/i.test(text)) return { service: 'shell', how: 'shell prompt with no login' };
  return { service: 'unknown', how: 'unrecognised banner' };
}

/** A short printable rendering of a banner for reports. */
export function printable(b: Buffer, max = 160): string {
  return b
    .toString('latin1')
    .replace(/[^\x20-\x7e\n]/g, '.')
    .replace(/\n/g, '\\n')
    .slice(0, max);
}
