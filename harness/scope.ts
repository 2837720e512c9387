/**
 * The one place that decides whether an address or serial path may be
 * contacted: only the device file's target and the addresses it resolves to.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { StarbenchError } from './errors';

function normalise(addr: string): string {
  const a = addr.replace(/^\[|\]$/g, '').toLowerCase();
  // IPv4-mapped IPv6 (::ffff:198.18.0.2) is the same host as 198.18.0.2.
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

export class ScopeGuard {
  readonly host: string;
  readonly serialPath: string | undefined;
  /** The bench power controller's URL (device file power.cycle): reachable for that one request and nothing else. */
  readonly powerUrl: string | undefined;
  private addresses: string[] = [];

  /** The declared IPv6 address (target.host6), when there is one. */
  readonly host6: string | undefined;

  constructor(target: { host: string; host6?: string; serial?: { path: string } }, power?: { cycle: { url: string } }) {
    this.host = target.host;
    this.host6 = target.host6 ? normalise(target.host6) : undefined;
    this.serialPath = target.serial?.path;
    this.powerUrl = power?.cycle.url;
    if (net.isIP(normalise(target.host))) this.addresses = [normalise(target.host)];
  }

  /** Resolve the target name once, before any probe runs. */
  async resolve(): Promise<string[]> {
    if (this.addresses.length > 0) return this.addresses;
    try {
      const found = await lookup(this.host, { all: true });
      this.addresses = [...new Set(found.map((f) => normalise(f.address)))];
    } catch (err) {
      throw new StarbenchError('TARGET_OUT_OF_SCOPE', `cannot resolve target.host ${this.host}: ${(err as Error).message}`, { cause: err });
    }
    return this.addresses;
  }

  /** The address probes connect to: a literal, so no later lookup can move it. */
  get address(): string {
    if (this.addresses.length === 0) throw new StarbenchError('INTERNAL', 'scope guard used before resolve()');
    return this.addresses[0];
  }

  allows(hostOrAddress: string): boolean {
    const h = normalise(hostOrAddress);
    return h === normalise(this.host) || this.addresses.includes(h) || (this.host6 !== undefined && h === this.host6);
  }

  assertHost(hostOrAddress: string, what = 'connection'): void {
    if (!this.allows(hostOrAddress)) {
      throw new StarbenchError('TARGET_OUT_OF_SCOPE', `refused ${what} to ${hostOrAddress}: outside the declared target ${this.host}`);
    }
  }

  assertUrl(url: string, what = 'request'): void {
    this.assertHost(new URL(url).hostname, what);
  }

  /** Only the declared power-cycle request goes to the power controller: the same URL, nothing else on that host. */
  assertPowerUrl(url: string): void {
    if (this.powerUrl === undefined || url !== this.powerUrl) {
      throw new StarbenchError(
        'TARGET_OUT_OF_SCOPE',
        `refused power request ${url}: the device file declares ${this.powerUrl ?? 'no power controller (power.cycle)'}`,
      );
    }
  }

  assertSerial(path: string): void {
    if (path !== this.serialPath) {
      throw new StarbenchError('TARGET_OUT_OF_SCOPE', `refused serial port ${path}: the device file declares ${this.serialPath ?? 'no serial port'}`);
    }
  }
}
