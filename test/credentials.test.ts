import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { createBroker } from 'aedes';
import { Server as SshServer } from 'ssh2';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { dictionaryFor, miraiList, vendorList } from '../probes/credentials/dictionary';

const FULL = dictionaryFor([]).length;
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { basicAuthServer, ftpServer, listenOn, lockoutServer, sshServer, telnetDevice, telnetServer } from './helpers/servers';
import { sshKeyPair } from '../fixtures/util/ssh-key';

function device(extra: Partial<DeviceFileInput>, ports: number[]) {
  return deviceFrom({
    device: { name: 'cred test' },
    target: { host: '127.0.0.1' },
    scan: { tcp: ports.join(',') },
    ...extra,
  });
}

/** The lab account of a login: its working login is the control that makes the dictionary's refusals mean something. */
const labOn = (
  port: number,
  protocol: 'ssh' | 'telnet' | 'ftp' | 'http',
  user: string,
  password: string,
  extra: { path?: string } = {},
): Partial<DeviceFileInput> => ({
  credentials: { lab: { username: user, password } },
  auth: [{ port, protocol, scheme: protocol === 'http' ? 'digest' : 'password', credential: 'lab', ...extra }],
});

async function assess(d: ReturnType<typeof device>) {
  return runWith({
    device: d,
    profile: profileOf([{ id: 'R', checks: ['auth.default-credentials'] }]),
    probes: [...PROBES.values()],
    checks: [...CHECKS.values()],
  });
}

const entryOf = (u: string, p: string) => miraiList().find((e) => e.username === u && e.password === p)!.entry;

describe('credentials probe and auth.default-credentials', () => {
  it('fails on the Nth Mirai entry over SSH, naming the entry and masking the password', async () => {
    const ssh = await sshServer('root', 'vizxv');
    try {
      const { report } = await assess(device({ services: [{ port: ssh.port, protocol: 'ssh' }] }, [ssh.port]));
      const check = report.checks[0];
      expect(check.verdict).toBe('fail');
      expect(check.findings[0].message).toBe(
        `ssh on ${ssh.port} accepted username "root" with password •••• — matched the Mirai list entry ${entryOf('root', 'vizxv')}`,
      );
      expect(JSON.stringify(report)).not.toContain('vizxv');
    } finally {
      await ssh.close();
    }
  });

  it('tries the vendor list after Mirai, and names the entry and its source', async () => {
    const ssh = await sshServer('pi', 'raspberry');
    try {
      const { report } = await assess(device({ services: [{ port: ssh.port, protocol: 'ssh' }] }, [ssh.port]));
      const entry = vendorList().find((e) => e.username === 'pi')!;
      expect(report.checks[0].findings[0].message).toBe(
        `ssh on ${ssh.port} accepted username "pi" with password •••• — matched the vendor list entry ${entry.entry} (Raspberry Pi news, Raspberry Pi OS Bullseye update of April 2022, removing the default "pi" user; earlier images)`,
      );
      // Mirai first, each pair once
      expect(ssh.stats.attempts).toBeGreaterThan(miraiList().length);
    } finally {
      await ssh.close();
    }
  });

  it('ships every vendor entry with its source', () => {
    const v = vendorList();
    expect(v.length).toBeGreaterThanOrEqual(15);
    for (const e of v)
      expect({ pair: `${e.username}:${e.password}`, source: /\((vendor|secondary)\b[^()]*\)$/.test(e.source ?? '') }).toMatchObject({ source: true });
  });

  it('passes only after every entry was refused', async () => {
    const ssh = await sshServer('root', 'a-unique-password-9f3a');
    try {
      // Without a lab account nothing shows the server was still judging passwords: inconclusive.
      const blind = await assess(device({ services: [{ port: ssh.port, protocol: 'ssh' }] }, [ssh.port]));
      expect(blind.report.checks[0].verdict).toBe('inconclusive');
      const { report } = await assess(
        device({ services: [{ port: ssh.port, protocol: 'ssh' }], ...labOn(ssh.port, 'ssh', 'root', 'a-unique-password-9f3a') }, [ssh.port]),
      );
      const obs = report.observations.credentials.observations.find((o) => o.kind === 'login-attempts')!;
      expect(obs.data).toMatchObject({ tried: FULL, complete: true, accepted: [] });
      expect(report.checks[0].verdict).toBe('pass');
      expect(ssh.stats.attempts).toBeGreaterThanOrEqual(FULL);
    } finally {
      await ssh.close();
    }
  });

  it('finds an HTTP Basic default on a declared login path', async () => {
    const web = await basicAuthServer('admin', '1234');
    try {
      const { report } = await assess(
        device({ services: [{ port: web.port, protocol: 'http' }], auth: [{ port: web.port, protocol: 'http', path: '/admin', scheme: 'basic' }] }, [web.port]),
      );
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings[0].message).toContain(`matched the Mirai list entry ${entryOf('admin', '1234')}`);
    } finally {
      await web.close();
    }
  });

  it('stays under a declared lockout and says how far it got (inconclusive, not pass)', async () => {
    const web = await basicAuthServer('admin', 'unique-pass-77', { lockAfter: 5 });
    try {
      const { report } = await assess(
        device(
          {
            services: [{ port: web.port, protocol: 'http' }],
            auth: [{ port: web.port, protocol: 'http', path: '/admin', scheme: 'basic', bruteForce: 'lockout', lockoutAfter: 5, lockoutSeconds: 60 }],
          },
          [web.port],
        ),
      );
      // 4 failures allowed: the random-pair control and 3 dictionary entries
      expect(web.stats.failures).toBe(4);
      expect(web.stats.locked).toBe(false);
      expect(report.checks[0].verdict).toBe('inconclusive');
      expect(report.checks[0].rationale).toContain(`tried 3/${FULL} (lockout-budget)`);
    } finally {
      await web.close();
    }
  });

  it('a server that drops every connection gives inconclusive, not pass', async () => {
    const dropper = await listenOn(net.createServer((s) => s.destroy()));
    try {
      const { report } = await assess(device({ services: [{ port: dropper.port, protocol: 'ssh' }] }, [dropper.port]));
      expect(report.checks[0].verdict).toBe('inconclusive');
      const obs = report.observations.credentials.observations.find((o) => o.kind === 'login-attempts')!;
      expect(obs.data).toMatchObject({ stopReason: 'errors', complete: false });
    } finally {
      await dropper.close();
    }
  });

  it('no login anywhere is not-applicable, with the scan as evidence', async () => {
    const quiet = await listenOn(net.createServer((s) => s.end()));
    try {
      const { report } = await assess(device({ services: [{ port: quiet.port, protocol: 'other' }] }, [quiet.port]));
      expect(report.checks[0]).toMatchObject({ verdict: 'not-applicable' });
      expect(report.checks[0].evidence).toContain('probe:credentials');
    } finally {
      await quiet.close();
    }
  });
});

