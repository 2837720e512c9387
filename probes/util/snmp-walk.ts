/**
 * SNMP without credentials: the community strings every agent ships with,
 * tried on the target, and a bounded walk of the system group and the
 * interfaces with net-snmp (BER, PDUs, GetBulk/GetNext walks). The scope guard
 * checks the address before the session is made, and the session holds a
 * connector slot while its socket is open.
 */
import snmp from 'net-snmp';
import type { ProbeContext } from '../../harness/types';

/** The lab's own community for an SNMP port (auth[] with protocol snmp, its credential's password), if declared. */
export function labCommunity(ctx: Pick<ProbeContext, 'device'>, port: number): string | undefined {
  const lab = ctx.device.auth.find((a) => a.port === port && a.protocol === 'snmp' && a.credential);
  return lab ? ctx.device.credentials[lab.credential!]?.password : undefined;
}

/** The universal defaults (SNMPv1/v2c, RFC 1157 §3.2.5 practice): read-only "public", read-write "private". */
export const DEFAULT_COMMUNITIES = ['public', 'private'] as const;
/** system (1.3.6.1.2.1.1) and interfaces (1.3.6.1.2.1.2), MIB-II (RFC 1213). */
export const WALKED = ['1.3.6.1.2.1.1', '1.3.6.1.2.1.2'] as const;
export const SNMP_LIMITS = { objects: 300, seconds: 10, timeoutMs: 1500, retries: 1 };

export interface SnmpWalk {
  community: string;
  version: 'v1' | 'v2c';
  /** "oid = value", values as text (octet strings as Latin-1). */
  objects: string[];
  /** Why the walk stopped before the end of a subtree. */
  incomplete: string[];
}

export type SnmpAsk = { answered: true; walk: SnmpWalk } | { answered: false; why: string };

function valueText(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (v === null || v === undefined) return '';
  return String(v);
}

/** One request with one community: the first answer (a value or an SNMP error), or why there was none. */
function getOne(session: snmp.Session, oid: string): Promise<{ ok: true; value: string } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    session.get([oid], (err, varbinds) => {
      // A reply with an error status (noSuchName from an agent whose view leaves this object out) is still an
      // answer: the community was accepted. Only no reply at all is silence.
      if (err)
        return resolve((err as Error).name === 'RequestFailedError' ? { ok: true, value: (err as Error).message } : { ok: false, why: (err as Error).message });
      const vb = varbinds?.[0];
      if (!vb || snmp.isVarbindError(vb)) return resolve({ ok: true, value: vb ? snmp.varbindError(vb) : '' });
      resolve({ ok: true, value: valueText(vb.value) });
    });
  });
}

/** Numeric OID order (RFC 3416 §4.2.2: GetNext/GetBulk must move strictly forward). */
function oidAfter(a: string, b: string): boolean {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] > y[i];
  return x.length > y.length;
}

/**
 * Walk one subtree, bounded in objects and in requests. An agent that answers
 * an exception (noSuchObject, endOfMibView) or an OID that does not move
 * forward ends the walk: walkers that trust the agent loop forever on that.
 */
function walkTree(session: snmp.Session, oid: string, room: number, out: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    let taken = 0;
    let requests = 0;
    let last = oid;
    let stopped: string | null = null;
    session.subtree(
      oid,
      20,
      (varbinds) => {
        requests += 1;
        for (const vb of varbinds) {
          if (snmp.isVarbindError(vb)) return true;
          if (!oidAfter(vb.oid, last)) {
            stopped = `the agent answered ${vb.oid} after ${last}, not moving forward: walk stopped`;
            return true;
          }
          last = vb.oid;
          if (taken >= room) {
            stopped = `more than ${room} objects under ${oid}: the rest not read`;
            return true;
          }
          out.push(`${vb.oid} = ${valueText(vb.value).slice(0, 512)}`);
          taken += 1;
        }
        if (requests >= 50) stopped = `50 requests under ${oid}: the rest not read`;
        return stopped !== null;
      },
      (err) => resolve(err ? (err as Error).message : stopped),
    );
  });
}

/**
 * Ask `port` with each community (SNMPv2c, then v1); with the first one
 * answered, walk WALKED within SNMP_LIMITS. A community an agent does not
 * know is dropped silently by the protocol, so silence says only that none
 * of these was answered.
 */
export async function askSnmp(
  ctx: ProbeContext,
  port: number,
  communities: readonly string[],
  opts: { versions?: ReadonlyArray<0 | 1>; limits?: typeof SNMP_LIMITS } = {},
): Promise<SnmpAsk> {
  const limits = opts.limits ?? SNMP_LIMITS;
  const address = ctx.connector.host;
  ctx.scope.assertHost(address);
  const pairs = communities.flatMap((community) => (opts.versions ?? [snmp.Version2c, snmp.Version1]).map((version) => ({ community, version })));
  // Every (community, version) asked side by side, each session holding a connector slot while its socket is open:
  // silence costs one timeout, not one per pair. The first answered in the order given is the one walked.
  const answers = await Promise.all(
    pairs.map(async ({ community, version }) => {
      const release = await ctx.connector.slots.acquire(ctx.signal, `udp/${port}`);
      const session = open(address, port, community, version, limits);
      const stop = (): void => session.stop();
      ctx.signal.addEventListener('abort', stop, { once: true });
      try {
        return await getOne(session.s, '1.3.6.1.2.1.1.1.0');
      } finally {
        ctx.signal.removeEventListener('abort', stop);
        session.stop();
        release();
      }
    }),
  );
  const i = answers.findIndex((a) => a.ok);
  if (i < 0 || ctx.signal.aborted)
    return {
      answered: false,
      why: ctx.signal.aborted
        ? 'aborted'
        : pairs.map((p, n) => `${versionName(p.version)} "${p.community}": ${(answers[n] as { why: string }).why}`).join('; '),
    };
  const { community, version } = pairs[i];
  const walk: SnmpWalk = { community, version: versionName(version), objects: [], incomplete: [] };
  const release = await ctx.connector.slots.acquire(ctx.signal, `udp/${port}`);
  const session = open(address, port, community, version, limits);
  const stop = (): void => session.stop();
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    const deadline = Date.now() + limits.seconds * 1000;
    for (const oid of WALKED) {
      const left = deadline - Date.now();
      if (left <= 0) {
        walk.incomplete.push(`${oid}: not walked (${limits.seconds} s passed)`);
        continue;
      }
      const timer = setTimeout(stop, left);
      const why = await walkTree(session.s, oid, limits.objects - walk.objects.length, walk.objects);
      clearTimeout(timer);
      if (why) walk.incomplete.push(`${oid}: ${why}`);
    }
    return { answered: true, walk };
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    session.stop();
    release();
  }
}

const versionName = (v: 0 | 1): 'v1' | 'v2c' => (v === snmp.Version2c ? 'v2c' : 'v1');

/** A session to the target; `stop` closes it once (closing twice throws "Not running"). */
function open(address: string, port: number, community: string, version: 0 | 1, limits: typeof SNMP_LIMITS): { s: snmp.Session; stop(): void } {
  const s = snmp.createSession(address, community, {
    port,
    version,
    timeout: limits.timeoutMs,
    retries: limits.retries,
    transport: address.includes(':') ? 'udp6' : 'udp4',
  });
  s.on('error', () => undefined);
  let closed = false;
  return {
    s,
    stop() {
      if (closed) return;
      closed = true;
      try {
        s.close();
      } catch {
        // already closed by the library
      }
    },
  };
}
