/**
 * One bounded TLS handshake over a connector socket (any version, any
 * cipher: this is about reaching the service, not judging it), and the
 * proof that a service admits no client without a certificate.
 */
import tls from 'node:tls';
import type { ProbeContext } from '../../harness/types';

const TLS_TIMEOUT_MS = 4000;

export type TlsOutcome = { kind: 'connected'; socket: tls.TLSSocket } | { kind: 'failed'; code: string; message: string };

/** One TLS handshake (optionally with a throwaway client certificate); a TLS 1.3 demand for a certificate arrives just after it. */
export function tlsConnect(ctx: ProbeContext, port: number, clientCert?: { cert: string | Buffer; key: string | Buffer }): Promise<TlsOutcome> {
  return ctx.connector.tcp(port, { signal: ctx.signal }).then(
    (raw) =>
      new Promise<TlsOutcome>((resolve) => {
        const s = tls.connect({ socket: raw, rejectUnauthorized: false, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0', ...(clientCert ?? {}) });
        let settled = false;
        const done = (o: TlsOutcome): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (o.kind === 'failed') raw.destroy();
          resolve(o);
        };
        const timer = setTimeout(() => {
          s.destroy();
          done({ kind: 'failed', code: 'TIMEOUT', message: `no TLS handshake within ${TLS_TIMEOUT_MS} ms` });
        }, TLS_TIMEOUT_MS);
        s.once('error', (err: Error & { code?: string }) => done({ kind: 'failed', code: err.code ?? 'ERROR', message: err.message }));
        s.once('secureConnect', () => {
          // TLS 1.3 servers send "certificate required" after the client's Finished: wait for it briefly.
          const grace = setTimeout(() => {
            s.removeAllListeners('error');
            s.on('error', () => undefined);
            done({ kind: 'connected', socket: s });
          }, 400);
          s.once('error', () => clearTimeout(grace));
          // A server that drops the connection right after the handshake refused this client (an untrusted certificate).
          s.once('close', () => {
            clearTimeout(grace);
            done({ kind: 'failed', code: 'CLOSED', message: 'the server closed the connection right after the handshake' });
          });
          s.write('');
        });
      }),
    (err: Error) => ({ kind: 'failed' as const, code: 'CONNECT', message: err.message }),
  );
}

export const CERT_DEMAND = /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNKNOWN_CA|peer did not return a certificate/i;

/**
 * Whether a TLS service admits nobody without a client certificate, with the
 * proof: refused without one (the alert), and — when the lab has one —
 * admitted with the lab's, so the refusal is about the certificate and not
 * a broken service. Without a lab certificate only TLS 1.3's explicit
 * "certificate required" alert proves it.
 */
export async function proveClientCertRequired(
  ctx: ProbeContext,
  port: number,
  labCert?: { cert: Buffer; key: Buffer },
): Promise<{ required: boolean; proven: boolean; detail: string }> {
  // Twice without a certificate: one stray alert (a rate limiter, a restart) is not a policy.
  let bare: TlsOutcome | undefined;
  for (let i = 0; i < 2; i++) {
    bare = await tlsConnect(ctx, port);
    if (bare.kind === 'connected') {
      bare.socket.destroy();
      return { required: false, proven: true, detail: 'the TLS handshake completes without a client certificate' };
    }
    if (!CERT_DEMAND.test(bare.code + bare.message)) return { required: false, proven: false, detail: `TLS without a client certificate: ${bare.message}` };
  }
  if (!bare || bare.kind === 'connected') return { required: false, proven: false, detail: 'no TLS answer' };
  if (labCert) {
    const withLab = await tlsConnect(ctx, port, labCert);
    if (withLab.kind === 'connected') {
      withLab.socket.destroy();
      return { required: true, proven: true, detail: `refused without a client certificate (${bare.code}), admitted with the lab's` };
    }
    return { required: false, proven: false, detail: `refused without a client certificate (${bare.code}) and with the lab's too (${withLab.code})` };
  }
  if (/CERTIFICATE_REQUIRED/i.test(bare.code + bare.message))
    return { required: true, proven: true, detail: `the server's alert: certificate required (${bare.code})` };
  return {
    required: false,
    proven: false,
    detail: `refused without a client certificate (${bare.code}); no lab certificate declared to show the service works with one`,
  };
}
