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
