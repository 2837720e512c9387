import http from 'node:http';
import dgram from 'node:dgram';
import net from 'node:net';
import snmp from 'net-snmp';
import { Server as SshServer } from 'ssh2';
import { sshKeyPair } from '../../fixtures/util/ssh-key';

export interface Running {
  port: number;
  close(): Promise<void>;
}

export async function listenOn(server: net.Server, host = '127.0.0.1'): Promise<Running> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    if (typeof s.destroy !== 'function') return;
    // A probe that resets a connection must not crash the test process.
    s.on('error', () => undefined);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const HOST_KEY = sshKeyPair('ed25519').private;

/** An ssh2 server accepting exactly one user:password pair; counts attempts. */
export async function sshServer(user: string, pass: string, stats = { attempts: 0 }): Promise<Running & { stats: typeof stats }> {
  const server = new SshServer({ hostKeys: [HOST_KEY] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'none') return ctx.reject(['password']);
      stats.attempts += 1;
      if (ctx.method === 'password' && ctx.username === user && ctx.password === pass) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('error', () => undefined);
  });
  const inner = (server as unknown as { _srv: net.Server })._srv;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (inner.address() as net.AddressInfo).port;
  return { port, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** HTTP Basic on /admin; locks out after `lockAfter` failures when given. */
export async function basicAuthServer(user: string, pass: string, opts: { lockAfter?: number } = {}) {
  const stats = { attempts: 0, failures: 0, locked: false };
  const good = 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/admin')) {
      res.writeHead(200).end('home');
      return;
    }
    if (req.headers.authorization) stats.attempts += 1;
    if (stats.locked) {
      res.writeHead(429).end('locked');
      return;
    }
    if (req.headers.authorization === good) {
      res.writeHead(200).end('welcome');
      return;
    }
    if (req.headers.authorization) {
      stats.failures += 1;
      if (opts.lockAfter !== undefined && stats.failures >= opts.lockAfter) stats.locked = true;
    }
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"' }).end('no');
  });
  const r = await listenOn(server);
  return { ...r, stats };
}

export interface LockoutOptions {
  /** Seconds until the lock lifts by itself (default: never). */
  lockSeconds?: number;
  /** How a locked device answers: 429 (default), 429 with Retry-After, or 401 exactly like a wrong password. */
  answer?: '429' | 'retry-after' | 'silent-401';
  /** A request with no credentials to the protected path counts as a failure too. */
  countsAnonymous?: boolean;
  /** The Retry-After a locked device sends (default: the time really left). */
  retryAfterS?: number;
  /** A good login resets the count (default true); false: only the lock's end does. */
  resetOnSuccess?: boolean;
  /** More accounts the device accepts (a factory default left in). */
  alsoAccepts?: Array<[string, string]>;
  /** Update endpoints behind the same login: GET /admin/version, POST /admin/upgrade (installs only the genuine image). */
  update?: { version: string; genuine: Buffer; genuineVersion: string };
}

/**
 * HTTP Basic on /admin that locks after `lockAfter` failures, with the kinds
 * of lock real devices have: one that answers 401 like a wrong password,
 * one that counts credential-less requests, one that lifts after a while.
 * Everything else (/) is a public page.
 */
