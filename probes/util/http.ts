/**
 * One bounded HTTP(S) request over a connector socket: the scope guard and
 * the connection limit apply, the body is capped, and everything has a timeout.
 */
import http from 'node:http';
import tls from 'node:tls';
import type { ProbeContext } from '../../harness/types';

export interface HttpRequest {
  port: number;
  tls?: boolean;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  /** Body bytes kept; the rest is read and dropped (a device may send megabytes). */
  maxBytes?: number;
  /** A TLS client certificate and its key (PEM), for a device that requires one. */
  clientCert?: { cert: Buffer; key: Buffer };
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
  elapsedMs: number;
}

/** A host as it goes in a URL: an IPv6 literal in brackets (RFC 3986 §3.2.2). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The Authorization header of HTTP Basic (RFC 7617). */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export async function httpRequest(ctx: Pick<ProbeContext, 'connector' | 'signal'>, req: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = req.timeoutMs ?? 5000;
  const maxBytes = req.maxBytes ?? 64 * 1024;
  const started = Date.now();
  const raw = await ctx.connector.tcp(req.port, { signal: ctx.signal });
  const sock = req.tls
    ? tls.connect({ socket: raw, rejectUnauthorized: false, ...(req.clientCert ? { cert: req.clientCert.cert, key: req.clientCert.key } : {}) })
    : raw;
  return new Promise<HttpResponse>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, res?: HttpResponse): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      sock.destroy();
      raw.destroy();
      if (err) reject(err);
      else resolve(res as HttpResponse);
    };
    const onAbort = (): void => finish(new Error('aborted'));
    const timer = setTimeout(
      () => finish(new Error(`HTTP ${req.method ?? 'GET'} ${req.path ?? '/'} on port ${req.port} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => finish(err));
    const headers: Record<string, string | number> = { Host: ctx.connector.host, Connection: 'close', 'User-Agent': 'starbench', ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
    // No `agent`: Node uses `createConnection` only when no agent is given, and
    // our socket is the only one allowed (scope guard, connection limit).
    const r = http.request({ method: req.method ?? 'GET', path: req.path ?? '/', headers, createConnection: () => sock });
    r.on('error', (err) => finish(err));
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      res.on('data', (c: Buffer) => {
        if (kept < maxBytes) {
          const part = c.subarray(0, maxBytes - kept);
          chunks.push(part);
          kept += part.length;
        }
        if (kept >= maxBytes) {
          truncated = true;
          // Enough: stop reading rather than drain a device that never stops.
          finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated, elapsedMs: Date.now() - started });
        }
      });
      res.on('end', () =>
        finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated, elapsedMs: Date.now() - started }),
      );
      res.on('error', (err) => finish(err));
    });
    r.end(req.body);
  });
}

/** Words devices use when they lock an account or throttle logins. */
export const LOCK_TEXT =
  /\b(locked|lock-?out|too many (failed |login |wrong )?(attempts|tries|requests|failures)|try again (in|later|after)|temporarily (blocked|disabled|unavailable))\b/i;

/** Retry-After (RFC 9110 §10.2.3): seconds, or an HTTP date. */
export function retryAfterSeconds(value: unknown, now = Date.now()): number | undefined {
  const v = String(Array.isArray(value) ? value[0] : (value ?? '')).trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v), 86400);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.min(86400, Math.round((at - now) / 1000)));
}

/**
 * Whether an HTTP answer says the device is locking or throttling logins:
 * 429 and 423 always; 503 with Retry-After or lock words; a 401/403 whose
 * body says so. `bodyCounts` also reads lock words in a 2xx body (a form
 * login's answer page, never an ordinary page: a smart lock's status says
 * "locked").
 */
export function lockSignal(res: Pick<HttpResponse, 'status' | 'headers' | 'body'>, bodyCounts = false): { detail: string; retryAfterS?: number } | null {
  const retryAfterS = retryAfterSeconds(res.headers['retry-after']);
  const text = res.body.toString('latin1').slice(0, 4096);
  const words = LOCK_TEXT.exec(text)?.[0];
  const ra = retryAfterS !== undefined ? `, Retry-After ${retryAfterS} s` : '';
  if (res.status === 429 || res.status === 423) return { detail: `HTTP ${res.status}${ra}${words ? ` ("${words}")` : ''}`, retryAfterS };
  if (res.status === 503 && (retryAfterS !== undefined || words)) return { detail: `HTTP 503${ra}${words ? ` ("${words}")` : ''}`, retryAfterS };
  if ((res.status === 401 || res.status === 403 || (bodyCounts && res.status < 400)) && words)
    return { detail: `HTTP ${res.status} "${words}"${ra}`, retryAfterS };
  return null;
}
