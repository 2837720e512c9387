/**
 * A third audit of privacy.data-deletion: the owner's data still on the
 * device after the reset gave pass — past the 256 KiB kept of a read-back, in
 * a table whose only anchor was markup (<td>), or in the same place but
 * base64- or HTML-entity-encoded.
 */
import { deletionVerdict } from './audit-helpers';

const CANARY = 'hanako.audit.canary@example.jp';

const deletion = (contentType: string, before: string, after: string) => deletionVerdict(CANARY, contentType, before, after);

describe('audit17b: reset — data still there, verdict was pass', () => {
  it('an account page past 256 KiB after the reset: the canary beyond the cut is never searched', async () => {
    // A users page: the "add a user" form on top, the event log, then the enrolled users. After the reset the log has grown past 256 KiB.
    const page = (log: string) =>
      `<html><head><title>Users</title></head><body><form><input name="email" value=""><button>Add</button></form>\n<pre>${log}</pre>\n<form><input name="email" value="${CANARY}"></form></body></html>`;
    const c = await deletion('text/html', page('boot\n'), page('event: reboot ok\n'.repeat(20_000)));
    expect(c.verdict).not.toBe('pass');
  }, 60_000);

  it('a table laid out one cell per line: after the reset a welcome page with the same title and any <td> is taken for the emptied page', async () => {
    const c = await deletion(
      'text/html',
      `<html><head><title>IP Camera</title></head><body><table>\n<tr>\n<td>Owner e-mail</td>\n<td>${CANARY}</td>\n</tr>\n</table></body></html>`,
      `<html><head><title>IP Camera</title></head><body><table>\n<tr>\n<td>Welcome! This camera is not set up yet. <a href="/setup">Start setup</a></td>\n</tr>\n</table></body></html>`,
    );
    expect(c.verdict).not.toBe('pass');
  }, 60_000);

  it('the same JSON key still holding the e-mail, base64-encoded', async () => {
    const c = await deletion(
      'application/json',
      JSON.stringify({ owner: { email: CANARY }, tz: 'JST' }),
      JSON.stringify({ owner: { email: Buffer.from(CANARY).toString('base64') }, tz: 'JST' }),
    );
    expect(c.verdict).not.toBe('pass');
  }, 60_000);

  it('the same form field still holding the e-mail, HTML-entity encoded', async () => {
    const form = (v: string) => `<html><head><title>Account</title></head><body><form><input name="email" value="${v}"></form></body></html>`;
    const c = await deletion('text/html', form(CANARY), form(CANARY.replace('@', '&#64;')));
    expect(c.verdict).not.toBe('pass');
  }, 60_000);
});