describe('credentials probe: lockouts, controls and more protocols', () => {
  const lockoutDevice = (port: number, after: number, withCredential: boolean, lockoutSeconds = 30) =>
    device(
      {
        services: [{ port, protocol: 'http' }],
        credentials: { admin: { username: 'admin', password: 'lab-pass-31' } },
        auth: [
          {
            port,
            protocol: 'http',
            path: '/admin',
            scheme: 'basic',
            bruteForce: 'lockout',
            lockoutAfter: after,
            lockoutSeconds,
            ...(withCredential ? { credential: 'admin' } : {}),
          },
        ],
      },
      [port],
    );

  it('with a lab credential, tries the whole list without ever locking the account', async () => {
    const web = await lockoutServer('admin', 'lab-pass-31', 5);
    try {
      const { report } = await assess(lockoutDevice(web.port, 5, true));
      expect(web.stats.locked).toBe(false);
      expect(web.stats.failures).toBe(FULL + 1);
      expect(report.checks[0].verdict).toBe('pass');
      const obs = report.observations.credentials.observations.find((o) => o.kind === 'login-attempts')!;
      expect(obs.data).toMatchObject({ tried: FULL, complete: true, stopReason: 'exhausted' });
      expect(obs.data.labLogins).toBeGreaterThanOrEqual(Math.ceil((FULL + 1) / 4));
    } finally {
      await web.close();
    }
  });

  it('a lockout that starts earlier than declared is learned: the whole list is still tried and the lab credential works at the end', async () => {
    const web = await lockoutServer('admin', 'lab-pass-31', 3, { lockSeconds: 1 });
    try {
      const { report } = await assess(lockoutDevice(web.port, 5, true, 1));
      const obs = report.observations.credentials.observations.find((o) => o.kind === 'login-attempts')!;
      expect(obs.data).toMatchObject({ tried: FULL, complete: true, stopReason: 'exhausted' });
      expect(report.checks[0].verdict).toBe('pass');
      expect(report.authLedger?.groups[0]).toMatchObject({ declaredAfter: 5, learnedAfter: expect.any(Number) });
      expect(report.authLedger!.groups[0].learnedAfter).toBeLessThanOrEqual(3);
      // It was locked once, learned, and never again.
      expect(web.stats.locks).toBe(1);
      expect(web.stats.locked).toBe(false);
    } finally {
      await web.close();
    }
  }, 60_000);

  it('a lock that never lifts stops the run within its bound: inconclusive, says how far it got', async () => {
    const web = await lockoutServer('admin', 'lab-pass-31', 3);
    try {
      const started = Date.now();
      const { report } = await assess(lockoutDevice(web.port, 5, true, 1));
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(report.checks[0].verdict).toBe('inconclusive');
      const obs = report.observations.credentials.observations.find((o) => o.kind === 'login-attempts')!;
      expect(obs.data).toMatchObject({ stopReason: 'lockout-started', complete: false });
      expect(String(obs.data.detail)).toMatch(/lab login was refused after \d+ attempts/);
      expect(report.authLedger?.waits.some((w) => !w.ok)).toBe(true);
    } finally {
      await web.close();
    }
  }, 60_000);

  it('a service that accepts a random pair fails, and says so', async () => {
    const any = await listenOn(
      http.createServer((req, res) =>
        req.headers.authorization ? res.writeHead(200).end('ok') : res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }).end(),
      ),
    );
    try {
      const { report } = await assess(
        device({ services: [{ port: any.port, protocol: 'http' }], auth: [{ port: any.port, protocol: 'http', path: '/', scheme: 'basic' }] }, [any.port]),
      );
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings[0].message).toMatch(/accepted a random username and password/);
    } finally {
      await any.close();
    }
  });

  it('SSH that offers only public keys settles without guessing', async () => {
    const server = new SshServer({ hostKeys: [sshKeyPair('ed25519').private] }, (client) => {
      client.on('authentication', (ctx) => ctx.reject(['publickey']));
      client.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { report } = await assess(device({ services: [{ port, protocol: 'ssh' }] }, [port]));
      expect(report.checks[0].verdict).toBe('pass');
      const obs = report.observations.credentials.observations.find((o) => o.kind === 'login-attempts')!;
      expect(obs.data).toMatchObject({ stopReason: 'no-password-login', tried: 0, detail: 'server offers only publickey' });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('telnet: a shell after root:xc3511 fails the check; "Login incorrect" everywhere passes it', async () => {
    const shell = await telnetServer('shell');
    const refuse = await telnetServer('refuse');
    try {
      const bad = await assess(device({ services: [{ port: shell.port, protocol: 'telnet' }] }, [shell.port]));
      expect(bad.report.checks[0].verdict).toBe('fail');
      expect(bad.report.checks[0].findings[0].message).toContain('accepted username "root" with password •••• — matched the Mirai list entry 1');
      // A daemon that says "Login incorrect" to everything, the lab account included, proves nothing: the lab login is the control.
      const good = await assess(device({ services: [{ port: refuse.port, protocol: 'telnet' }] }, [refuse.port]));
      expect(good.report.checks[0].verdict).toBe('inconclusive');
      const labbed = await telnetDevice({ accounts: [['lab', 'lab-pass-3b']] });
      try {
        const ok = await assess(
          device({ services: [{ port: labbed.port, protocol: 'telnet' }], ...labOn(labbed.port, 'telnet', 'lab', 'lab-pass-3b') }, [labbed.port]),
        );
        expect(ok.report.checks[0].verdict).toBe('pass');
      } finally {
        await labbed.close();
      }
    } finally {
      await shell.close();
      await refuse.close();
    }
  });

  it('telnet: a line that echoes everything is not mistaken for a shell', async () => {
    const echo = await telnetServer('echo');
    try {
      const { report } = await assess(device({ services: [{ port: echo.port, protocol: 'telnet' }] }, [echo.port]));
      expect(report.checks[0].verdict).not.toBe('fail');
      expect(report.checks[0].verdict).not.toBe('pass');
    } finally {
      await echo.close();
    }
  });

  it('MQTT: a broker accepting admin:admin fails; an anonymous-only broker is caught by the control', async () => {
    const broker = createBroker({
      authenticate: (_client, username, password, done) => done(null, username === 'admin' && password?.toString() === 'admin'),
    });
    const mq = await listenOn(net.createServer(broker.handle));
    try {
      const { report } = await assess(device({ services: [{ port: mq.port, protocol: 'mqtt' }] }, [mq.port]));
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings[0].message).toMatch(new RegExp(`mqtt on ${mq.port} accepted username "admin" .* entry ${entryOf('admin', 'admin')}$`));
    } finally {
      await mq.close();
      await new Promise<void>((r) => broker.close(() => r()));
    }
  });
});

describe('declared defaults', () => {
  it('are tried first and named as the declared default they are', async () => {
    const ssh = await sshServer('installer', 'Cam-2024!');
    try {
      const { report } = await assess(
        // One connection at a time makes the order observable: the random-pair control, then the declared default.
        device(
          {
            services: [{ port: ssh.port, protocol: 'ssh' }],
            defaultCredentials: [{ username: 'installer', password: 'Cam-2024!', note: 'printed in the quick-start guide' }],
            limits: { connections: 1 },
          },
          [ssh.port],
        ),
      );
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings[0].message).toBe(
        `ssh on ${ssh.port} accepted username "installer" with password •••• — matched the declared default list entry 1`,
      );
      // found on the first guess: nothing else was needed
      expect(ssh.stats.attempts).toBe(2);
    } finally {
      await ssh.close();
    }
  });
});

