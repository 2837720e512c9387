/** HTTP Basic logins (RFC 7617). */
import { basicAuth, httpRequest, lockSignal } from '../util/http';
import type { LoginAdapter } from './adapter';

export const httpBasicLogin: LoginAdapter = {
  name: 'http-basic',
  async attempt(ctx, target, username, password) {
    try {
      const res = await httpRequest(ctx, {
        port: target.port,
        tls: target.tls,
        path: target.path ?? '/',
        headers: { Authorization: basicAuth(username, password) },
        maxBytes: 4096,
      });
      const lock = lockSignal(res);
      if (lock) return { kind: 'locked', ...lock };
      if (res.status >= 200 && res.status < 300) return { kind: 'accepted', detail: `HTTP ${res.status}` };
      if (res.status === 401 || res.status === 403) return { kind: 'rejected', detail: `HTTP ${res.status}` };
      // 429 and friends: the device is limiting us, which is not a refusal of this password.
      return { kind: 'error', detail: `HTTP ${res.status}` };
    } catch (err) {
      return { kind: 'error', detail: (err as Error).message };
    }
  },
};
