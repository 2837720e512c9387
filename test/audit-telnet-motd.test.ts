/**
 * A telnet login whose successful-login banner mentions earlier failures
 * (pam_faillock / lastlog style: "There were 57 failed login attempts since
 * the last successful login.") — exactly what a device prints right after a
 * dictionary run finally hits its default.
 */
import net from 'node:net';
import { listenOn } from './helpers/servers';
import { assess } from './audit-helpers';

async function chattyTelnet(accounts: Array<[string, string]>) {
  const stats = { failures: 0, logins: 0 };
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.write(Buffer.from([255, 251, 1, 255, 251, 3]));
    s.write('\r\ncam login: ');
    let stage: 'user' | 'pass' | 'shell' = 'user';
    let got = '';
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1').replace(/\xff[\xfb-\xfe]./g, '');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        if (stage === 'user') {
          got = line;
          stage = 'pass';
          s.write('Password: ');
        } else if (stage === 'pass') {
          if (accounts.some(([u, p]) => u === got && p === line)) {
            stats.logins += 1;
            stage = 'shell';
            s.write(
              `\r\nLast failed login: Tue Dec  1 10:00:00 UTC 2026\r\nThere were ${stats.failures} failed login attempts since the last successful login.\r\n# `,
            );
            stats.failures = 0;
          } else {
            stats.failures += 1;
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

it('a default that opens a shell with a "failed login attempts" banner is found (fail), never pass', async () => {
  const t = await chattyTelnet([['root', 'xc3511']]);
  try {
    const { report } = await assess(
      { device: { name: 'telnet cam' }, target: { host: '127.0.0.1' }, scan: { tcp: String(t.port) }, services: [{ port: t.port, protocol: 'telnet' }] },
      ['auth.default-credentials'],
    );
    expect(t.stats.logins).toBeGreaterThan(0); // the default DID open a shell
    expect(report.checks[0].verdict).toBe('fail');
  } finally {
    await t.close();
  }
}, 120_000);