describe('FTP', () => {
  it('a default FTP account fails auth.default-credentials; anonymous FTP fails auth.unauthenticated-access', async () => {
    const ftp = await ftpServer('admin', 'password', { anonymous: true });
    try {
      const d = device({ services: [{ port: ftp.port, protocol: 'ftp' }] }, [ftp.port]);
      const { report } = await runWith({
        device: d,
        profile: profileOf([
          { id: 'R1', checks: ['auth.default-credentials'] },
          { id: 'R2', checks: ['auth.unauthenticated-access'] },
          { id: 'R3', checks: ['comms.plaintext'] },
        ]),
        probes: [...PROBES.values()],
        checks: [...CHECKS.values()],
      });
      const v = Object.fromEntries(report.checks.map((c) => [c.id, c]));
      expect(v['auth.default-credentials'].verdict).toBe('fail');
      expect(v['auth.default-credentials'].findings.find((f) => f.severity === 'high')?.message).toMatch(
        new RegExp(`ftp on ${ftp.port} accepted username "admin" .* entry ${entryOf('admin', 'password')}$`),
      );
      expect(v['auth.unauthenticated-access'].verdict).toBe('fail');
      expect(v['auth.unauthenticated-access'].rationale).toContain('ftp-anonymous');
      expect(v['comms.plaintext'].verdict).toBe('fail');
    } finally {
      await ftp.close();
    }
  });

  it('an FTP server that refuses everything passes the dictionary', async () => {
    const ftp = await ftpServer('op', 'a-long-unique-secret-77');
    try {
      const { report } = await assess(
        device({ services: [{ port: ftp.port, protocol: 'ftp' }], ...labOn(ftp.port, 'ftp', 'op', 'a-long-unique-secret-77') }, [ftp.port]),
      );
      expect(report.checks[0].verdict).toBe('pass');
    } finally {
      await ftp.close();
    }
  });
});

