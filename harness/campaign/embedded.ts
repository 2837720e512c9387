/**
 * The single-host store, with no database server installed: PGlite
 * (PostgreSQL compiled to WebAssembly, its data in a folder) served on
 * 127.0.0.1 by pglite-socket, so pg-boss, `campaign` and the local agents
 * talk to it as to any PostgreSQL. One process serves a folder: the first
 * command that needs it starts `starbench campaign serve DIR` detached, and
 * that server stops by itself after STARBENCH_STORE_IDLE_SECONDS (default
 * 600) without a client. `--db pglite:DIR` names the folder; a campaign
 * without --db uses pglite:runs/campaign-store.
 *
 * PGlite runs one query at a time for every client, needs ~0.3-0.8 GB of
 * memory in the serving process, and is for one host; benches on several
 * hosts share a PostgreSQL server (postgres://).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { StarbenchError } from '../errors';
import { PACKAGE_ROOT } from '../package-root';

export const EMBEDDED_SCHEME = 'pglite:';
export const DEFAULT_STORE = `${EMBEDDED_SCHEME}runs/campaign-store`;
const SERVER_FILE = 'server.json';
const LOCK_FILE = 'server.lock';

interface ServerInfo {
  pid: number;
  port: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, timeout: 1000 }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });

function readInfo(dir: string): ServerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path.join(dir, SERVER_FILE), 'utf8')) as ServerInfo;
    return Number.isInteger(info.pid) && Number.isInteger(info.port) ? info : undefined;
  } catch {
    return undefined;
  }
}

const urlOf = (port: number): string => `postgres://postgres@127.0.0.1:${port}/postgres`;

/** The folder a pglite: store names (relative to the working folder). */
export function embeddedDir(db: string): string | undefined {
  return db.startsWith(EMBEDDED_SCHEME) ? path.resolve(db.slice(EMBEDDED_SCHEME.length) || '.') : undefined;
}

/** The postgres:// URL of the folder's server, starting it (detached) when none serves it. */
export async function ensureEmbedded(dir: string): Promise<string> {
  const running = readInfo(dir);
  if (running && alive(running.pid) && (await answers(running.port))) return urlOf(running.port);
  mkdirSync(dir, { recursive: true });
  const log = openSync(path.join(dir, 'server.log'), 'a');
  const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'starbench.js'), 'campaign', 'serve', dir], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.unref();
  // A first start creates the database (PGlite's initdb: 5-10 s).
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    const info = readInfo(dir);
    if (info && alive(info.pid) && (await answers(info.port))) return urlOf(info.port);
    if (exited !== undefined) {
      // Another command started the server at the same moment: use that one.
      const other = readInfo(dir);
      if (other && alive(other.pid) && (await answers(other.port))) return urlOf(other.port);
      const tail = existsSync(path.join(dir, 'server.log')) ? readFileSync(path.join(dir, 'server.log'), 'utf8').trim().split('\n').slice(-3).join(' / ') : '';
      throw new StarbenchError('STORE_UNREACHABLE', `the embedded campaign store in ${dir} did not start (exit ${exited}): ${tail}`);
    }
  }
  throw new StarbenchError('STORE_UNREACHABLE', `the embedded campaign store in ${dir} did not answer within 60 s (see ${path.join(dir, 'server.log')})`);
}

/** Take the folder's lock (a stale one, whose process is gone, is taken over). */
function lock(dir: string): void {
  const file = path.join(dir, LOCK_FILE);
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return;
    } catch {
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new StarbenchError('USAGE', `the campaign store in ${dir} is already served (pid ${pid})`);
      rmSync(file, { force: true });
    }
  }
  throw new StarbenchError('USAGE', `the campaign store in ${dir} is locked (${file})`);
}

/** `campaign serve DIR`: serve the folder until `signal`, or until no client has been connected for `idleMs`. */
export async function serveEmbedded(dir: string, idleMs: number, signal: AbortSignal, say: (line: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  lock(dir);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PGLiteSocketServer } = require('@electric-sql/pglite-socket') as typeof import('@electric-sql/pglite-socket');
    const db = await PGlite.create(path.join(dir, 'data'));
    // pg-boss and the store keep a few connections per process: the default of one would refuse the second.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
    await server.start();
    const port = Number(server.getServerConn().split(':').pop());
    writeFileSync(path.join(dir, `${SERVER_FILE}.tmp`), JSON.stringify({ pid: process.pid, port }));
    renameSync(path.join(dir, `${SERVER_FILE}.tmp`), path.join(dir, SERVER_FILE));
    say(`campaign store ${dir}: serving on 127.0.0.1:${port} (pid ${process.pid}); stops after ${Math.round(idleMs / 1000)} s without a client`);
    await new Promise<void>((resolve) => {
      let idleSince = Date.now();
      const tick = setInterval(() => {
        if (server.getStats().activeConnections > 0) idleSince = Date.now();
        else if (Date.now() - idleSince >= idleMs) done();
      }, 1000);
      function done(): void {
        clearInterval(tick);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
    rmSync(path.join(dir, SERVER_FILE), { force: true });
    await server.stop();
    await db.close();
    say(`campaign store ${dir}: stopped`);
  } finally {
    rmSync(path.join(dir, LOCK_FILE), { force: true });
  }
}
