/**
 * HTTP Digest logins (RFC 7616): one request for the challenge, one with the
 * response. MD5 and SHA-256, qop "auth" or none (RFC 2069 compatibility).
 */
import { createHash, randomBytes } from 'node:crypto';
import { httpRequest, lockSignal } from '../util/http';
import type { LoginAdapter } from './adapter';

export function parseChallenge(header: string): Record<string, string> | null {
  if (!/^digest\s/i.test(header)) return null;
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-z0-9_-]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/gi)) out[m[1].toLowerCase()] = m[2] ?? m[3];
  return out.nonce && out.realm !== undefined ? out : null;
}

/** The Authorization header for one attempt (RFC 7616 §3.4). */
export function digestAuthorization(
  ch: Record<string, string>,
  method: string,
  uri: string,
  username: string,
  password: string,
  cnonce = randomBytes(8).toString('hex'),
): string {
  const algorithm = (ch.algorithm ?? 'MD5').toUpperCase();
  const hashName = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  const H = (s: string): string => createHash(hashName).update(s).digest('hex');
  let ha1 = H(`${username}:${ch.realm}:${password}`);
  if (algorithm.endsWith('-SESS')) ha1 = H(`${ha1}:${ch.nonce}:${cnonce}`);
  const ha2 = H(`${method}:${uri}`);
  const qop = ch.qop
    ?.split(',')
    .map((q) => q.trim())
    .includes('auth')
    ? 'auth'
    : undefined;
  const nc = '00000001';
  const response = qop ? H(`${ha1}:${ch.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : H(`${ha1}:${ch.nonce}:${ha2}`);
  const parts = [
    `username="${username.replace(/"/g, '\\"')}"`,
    `realm="${ch.realm}"`,
    `nonce="${ch.nonce}"`,
    `uri="${uri}"`,
    `algorithm=${ch.algorithm ?? 'MD5'}`,
    `response="${response}"`,
  ];
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  if (ch.opaque !== undefined) parts.push(`opaque="${ch.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}

export const httpDigestLogin: LoginAdapter = {
  name: 'http-digest',
  async attempt(ctx, target, username, password) {
    const path = target.path ?? '/';
    try {
      const first = await httpRequest(ctx, { port: target.port, tls: target.tls, path, maxBytes: 4096 });
      const challenge = parseChallenge(String(first.headers['www-authenticate'] ?? ''));
      const firstLock = lockSignal(first);
      if (firstLock) return { kind: 'locked', ...firstLock };
      if (first.status !== 401 || !challenge) return { kind: 'error', detail: `no Digest challenge (HTTP ${first.status})` };
      const res = await httpRequest(ctx, {
        port: target.port,
        tls: target.tls,
        path,
        headers: { Authorization: digestAuthorization(challenge, 'GET', path, username, password) },
        maxBytes: 4096,
      });
      const lock = lockSignal(res);
      if (lock) return { kind: 'locked', ...lock };
      if (res.status >= 200 && res.status < 300) return { kind: 'accepted', detail: `HTTP ${res.status}` };
      if (res.status === 401 || res.status === 403) return { kind: 'rejected', detail: `HTTP ${res.status}` };
      return { kind: 'error', detail: `HTTP ${res.status}` };
    } catch (err) {
      return { kind: 'error', detail: (err as Error).message };
    }
  },
};