describe('HTTP Digest', () => {
  // A server that checks RFC 7616 responses itself, with its own hashing, for one account.
  function digestServer(user: string, pass: string, algorithm: 'MD5' | 'SHA-256') {
    const realm = 'cam';
    const nonce = 'n0nce-1234';
    const h = (s: string) =>
      createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
        .update(s)
        .digest('hex');
    return http.createServer((req, res) => {
      const auth = String(req.headers.authorization ?? '');
      const f = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
      const expected = h(`${h(`${user}:${realm}:${pass}`)}:${nonce}:${f.nc}:${f.cnonce}:auth:${h(`GET:${f.uri}`)}`);
      if (auth.startsWith('Digest ') && f.username === user && f.response === expected) return void res.writeHead(200).end('in');
      res.writeHead(401, { 'WWW-Authenticate': `Digest realm="${realm}", qop="auth", nonce="${nonce}", algorithm=${algorithm}, opaque="x"` }).end();
    });
  }

  it.each(['MD5', 'SHA-256'] as const)('finds admin:admin behind Digest %s and passes a unique password', async (algorithm) => {
    const weak = await listenOn(digestServer('admin', 'admin', algorithm));
    const strong = await listenOn(digestServer('admin', 'k9-unique-pass-aa71', algorithm));
    try {
      const bad = await assess(
        device({ services: [{ port: weak.port, protocol: 'http' }], auth: [{ port: weak.port, protocol: 'http', path: '/', scheme: 'digest' }] }, [weak.port]),
      );
      expect(bad.report.checks[0].verdict).toBe('fail');
      expect(bad.report.checks[0].findings[0].message).toContain(`entry ${entryOf('admin', 'admin')}`);
      const good = await assess(
        device({ services: [{ port: strong.port, protocol: 'http' }], ...labOn(strong.port, 'http', 'admin', 'k9-unique-pass-aa71', { path: '/' }) }, [
          strong.port,
        ]),
      );
      expect(good.report.checks[0].verdict).toBe('pass');
    } finally {
      await weak.close();
      await strong.close();
    }
  });
});