export async function lockoutServer(user: string, pass: string, lockAfter: number, opts: LockoutOptions = {}) {
  const stats = { failures: 0, consecutive: 0, locked: false, locks: 0, successes: 0, lockedAt: 0, requests: 0, installs: [] as string[] };
  const state = { version: opts.update?.version ?? '' };
  const accepted = new Set(
    [user, ...(opts.alsoAccepts ?? []).map(([u]) => u)].map(
      (u, i) => 'Basic ' + Buffer.from(`${u}:${i === 0 ? pass : opts.alsoAccepts![i - 1][1]}`).toString('base64'),
    ),
  );
  const unlockIfDue = (): void => {
    if (stats.locked && opts.lockSeconds !== undefined && Date.now() - stats.lockedAt >= opts.lockSeconds * 1000) {
      stats.locked = false;
      stats.consecutive = 0;
    }
  };
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/admin')) return void res.writeHead(200).end('home');
    // Drain a body sent to a locked or refused request.
    req.resume();
    stats.requests += 1;
    unlockIfDue();
    if (stats.locked) {
      if (opts.answer === 'silent-401') return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"' }).end('no');
      const left = opts.lockSeconds === undefined ? 3600 : Math.max(1, Math.ceil(opts.lockSeconds - (Date.now() - stats.lockedAt) / 1000));
      return void res.writeHead(429, opts.answer === 'retry-after' ? { 'Retry-After': String(opts.retryAfterS ?? left) } : {}).end('locked');
    }
    const auth = req.headers.authorization;
    if (auth && accepted.has(auth)) {
      if (opts.resetOnSuccess !== false) stats.consecutive = 0;
      stats.successes += 1;
      if (opts.update && req.url === '/admin/version')
        return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ firmware: state.version }));
      if (opts.update && req.url === '/admin/upgrade') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const ok = Buffer.concat(chunks).equals(opts.update!.genuine);
          if (ok) state.version = opts.update!.genuineVersion;
          stats.installs.push(ok ? 'genuine' : 'refused');
          res.writeHead(ok ? 200 : 400).end(ok ? 'installed' : 'signature check failed');
        });
        return;
      }
      return void res.writeHead(200).end('welcome');
    }
    if (auth || opts.countsAnonymous) {
      stats.failures += 1;
      stats.consecutive += 1;
      if (stats.consecutive >= lockAfter) {
        stats.locked = true;
        stats.locks += 1;
        stats.lockedAt = Date.now();
      }
    }
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"' }).end('no');
  });
  return { ...(await listenOn(server)), stats };
}

/**
 * A root shell with no login at all (runs the arithmetic echo): bind it where the scenario needs it (listenOn(server, host)).
 * `prompt: ''` is a bind shell (`nc -l -e /bin/sh`): it prints nothing, not even a prompt, until spoken to.
 * `motd`: what it prints before its first prompt, in two writes `afterMs` apart.
 */
export function openShellServer(prompt = '# ', motd?: { first: string; rest: string; afterMs: number }): net.Server {
  return net.createServer((s) => {
    s.on('error', () => undefined);
    // A motd in two writes (a "Last login:" line whose end comes later), then the prompt.
    if (motd) {
      s.write(motd.first);
      const t = setTimeout(() => !s.destroyed && s.write(`${motd.rest}${prompt}`), motd.afterMs);
      s.on('close', () => clearTimeout(t));
    } else s.write(prompt);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const m = line.match(/^echo SB\$\(\((\d+)\+(\d+)\)\)$/);
        s.write(prompt ? `${line}\r\n${m ? `SB${Number(m[1]) + Number(m[2])}\r\n` : ''}${prompt}` : m ? `SB${Number(m[1]) + Number(m[2])}\n` : '');
      }
    });
  });
}

/**
 * A telnet-like server. `mode`: `shell` runs a fake shell after user:pass;
 * `refuse` always says "Login incorrect"; `echo` echoes everything back and
 * never runs anything (must not be mistaken for a shell).
 */
export async function telnetServer(mode: 'shell' | 'refuse' | 'echo', user = 'root', pass = 'xc3511') {
  return telnetDevice({ accounts: mode === 'shell' ? [[user, pass]] : [], echoOnly: mode === 'echo' });
}

/**
 * A telnet login the way many devices do it: several accounts, optionally a
 * late first prompt, and optionally hanging up right after a wrong password
 * with no "Login incorrect" at all.
 */
