/**
 * Declared HTML form logins: POST the form, judge by the success marker the
 * device file declares (text or redirect). A page without the marker is a
 * refusal; a page with neither marker nor a usable status is an error.
 */
import { httpRequest, lockSignal } from '../util/http';
import type { LoginAdapter } from './adapter';

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
