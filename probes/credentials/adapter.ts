/** One small adapter per login protocol, behind one interface. */
import type { ProbeContext } from '../../harness/types';

export type AttemptOutcome =
  | { kind: 'accepted'; detail?: string }
  | { kind: 'rejected'; detail?: string }
  | { kind: 'error'; detail: string };

export interface LoginTarget {
  protocol: string;
  port: number;
  /** HTTP path for web logins. */
  path?: string;
  tls?: boolean;
  scheme: string;
  /** Where the target came from: a declaration or what the scan saw. */
  source: string;
  /** Stop before this many failures (one under the declared lockout). */
  maxAttempts?: number;
}

export interface LoginAdapter {
  readonly protocol: string;
  attempt(ctx: ProbeContext, target: LoginTarget, username: string, password: string): Promise<AttemptOutcome>;
}