export async function telnetDevice(opts: {
  accounts: Array<[string, string]>;
  hangUpAfterFailure?: boolean;
  promptDelayMs?: number;
  /** What a good login prints before the prompt, given the failures since the last one (a lastlog banner). */
  bannerAfterLogin?: (failures: number) => string;
  /** Echo every byte back and run nothing. */
  echoOnly?: boolean;
}) {
  const stats = { connections: 0, failures: 0, logins: 0 };
  /** Failed logins since the last good one, on any connection. */
  let sinceLogin = 0;
  const server = net.createServer((s) => {
    stats.connections += 1;
    s.on('error', () => undefined);
    let stage: 'wait' | 'user' | 'pass' | 'shell' = 'wait';
    let got = '';
    let buf = '';
    const timer = setTimeout(() => {
      if (s.destroyed) return;
      s.write(Buffer.from([255, 251, 1, 255, 251, 3]));
      s.write('\r\nBusyBox v1.35 (device)\r\ncam login: ');
      stage = 'user';
    }, opts.promptDelayMs ?? 0);
    s.on('close', () => clearTimeout(timer));
    s.on('data', (d: Buffer) => {
      if (stage === 'wait') return;
      const text = d.toString('latin1').replace(/\xff[\xfb-\xfe]./g, '');
      if (opts.echoOnly) return void s.write(text);
      buf += text;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        if (stage === 'user') {
          got = line;
          stage = 'pass';
          s.write('Password: ');
        } else if (stage === 'pass') {
          if (opts.accounts.some(([u, p]) => u === got && p === line)) {
            stats.logins += 1;
            stage = 'shell';
            s.write(`\r\n${opts.bannerAfterLogin?.(sinceLogin) ?? ''}# `);
            sinceLogin = 0;
          } else {
            stats.failures += 1;
            sinceLogin += 1;
            if (opts.hangUpAfterFailure) return void s.destroy();
            stage = 'user';
            s.write('\r\nLogin incorrect\r\ncam login: ');
          }
        } else {
          const m = line.match(/^echo SB\$\(\((\d+)\+(\d+)\)\)$/);
          s.write(`${line}\r\n${m ? `SB${Number(m[1]) + Number(m[2])}\r\n` : ''}# `);
        }
      }
    });
  });
  return { ...(await listenOn(server)), stats };
}

/**
 * A minimal FTP server (RFC 959 replies) with one account, optionally allowing anonymous, and optionally a tree of
 * files served in passive mode (LIST in Unix form, RETR). `pasvHost` is the address its PASV answer names (a device
 * behind NAT names another one); `noEpsv` answers EPSV with 502 so the client must fall back to PASV.
 */
