/**
 * Declared HTML form logins: POST the form, judge by the success marker the
 * device file declares (text or redirect). A page without the marker is a
 * refusal; a page with neither marker nor a usable status is an error.
 */
import type { ProbeContext } from '../../harness/types';
import { httpRequest, lockSignal, type HttpResponse } from '../util/http';
import type { AttemptOutcome, LoginAdapter, LoginTarget } from './adapter';

const PASSWORD_INPUT = /<input\b[^>]*\btype\s*=\s*["']?password/i;

/** The cookies a response sets, as a Cookie header. */
export function cookiesOf(res: HttpResponse, jar: Map<string, string> = new Map()): Map<string, string> {
  const set = res.headers['set-cookie'] ?? [];
  for (const c of Array.isArray(set) ? set : [set]) {
    const m = /^\s*([^=;\s]+)=([^;]*)/.exec(c);
    if (m) jar.set(m[1], m[2]);
  }
  return jar;
}
const cookieHeader = (jar: Map<string, string>): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

/** After a discovered form's POST: does the page that needed a login now open with the session the login set? */
async function protectedPageOpens(ctx: ProbeContext, target: LoginTarget, protectedPath: string, posted: HttpResponse): Promise<AttemptOutcome> {
  const jar = cookiesOf(posted);
  if (jar.size === 0 && !(posted.status >= 300 && posted.status < 400))
    return posted.status < 400
      ? { kind: 'rejected', detail: `HTTP ${posted.status}, no session cookie set` }
      : { kind: 'error', detail: `HTTP ${posted.status}` };
  const page = await httpRequest(ctx, {
    port: target.port,
    tls: target.tls,
    path: protectedPath,
    headers: jar.size ? { Cookie: cookieHeader(jar) } : {},
    maxBytes: 64 * 1024,
  });
  const body = page.body.toString('latin1');
  if (page.status >= 200 && page.status < 300 && !PASSWORD_INPUT.test(body))
    return { kind: 'accepted', detail: `${protectedPath} opened with the session cookie (HTTP ${page.status})` };
  if ((page.status >= 300 && page.status < 400) || page.status === 401 || page.status === 403 || PASSWORD_INPUT.test(body))
    return { kind: 'rejected', detail: `${protectedPath} still asks for a login (HTTP ${page.status})` };
  return { kind: 'error', detail: `${protectedPath}: HTTP ${page.status}` };
}

export const httpFormLogin: LoginAdapter = {
  name: 'http-form',
  async attempt(ctx, target, username, password) {
    const form = target.form;
    if (!form) return { kind: 'error', detail: 'no form declared' };
    const body = new URLSearchParams({ ...form.extraFields, [form.usernameField]: username, [form.passwordField]: password }).toString();
    try {
      const res = await httpRequest(ctx, {
        port: target.port,
        tls: target.tls,
        method: 'POST',
        path: target.path ?? '/',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
        maxBytes: 64 * 1024,
      });
      const text = res.body.toString('latin1');
      // A lock page beats a failure text: "too many attempts" is not a judged password.
      const lock = lockSignal(res, true);
      if (lock && !(form.successText && text.includes(form.successText))) return { kind: 'locked', ...lock };
      const location = String(res.headers.location ?? '');
      if (form.protectedPath && !form.successText && !form.successRedirect) return await protectedPageOpens(ctx, target, form.protectedPath, res);
      if (form.successRedirect && res.status >= 300 && res.status < 400 && location.includes(form.successRedirect))
        return { kind: 'accepted', detail: `HTTP ${res.status} to ${location}` };
      if (form.successText && text.includes(form.successText)) return { kind: 'accepted', detail: `HTTP ${res.status} with the success text` };
      if (form.failureText && text.includes(form.failureText)) return { kind: 'rejected', detail: `HTTP ${res.status} with the failure text` };
      if (res.status === 401 || res.status === 403 || (res.status >= 200 && res.status < 400))
        return { kind: 'rejected', detail: `HTTP ${res.status} without the success marker` };
      return { kind: 'error', detail: `HTTP ${res.status}` };
    } catch (err) {
      return { kind: 'error', detail: (err as Error).message };
    }
  },
};
