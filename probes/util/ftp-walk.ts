/**
 * A bounded walk of an FTP tree open to anyone, with basic-ftp doing the
 * protocol (replies, listings in Unix, DOS and MLSD form, transfers). Every
 * socket goes through the connector: the control connection is opened there
 * and handed to the library, and each passive data connection goes to the
 * target itself on the port the server named (never to an address it names),
 * so the scope guard and the connection limit hold. Depth, entries, files,
 * bytes and time are all capped; what a cap cut short is said.
 */
import { Writable } from 'node:stream';
import type { FTPContext, FTPResponse } from 'basic-ftp';
import type { ProbeContext } from '../../harness/types';

export const FTP_WALK_LIMITS = { depth: 3, entries: 200, files: 30, fileBytes: 256 * 1024, totalBytes: 1024 * 1024, seconds: 20 };

export interface FtpFile {
  path: string;
  /** The file's first bytes, up to the per-file cap. */
  content: Buffer;
  truncated: boolean;
}

export interface FtpWalk {
  /** Logged in as anonymous (230). */
  loggedIn: boolean;
  directories: number;
  entries: string[];
  files: FtpFile[];
  /** Why the walk stopped before it had seen everything: a cap, a timeout, a refused listing. */
  incomplete: string[];
  error?: string;
}

/** Keeps the first `cap` bytes written to it and drops the rest (the transfer still completes). */
class Capped extends Writable {
  readonly chunks: Buffer[] = [];
  size = 0;
  seen = 0;
  constructor(private readonly cap: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, next: (err?: Error | null) => void): void {
    this.seen += chunk.length;
    if (this.size < this.cap) {
      const part = chunk.subarray(0, this.cap - this.size);
      this.chunks.push(part);
      this.size += part.length;
    }
    next();
  }
}

/** Passive mode on the target only: EPSV, else PASV with the server's address ignored (RFC 2428 §3, RFC 959 §4.1.1). */
function passiveToTarget(ctx: ProbeContext) {
  return async (ftp: FTPContext): Promise<FTPResponse> => {
    let res: FTPResponse;
    let dataPort: number;
    try {
      res = await ftp.request('EPSV');
      const m = res.message.match(/\(([|!])\1\1(\d{1,5})\1\)/);
      if (!m) throw new Error(`unreadable EPSV answer: ${res.message.slice(0, 60)}`);
      dataPort = Number(m[2]);
    } catch {
      res = await ftp.request('PASV');
      const m = res.message.match(/(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/);
      if (!m) throw new Error(`unreadable PASV answer: ${res.message.slice(0, 60)}`);
      dataPort = Number(m[5]) * 256 + Number(m[6]);
    }
    if (!(dataPort > 0 && dataPort < 65536)) throw new Error(`the server named data port ${dataPort}`);
    // The control connection's family: a server reached on IPv6 gets its data connection there too.
    const family = ctx.scope.host6 !== undefined && ftp.socket.remoteAddress === ctx.scope.host6 ? 6 : 4;
    ftp.dataSocket = await ctx.connector.tcp(dataPort, { signal: ctx.signal, family });
    return res;
  };
}

/** Log in as anonymous on `port` and walk what it shows, breadth first, within FTP_WALK_LIMITS. */
export async function walkAnonymousFtp(ctx: ProbeContext, port: number, limits = FTP_WALK_LIMITS): Promise<FtpWalk> {
  const walk: FtpWalk = { loggedIn: false, directories: 0, entries: [], files: [], incomplete: [] };
  // basic-ftp is loaded only when an FTP service is walked.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client, FileType } = require('basic-ftp') as typeof import('basic-ftp');
  const client = new Client(Math.min(limits.seconds, 10) * 1000);
  client.prepareTransfer = passiveToTarget(ctx);
  let expired = false;
  const stop = (): void => {
    expired = true;
    client.close();
  };
  const timer = setTimeout(stop, limits.seconds * 1000);
  ctx.signal.addEventListener('abort', stop, { once: true });
  let bytes = 0;
  try {
    client.ftp.socket = await ctx.connector.tcp(port, { signal: ctx.signal });
    await client.ftp.handle(undefined, (res, task) => {
      if (res instanceof Error) task.reject(res);
      else if (res.code >= 200 && res.code < 300) task.resolve(res);
      else task.reject(new Error(`greeting ${res.code}`));
    });
    // RFC 1635: user "anonymous" and an e-mail-like password.
    await client.login('anonymous', 'starbench@example.invalid');
    walk.loggedIn = true;
    const start = await client.pwd().catch(() => '/');
    const queue: Array<{ dir: string; depth: number }> = [{ dir: start, depth: 0 }];
    while (queue.length) {
      const { dir, depth } = queue.shift()!;
      let list;
      try {
        list = await client.list(dir);
      } catch (err) {
        if (expired) throw err;
        walk.incomplete.push(`listing ${dir}: ${(err as Error).message}`);
        continue;
      }
      walk.directories += 1;
      for (const e of list) {
        if (e.name === '.' || e.name === '..' || e.name.includes('/')) continue;
        const full = `${dir.replace(/\/$/, '')}/${e.name}`;
        if (walk.entries.length >= limits.entries) {
          walk.incomplete.push(`more than ${limits.entries} entries: the rest not listed`);
          queue.length = 0;
          break;
        }
        walk.entries.push(full);
        if (e.type === FileType.Directory) {
          if (depth + 1 < limits.depth) queue.push({ dir: full, depth: depth + 1 });
          else walk.incomplete.push(`${full}: deeper than ${limits.depth} levels, not listed`);
        } else if (e.type === FileType.File) {
          if (walk.files.length >= limits.files || bytes >= limits.totalBytes) {
            walk.incomplete.push(`${full}: not read (at most ${limits.files} files, ${limits.totalBytes / 1024} KiB in all)`);
            continue;
          }
          const sink = new Capped(Math.min(limits.fileBytes, limits.totalBytes - bytes));
          try {
            await client.downloadTo(sink, full);
          } catch (err) {
            if (expired) throw err;
            walk.incomplete.push(`${full}: not read (${(err as Error).message})`);
            continue;
          }
          bytes += sink.size;
          const truncated = sink.seen > sink.size;
          walk.files.push({ path: full, content: Buffer.concat(sink.chunks), truncated });
          if (truncated) walk.incomplete.push(`${full}: only the first ${sink.size} of ${sink.seen} bytes searched`);
        }
      }
    }
  } catch (err) {
    walk.error = expired ? `stopped after ${limits.seconds} s` : (err as Error).message;
    walk.incomplete.push(walk.error);
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', stop);
    client.close();
  }
  return walk;
}
