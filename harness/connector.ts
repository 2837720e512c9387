/**
 * Every network connection to the device goes through here: the scope guard
 * picks the address, the semaphore caps parallel connections (IoT devices fall
 * over under parallel load) and shares them fairly between the device's
 * services (harness/limiter.ts), and a connect timeout bounds each attempt.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { ScopeGuard } from './scope';
import { Semaphore } from './limiter';

export type ConnectFailure = 'refused' | 'timeout' | 'unreachable' | 'reset' | 'aborted' | 'other';

export class ConnectError extends Error {
  constructor(
    readonly kind: ConnectFailure,
    readonly port: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectError';
  }
}

function classify(err: NodeJS.ErrnoException): ConnectFailure {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EINVAL':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    default:
      return 'other';
  }
}

/**
 * How long a closed connection keeps its slot while we wait for the device to
 * close its side: a device counts a connection until it has seen our FIN, so
 * releasing at once would let it hold one more than the limit. Bounded because
 * a hostile device may never answer.
 */
export const CLOSE_GRACE_MS = 200;

/** Make destroy() polite: FIN first, then wait (bounded) for the device's FIN before the socket (and its slot) goes. */
function closeGracefully(sock: net.Socket): void {
  const hardDestroy = sock.destroy.bind(sock);
  let closing = false;
  sock.destroy = ((err?: Error) => {
    if (err || closing || sock.destroyed || sock.connecting) return hardDestroy(err);
    // Already half-closed by a library (ssh2 ends before it destroys) or by the peer: still wait for both sides.
    if (sock.readableEnded) return hardDestroy();
    closing = true;
    const timer = setTimeout(() => hardDestroy(), CLOSE_GRACE_MS);
    sock.once('close', () => clearTimeout(timer));
    sock.once('end', () => hardDestroy());
    sock.removeAllListeners('data');
    sock.on('data', () => undefined);
    sock.resume();
    if (!sock.writableEnded) sock.end();
    return sock;
  }) as typeof sock.destroy;
}

export interface ConnectOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** 6: the declared target.host6; 4: the target's address. Default: 6 for a port seen only on IPv6, else the target's address. */
  family?: 4 | 6;
}

export class DeviceConnector {
  readonly slots: Semaphore;
  /** Connections opened (shared with the family views). */
  private readonly counters = { opened: 0 };
  private live = new Set<net.Socket>();
  /** The family this view connects on by default (forFamily). */
  private family: 4 | 6 | undefined;
  /** Ports the scan found open on target.host6 only: every probe reaches them there. */
  private readonly ipv6Only = new Set<number>();

  constructor(
    readonly scope: ScopeGuard,
    limit: number,
    readonly connectTimeoutMs: number,
    /** A fleet's cap on connections across all devices, on top of this device's own limit. */
    global?: Semaphore,
  ) {
    this.slots = new Semaphore(limit, global);
  }

  get host(): string {
    return this.scope.address;
  }

  get opened(): number {
    return this.counters.opened;
  }

  /** The same connector (slots, limits, live connections), connecting on one family by default: to ask a port on IPv6 too. */
  forFamily(family: 4 | 6): DeviceConnector {
    const view = Object.create(this) as DeviceConnector;
    view.family = family;
    return view;
  }

  /** The scan saw `port` open on IPv6 only: connections to it go to target.host6. */
  onlyOnIpv6(port: number): void {
    this.ipv6Only.add(port);
  }

  /** The address a connection to `port` goes to. */
  addressFor(port: number, asked?: 4 | 6): string {
    const family = asked ?? this.family;
    if (family === 6 || (family === undefined && this.ipv6Only.has(port))) {
      if (!this.scope.host6) throw new ConnectError('unreachable', port, 'no target.host6 declared');
      return this.scope.host6;
    }
    return this.scope.address;
  }

  /** A connected TCP socket to the target; its slot is freed when it closes. */
  async tcp(port: number, opts: ConnectOptions = {}): Promise<net.Socket> {
    const address = this.addressFor(port, opts.family);
    this.scope.assertHost(address);
    const release = await this.slots.acquire(opts.signal, `tcp/${port}`);
    const timeoutMs = opts.timeoutMs ?? this.connectTimeoutMs;
    return new Promise<net.Socket>((resolve, reject) => {
      const sock = net.connect({ host: address, port });
      this.counters.opened += 1;
      this.live.add(sock);
      sock.once('close', () => {
        this.live.delete(sock);
        release();
      });
      let settled = false;
      const fail = (kind: ConnectFailure, message: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        cleanup();
        sock.destroy();
        reject(new ConnectError(kind, port, message, { cause }));
      };
      const timer = setTimeout(() => fail('timeout', `connect to ${address}:${port} timed out after ${timeoutMs} ms`), timeoutMs);
      const onAbort = (): void => fail('aborted', `connect to ${address}:${port} aborted`);
      const onError = (err: NodeJS.ErrnoException): void => fail(classify(err), `connect to ${address}:${port}: ${err.code ?? err.message}`, err);
      const cleanup = (): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        sock.off('error', onError);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      sock.once('error', onError);
      sock.once('connect', () => {
        if (settled) return;
        if (sock.remoteAddress && !this.scope.allows(sock.remoteAddress)) {
          fail('other', `connected to ${sock.remoteAddress}, outside the declared target`);
          return;
        }
        settled = true;
        cleanup();
        // Callers attach their own handlers; an unhandled late error must not crash the run.
        sock.on('error', () => undefined);
        closeGracefully(sock);
        resolve(sock);
      });
    });
  }

