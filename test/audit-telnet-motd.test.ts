/**
 * A telnet login whose successful-login banner mentions earlier failures
 * (pam_faillock / lastlog style: "There were 57 failed login attempts since
 * the last successful login.") — exactly what a device prints right after a
 * dictionary run finally hits its default.
 */
import { telnetDevice } from './helpers/servers';
import { assess } from './audit-helpers';

/** The default opens a shell whose banner counts the failed logins before it. */
const chattyTelnet = (accounts: Array<[string, string]>) =>
  telnetDevice({
    accounts,
    bannerAfterLogin: (failures) =>
      `Last failed login: Tue Dec  1 10:00:00 UTC 2026\r\nThere were ${failures} failed login attempts since the last successful login.\r\n`,
  });

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