export async function ftpServer(
  user: string,
  pass: string,
  opts: { anonymous?: boolean; files?: Record<string, string | Buffer>; pasvHost?: string; noEpsv?: boolean } = {},
) {
  const stats = { logins: 0, retrieved: [] as string[] };
  const files = opts.files ?? {};
  const dataServers = new Set<net.Server>();
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.write('220 lab FTP ready\r\n');
    let name = '';
    let buf = '';
    let cwd = '/';
    let data: Promise<net.Socket> | undefined;
    const passive = (): Promise<number> =>
      new Promise((resolve) => {
        const d = net.createServer();
        dataServers.add(d);
        data = new Promise((got) =>
          d.once('connection', (c) => {
            c.on('error', () => undefined);
            d.close();
            dataServers.delete(d);
            got(c);
          }),
        );
        d.listen(0, '127.0.0.1', () => resolve((d.address() as net.AddressInfo).port));
      });
    const children = (dir: string): string[] => {
      const prefix = dir === '/' ? '/' : `${dir}/`;
      return [
        ...new Set(
          Object.keys(files)
            .filter((f) => f.startsWith(prefix))
            .map((f) => f.slice(prefix.length).split('/')[0]),
        ),
      ];
    };
    const send = async (payload: string | Buffer): Promise<void> => {
      if (!data) return void s.write('425 Use PASV first\r\n');
      s.write('150 Here it comes\r\n');
      const c = await data;
      data = undefined;
      c.end(payload, () => s.write('226 Done\r\n'));
    };
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const [cmd, ...rest] = line.split(' ');
        const arg = rest.join(' ');
        if (cmd === 'USER') {
          name = arg;
          s.write('331 Password required\r\n');
        } else if (cmd === 'PASS') {
          const ok = (name === user && arg === pass) || (opts.anonymous && name === 'anonymous');
          if (ok) stats.logins += 1;
          s.write(ok ? '230 Logged in\r\n' : '530 Login incorrect\r\n');
        } else if (cmd === 'PWD') s.write(`257 "${cwd}"\r\n`);
        else if (cmd === 'CWD') {
          cwd = arg;
          s.write('250 OK\r\n');
        } else if (cmd === 'TYPE') s.write('200 OK\r\n');
        else if (cmd === 'EPSV') {
          if (opts.noEpsv) s.write('502 Not implemented\r\n');
          else void passive().then((port) => s.write(`229 Entering Extended Passive Mode (|||${port}|)\r\n`));
        } else if (cmd === 'PASV')
          void passive().then((port) =>
            s.write(`227 Entering Passive Mode (${(opts.pasvHost ?? '127.0.0.1').replace(/\./g, ',')},${port >> 8},${port & 255})\r\n`),
          );
        else if (cmd === 'LIST') {
          const dir = rest.filter((r) => !r.startsWith('-')).join(' ') || cwd;
          const lines = children(dir).map((n) => {
            const full = `${dir === '/' ? '' : dir}/${n}`;
            const isFile = full in files;
            const size = isFile ? Buffer.byteLength(files[full]) : 4096;
            return `${isFile ? '-rw-r--r--' : 'drwxr-xr-x'} 1 ftp ftp ${size} Jan 01 2025 ${n}`;
          });
          void send(lines.map((l) => `${l}\r\n`).join(''));
        } else if (cmd === 'RETR') {
          const path = arg.startsWith('/') ? arg : `${cwd === '/' ? '' : cwd}/${arg}`;
          if (!(path in files)) s.write('550 No such file\r\n');
          else {
            stats.retrieved.push(path);
            void send(files[path]);
          }
        } else if (cmd === 'QUIT') s.end('221 Bye\r\n');
        else s.write('502 Not implemented\r\n');
      }
    });
  });
  const running = await listenOn(server);
  return {
    ...running,
    stats,
    close: async () => {
      dataServers.forEach((d) => d.close());
      await running.close();
    },
  };
}

/** A free UDP port on loopback (bound, read, released: net-snmp's agent takes no port 0). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * An SNMP agent (net-snmp's own, v1/v2c) on a loopback UDP port that answers the given communities and drops any
 * other without a word, as agents do; its system group holds `system` (sysDescr, sysContact, sysName, sysLocation).
 */
export async function snmpAgent(communities: string[], system: Partial<Record<'sysDescr' | 'sysContact' | 'sysName' | 'sysLocation', string>>) {
  const port = await freeUdpPort();
  const agent = snmp.createAgent({ port, address: '127.0.0.1', transport: 'udp4' }, () => undefined);
  const auth = agent.getAuthorizer();
  communities.forEach((c) => auth.addCommunity(c));
  const mib = agent.getMib();
  const oids = { sysDescr: 1, sysContact: 4, sysName: 5, sysLocation: 6 } as const;
  for (const [name, value] of Object.entries(system)) {
    mib.registerProvider({
      name,
      type: snmp.MibProviderType.Scalar,
      oid: `1.3.6.1.2.1.1.${oids[name as keyof typeof oids]}`,
      scalarType: snmp.ObjectType.OctetString,
      maxAccess: snmp.MaxAccess['read-only'],
    });
    mib.setScalarValue(name, value);
  }
  return { port, close: () => new Promise<void>((resolve) => agent.close(() => resolve())) };
}