  /**
   * The scanner's question, as cheaply as Node allows (a port scan makes tens
   * of thousands of these): no error objects, and an open port is reset at
   * once rather than closed politely, as nmap -sT does.
   */
  async portState(port: number, opts: ConnectOptions = {}): Promise<'open' | 'closed' | 'filtered' | 'unreachable'> {
    const address = this.addressFor(port, opts.family);
    this.scope.assertHost(address);
    const release = await this.slots.acquire(opts.signal, `tcp/${port}`);
    this.counters.opened += 1;
    return new Promise((resolve) => {
      const sock = net.connect({ host: address, port });
      const done = (state: 'open' | 'closed' | 'filtered' | 'unreachable'): void => {
        clearTimeout(timer);
        sock.removeAllListeners();
        sock.on('error', () => undefined);
        resolve(state);
        if (state !== 'open') {
          sock.destroy();
          release();
          return;
        }
        // An open port is a connection the device accepted: keep the slot until it has let go (as in tcp()).
        sock.once('close', release);
        closeGracefully(sock);
        sock.destroy();
      };
      const timer = setTimeout(() => done('filtered'), opts.timeoutMs ?? this.connectTimeoutMs);
      sock.once('connect', () => done(sock.remoteAddress && !this.scope.allows(sock.remoteAddress) ? 'unreachable' : 'open'));
      sock.once('error', (err: NodeJS.ErrnoException) => {
        const kind = classify(err);
        done(kind === 'refused' || kind === 'reset' ? 'closed' : kind === 'timeout' ? 'filtered' : 'unreachable');
      });
    });
  }

  /**
   * Send one datagram and wait for the first answer (capped). `closed` means
   * the device said so with ICMP port unreachable; `silent` means no answer
   * at all, which UDP cannot tell from a filter.
   */
  async udp(
    port: number,
    payload: Buffer,
    opts: ConnectOptions & { maxBytes?: number } = {},
  ): Promise<{ kind: 'answer'; data: Buffer } | { kind: 'closed' | 'silent' | 'unreachable' }> {
    // UDP has no scan of its own per family: the view's or the asked family, else the target's address.
    const family = opts.family ?? this.family;
    if (family === 6 && !this.scope.host6) throw new ConnectError('unreachable', port, 'no target.host6 declared');
    const address = family === 6 ? this.scope.host6! : this.scope.address;
    this.scope.assertHost(address);
    const release = await this.slots.acquire(opts.signal, `udp/${port}`);
    const sock = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    this.counters.opened += 1;
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ kind: 'silent' }), opts.timeoutMs ?? 1500);
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(new ConnectError('aborted', port, `UDP ${port} aborted`));
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        sock.on('message', (msg, rinfo) => {
          // Only the target's own answer counts (a connected socket already filters; belt and braces).
          if (!this.scope.allows(rinfo.address)) return;
          clearTimeout(timer);
          resolve({ kind: 'answer', data: msg.subarray(0, opts.maxBytes ?? 4096) });
        });
        const onError = (err: NodeJS.ErrnoException): void => {
          clearTimeout(timer);
          if (err.code === 'ECONNREFUSED') resolve({ kind: 'closed' });
          else if (classify(err) === 'unreachable') resolve({ kind: 'unreachable' });
          else reject(new ConnectError(classify(err), port, `UDP ${port}: ${err.code ?? err.message}`, { cause: err }));
        };
        sock.on('error', onError);
        // dgram calls back even when connect failed (no route): sending then would throw.
        sock.connect(port, address, (err?: Error) => {
          if (err) return onError(err as NodeJS.ErrnoException);
          sock.send(payload, (e) => e && onError(e as NodeJS.ErrnoException));
        });
      });
    } finally {
      sock.close();
      release();
    }
  }

  /** Teardown: close every connection a probe left open (after a timeout, say). */
  destroyAll(): number {
    const n = this.live.size;
    for (const s of this.live) s.destroy();
    return n;
  }
}
