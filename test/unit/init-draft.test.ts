/** What init writes from what it saw (no device): forms as the device wrote them, SSH methods, validation of the draft. */
import { parseDeviceFile } from '../../harness/device-file/load';
import { draftYaml } from '../../cli/init';
import { passwordForms } from '../../probes/discover';

describe('init draft', () => {
  it('keeps a form only with field names a device file can carry, and only a same-host action', () => {
    expect(passwordForms(`<form action="//evil.invalid/x"><input name=user><input type=password name=pass></form>`)).toEqual([
      { action: undefined, usernameField: 'user', passwordField: 'pass' },
    ]);
    expect(passwordForms(`<form action="/l\r\nz"><input type=password name=pw></form>`)).toEqual([
      { action: undefined, usernameField: undefined, passwordField: 'pw' },
    ]);
    expect(passwordForms(`<form action="/login"><input type=password name="TODO"></form>`)).toEqual([]);
    expect(passwordForms(`<form action="/login"><input type=email name=mail><input type=password name=pw></form>`)).toEqual([
      { action: '/login', usernameField: 'mail', passwordField: 'pw' },
    ]);
  });

  it('declares both SSH logins when password and publickey are offered, and the draft validates', () => {
    const text = draftYaml('127.0.0.1', {
      when: '2026-12-01',
      found: [{ port: 22, transport: 'tcp', protocol: 'ssh', identifiedBy: 'banner', logins: [], sshMethods: ['publickey', 'password'], notes: [] }],
    });
    const d = parseDeviceFile(text, '/lab/draft.yaml', undefined, { allowTodo: true });
    expect(d.auth.map((a) => a.scheme)).toEqual(['password', 'publickey']);
    expect(Object.keys(d.credentials).sort()).toEqual(['admin', 'lab-key']);
  });
});
