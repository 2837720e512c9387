/**
 * A minimal telnet client over a connector socket: answers option negotiation
 * (RFC 854/855), strips it from the text, caps what it keeps.
 */
import type net from 'node:net';
import { WaitableText } from './waitable-text';

// RFC 854 command bytes.
const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
// Options we accept the server doing: ECHO (RFC 857) and SUPPRESS-GO-AHEAD (RFC 858).
const ACCEPTED_SERVER_OPTIONS = new Set([1, 3]);
const MAX_TEXT = 64 * 1024;

export class TelnetSession {
  private readonly buffer = new WaitableText(MAX_TEXT);

  constructor(private readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => this.onData(b));
    sock.on('close', () => this.buffer.close());
    sock.on('error', () => undefined);
  }

  get text(): string {
    return this.buffer.text;
  }

  get closed(): boolean {
    return this.buffer.closed;
  }

  private onData(b: Buffer): void {
    const out: number[] = [];
    const reply: number[] = [];
    for (let i = 0; i < b.length; i++) {
      if (b[i] !== IAC) {
        out.push(b[i]);
        continue;
      }
      const cmd = b[i + 1];
      if (cmd === IAC) {
        out.push(IAC);
        i += 1;
      } else if (cmd === DO || cmd === DONT) {
        reply.push(IAC, WONT, b[i + 2]);
        i += 2;
      } else if (cmd === WILL || cmd === WONT) {
        if (cmd === WILL) reply.push(IAC, ACCEPTED_SERVER_OPTIONS.has(b[i + 2]) ? DO : DONT, b[i + 2]);
        i += 2;
      } else if (cmd === SB) {
        const end = b.indexOf(SE, i + 2);
        i = end === -1 ? b.length : end;
      } else i += 1;
    }
    if (reply.length && !this.sock.destroyed) this.sock.write(Buffer.from(reply));
    this.buffer.append(Buffer.from(out).toString('latin1'));
  }

  send(line: string): void {
    if (!this.sock.destroyed) this.sock.write(`${line}\r\n`);
  }

  /** Wait until `test` matches the text since `from`, the connection closes, or `ms` pass. */
  waitFor(test: RegExp, ms: number, from = 0): Promise<RegExpMatchArray | null> {
    return this.buffer.until(() => this.text.slice(from).match(test), ms);
  }
}
