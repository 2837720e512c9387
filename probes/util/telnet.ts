/**
 * A minimal telnet client over a connector socket: answers option negotiation
 * (RFC 854/855), strips it from the text, caps what it keeps.
 */
import type net from 'node:net';

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
  text = '';
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(private readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => this.onData(b));
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
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
    this.text = (this.text + Buffer.from(out).toString('latin1')).slice(-MAX_TEXT);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(line: string): void {
    if (!this.sock.destroyed) this.sock.write(`${line}\r\n`);
  }

  /** Wait until `test` matches the text since `from`, the connection closes, or `ms` pass. */
  async waitFor(test: RegExp, ms: number, from = 0): Promise<RegExpMatchArray | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.text.slice(from).match(test);
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