describe('declared form logins', () => {
  /** POST /login user=&pass=: 302 to /home on a known account, else 200 with "Invalid login". */
  function formServer(accounts: Record<string, string>) {
    return http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const f = new URLSearchParams(body);
        if (req.method === 'POST' && accounts[f.get('user') ?? ''] === f.get('pass')) return void res.writeHead(302, { Location: '/home' }).end();
        res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end('<p>Invalid login</p><form method=post><input name=user><input type=password name=pass></form>');
      });
    });
  }
  const formDevice = (port: number, form: Record<string, string>) =>
    device(
      {
        services: [{ port, protocol: 'http' }],
        credentials: { lab: { username: 'labuser', password: 'lab-pass-99' } },
        auth: [{ port, protocol: 'http', path: '/login', scheme: 'form', credential: 'lab', form: { usernameField: 'user', passwordField: 'pass', ...form } }],
      },
      [port],
    );

  it('finds a Mirai default behind a form; passes when only the lab account exists', async () => {
    const weak = await listenOn(formServer({ labuser: 'lab-pass-99', root: '12345' }));
    const strong = await listenOn(formServer({ labuser: 'lab-pass-99' }));
    try {
      const bad = await assess(formDevice(weak.port, { successRedirect: '/home', failureText: 'Invalid login' }));
      expect(bad.report.checks[0].verdict).toBe('fail');
      expect(bad.report.checks[0].findings.find((f) => f.severity === 'high')?.message).toContain(
        `accepted username "root" with password •••• — matched the Mirai list entry ${entryOf('root', '12345')}`,
      );
      const good = await assess(formDevice(strong.port, { successRedirect: '/home' }));
      expect(good.report.checks[0].verdict).toBe('pass');
    } finally {
      await weak.close();
      await strong.close();
    }
  });

  it('a success marker that the lab account does not produce is inconclusive, never a pass', async () => {
    const s = await listenOn(formServer({ labuser: 'lab-pass-99' }));
    try {
      const { report } = await assess(formDevice(s.port, { successText: 'Welcome back' }));
      expect(report.checks[0].verdict).toBe('inconclusive');
      expect(report.checks[0].findings.map((f) => f.message).join('\n')).toMatch(/lab credential was not accepted under the declared success marker/);
    } finally {
      await s.close();
    }
  });

  it('a form declaration without a success marker is refused at load', () => {
    expect(() =>
      device({ services: [], auth: [{ port: 80, protocol: 'http', path: '/login', scheme: 'form', form: { usernameField: 'u', passwordField: 'p' } }] }, [80]),
    ).toThrow(/auth\[0\]\.form needs successText or successRedirect/);
    expect(() => device({ services: [], auth: [{ port: 80, protocol: 'http', path: '/login', scheme: 'form' }] }, [80])).toThrow(
      /auth\[0\]\.form scheme: form needs form:/,
    );
  });
});
