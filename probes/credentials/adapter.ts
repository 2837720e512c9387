/** One small adapter per login protocol, behind one interface. */
import type net from 'node:net';
import type { ProbeContext } from '../../harness/types';

export type AttemptOutcome =
  | { kind: 'accepted'; detail?: string }
  | { kind: 'rejected'; detail?: string }
  /** The service offers no password login at all (e.g. SSH publickey only): no password can be accepted. */
  | { kind: 'no-password-login'; detail: string }
  /** The device said it is locking or throttling logins (HTTP 429/423, Retry-After, "too many attempts"): this password was not judged. */
  | { kind: 'locked'; detail: string; retryAfterS?: number }
  /**
   * The server closed the connection after the password with neither a shell nor a refusal (busybox login
   * after its retries, many devices after one failure). A refusal only where the lab credential was seen
   * getting a session through the same adapter; otherwise unknown.
   */
  | { kind: 'hung-up'; detail: string }
  | { kind: 'error'; detail: string };

export interface LoginTarget {
  /** Adapter to use: ssh, telnet, http-basic, mqtt. */
  adapter: string;
  /** Protocol as declared or identified (ssh, telnet, http, https, mqtt, mqtts). */
  protocol: string;
  port: number;
  /** HTTP path for web logins. */
  path?: string;
  tls?: boolean;
  /** Where the target came from: a declaration or what the scan saw. */
  source: string;
  /** A declared HTML form login: how to post it, how success shows, and the lab account that proves the marker. */
  form?: {
    usernameField: string;
    passwordField: string;
    extraFields?: Record<string, string>;
    successText?: string;
    failureText?: string;
    successRedirect?: string;
    lab?: { username: string; password: string };
    /**
     * A discovered login (not declared): the protected page that redirected to it. Success is that page
     * opening with the session cookie the login set — what only a session can do.
     */
    protectedPath?: string;
  };
  /** The lab's TLS client certificate, for a service that requires one (MQTT over TLS). */
  clientCert?: { cert: Buffer; key: Buffer };
  /** A declared lockout: guessing stays under it. */
  lockout?: { after: number; seconds?: number; reset?: { username: string; password: string } };
}

export interface LoginAdapter {
  readonly name: string;
  attempt(ctx: ProbeContext, target: LoginTarget, username: string, password: string): Promise<AttemptOutcome>;
}

/**
 * How long to wait for a prompt or an answer: never less than `baseMs`, more on a device declared slow
 * to connect (limits.connectTimeoutMs), at most a minute — a late prompt is the device's, not a refusal.
 */
export function loginWaitMs(ctx: Pick<ProbeContext, 'device'>, baseMs: number): number {
  return Math.min(60_000, Math.max(baseMs, 3 * ctx.device.limits.connectTimeoutMs));
}

/** A connection for one attempt, or the error outcome that ends it (a refused or dropped connect is not a refused password). */
export async function connectForAttempt(ctx: ProbeContext, port: number): Promise<net.Socket | AttemptOutcome> {
  try {
    return await ctx.connector.tcp(port, { signal: ctx.signal });
  } catch (err) {
    return { kind: 'error', detail: (err as Error).message };
  }
}
