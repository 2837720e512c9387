/** Just enough FTP control-connection client for logins (RFC 959 §4.2 reply codes). */
import type net from 'node:net';
import { WaitableText } from './waitable-text';

const MAX_REPLY = 8192;

export class FtpControl {
  private readonly buffer = new WaitableText(MAX_REPLY);

  constructor(private readonly sock: net.Socket) {
    sock.on('data', (c: Buffer) => this.buffer.append(c.toString('latin1')));
    sock.on('close', () => this.buffer.close());
    sock.on('error', () => undefined);
  }

  /** The next complete reply's code ("230"), or null on close/timeout. Multi-line replies end with "NNN " (§4.2). */
  reply(ms: number): Promise<number | null> {
    return this.buffer.until(() => {
      const m = this.buffer.text.match(/^(\d{3}) [^\n]*\n/m);
      if (!m || m.index === undefined) return null;
      this.buffer.text = this.buffer.text.slice(m.index + m[0].length);
      return Number(m[1]);
    }, ms);
  }

  send(line: string): void {
    if (!this.sock.destroyed) this.sock.write(`${line}\r\n`);
  }
}

export type FtpLogin = 'accepted' | 'rejected' | 'no-greeting' | 'odd';

/** USER then PASS: 230 logged in, 530 refused (RFC 959 §5.4). */
export async function ftpLogin(sock: net.Socket, username: string, password: string, ms = 6000): Promise<{ result: FtpLogin; codes: number[] }> {
  const c = new FtpControl(sock);
  const codes: number[] = [];
  const greeting = await c.reply(ms);
  if (greeting === null || greeting !== 220) return { result: 'no-greeting', codes: greeting === null ? [] : [greeting] };
  codes.push(greeting);
  c.send(`USER ${username}`);
  const user = await c.reply(ms);
  if (user !== null) codes.push(user);
  if (user === 230) return { result: 'accepted', codes };
  if (user === 530) return { result: 'rejected', codes };
  if (user !== 331 && user !== 332) return { result: 'odd', codes };
  c.send(`PASS ${password}`);
  const pass = await c.reply(ms);
  if (pass !== null) codes.push(pass);
  if (pass === 230 || pass === 202) return { result: 'accepted', codes };
  if (pass === 530 || pass === 500 || pass === 501) return { result: 'rejected', codes };
  return { result: 'odd', codes };
}
