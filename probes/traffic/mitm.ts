/**
 * The man-in-the-middle test (comms.certificate-validation, opt-in): the
 * bench answers the TLS connections the device itself opens with a
 * certificate for the name it asked, issued by a CA made for this run that
 * nothing trusts. nftables DNAT rules in the bench's own namespace, for the
 * device's address and the destinations it was seen using only, bring its
 * connections to the responder, which listens on the bench interface's
 * address, answers only the device, and never opens a connection itself.
 * The rules are created by the run and removed when it ends (and by
 * `resume`, from the run folder's note of them).
 */
import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import forge from 'node-forge';
import { canaryForms } from '../util/canaries';
import { alertName, MIN_NEEDLE } from './dissect';
import { REDIRECT_NOTE, type TrafficMitm } from '../../harness/traffic';

/** After a handshake, how long the device is given to send application data (a client that speaks a few seconds late). */
const DATA_WAIT_MS = 5000;
const DATA_KEPT = 64 * 1024;
const MAX_ATTEMPTS = 200;
const HANDSHAKE_MS = 15_000;

export interface MitmTarget {
  address: string;
  port: number;
  names: string[];
}

export interface MitmOptions {
  nft: string;
  iface: string;
  bench: string;
  device: string[];
  targets: MitmTarget[];
  seconds: number;
  personalData: Record<string, string>;
  signal: AbortSignal;
  runDir?: string;
  tag: string;
  /** Run once the redirect is in place (a restart, so that the device opens its connections anew). */
  afterRules?: () => Promise<void>;
}

function runNft(nft: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(nft, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`nft ${args.join(' ')}: ${(stderr || err.message).trim().split('\n')[0]}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Remove a redirect table left by a run that died (resume, or the next run in the same folder). Returns what it did. */
export function removeLeftoverRedirect(runDir: string, nft?: string): string | undefined {
  const note = path.join(runDir, REDIRECT_NOTE);
  if (!existsSync(note)) return undefined;
  let table = '';
  try {
    table = String((JSON.parse(readFileSync(note, 'utf8')) as { table?: unknown }).table ?? '');
  } catch {
    /* an unreadable note: nothing named to remove */
  }
  if (!/^starbench_[a-z0-9_]+$/.test(table)) return `${REDIRECT_NOTE} names no starbench table; left as it is`;
  if (!nft) return `the redirect table ${table} may still be in place: nft is not installed to remove it`;
  try {
    execFileSync(nft, ['delete', 'table', 'ip', table], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    /* already gone */
  }
  rmSync(note, { force: true });
  return `removed the redirect table ${table} a previous run left`;
}

interface Ca {
  key: forge.pki.rsa.PrivateKey;
  cert: forge.pki.Certificate;
  leafKeyPem: string;
  leafPublic: forge.pki.rsa.PublicKey;
}

function makeCa(tag: string): Ca {
  const ca = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const leaf = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(ca.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(ca.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 86400_000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 86400_000);
  const attrs = [
    { name: 'commonName', value: `starbench MITM test CA ${tag}` },
    { name: 'organizationName', value: 'starbench (untrusted test CA)' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return {
    key,
    cert,
    leafKeyPem: leaf.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    leafPublic: forge.pki.publicKeyFromPem(leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey,
  };
}

/** A certificate for the name the device asked (or the address it dialled), valid in time, issued by the test CA. */
function leafFor(ca: Ca, name: string): tls.SecureContext {
  const cert = forge.pki.createCertificate();
  cert.publicKey = ca.leafPublic;
  cert.serialNumber = '02' + randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 86400_000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: name.slice(0, 64) }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'subjectAltName', altNames: [net.isIP(name) ? { type: 7, ip: name } : { type: 2, value: name }] },
    { name: 'extKeyUsage', serverAuth: true },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return tls.createSecureContext({ key: ca.leafKeyPem, cert: forge.pki.certificateToPem(cert) + forge.pki.certificateToPem(ca.cert) });
}

type Attempt = TrafficMitm['attempts'][number];

/** What a handshake error says the client did: an alert (its description), or a close without one. */
function classify(err: Error & { code?: string }): { outcome: Attempt['outcome']; detail: string } {
  const text = `${err.code ?? ''} ${err.message}`;
  const n = /alert number (\d+)/i.exec(text);
  if (n) return { outcome: 'alert', detail: `TLS alert ${alertName(Number(n[1]))} (${n[1]})` };
  const c = /ALERT_([A-Z_]+)/.exec(err.code ?? '') ?? /alert ([a-z ]+?)(?::|$)/i.exec(err.message);
  if (c) return { outcome: 'alert', detail: `TLS alert ${c[1].toLowerCase().replace(/ /g, '_')}` };
  if (/ECONNRESET|socket disconnected|socket hang up|EPIPE|ended by the other party/i.test(text))
    return { outcome: 'closed', detail: `closed without a TLS alert (${err.code ?? err.message.slice(0, 80)})` };
  return { outcome: 'error', detail: err.message.slice(0, 200) };
}

/**
 * Redirect, answer, record, remove. Never throws for the device's behaviour; returns the fact (with `error` when the
 * bench could not do the test).
 */
export async function runMitm(o: MitmOptions): Promise<TrafficMitm> {
  const fact: TrafficMitm = {
    interface: o.iface,
    responder: o.bench,
    seconds: o.seconds,
    rules: [],
    removed: true,
    targets: o.targets,
    attempts: [],
    alertsInCapture: [],
  };
  const devices = new Set(o.device.map((a) => a.toLowerCase()));
  const v4 = o.targets.filter((t) => net.isIPv4(t.address));
  if (v4.length === 0) {
    fact.error = 'no IPv4 TLS destination to redirect (IPv6 destinations are not redirected)';
    return fact;
  }
  if (!net.isIPv4(o.bench)) {
    fact.error = `the bench interface ${o.iface} has no IPv4 address to answer on`;
    return fact;
  }
  const devV4 = o.device.filter((a) => net.isIPv4(a));
  if (devV4.length === 0) {
    fact.error = 'the device has no IPv4 address to redirect';
    return fact;
  }
  const ca = makeCa(o.tag);
  const contexts = new Map<string, tls.SecureContext>();
  const context = (name: string): tls.SecureContext => {
    let c = contexts.get(name);
    if (!c) {
      c = leafFor(ca, name);
      contexts.set(name, c);
    }
    return c;
  };
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const pending: Array<Promise<void>> = [];
  const table = `starbench_${o.tag
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 24)}`;
  const cleanupSync = (): void => {
    try {
      execFileSync(o.nft, ['delete', 'table', 'ip', table], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      /* gone already */
    }
  };
  let rulesIn = false;
  /** The window is over: what the bench tears down from here on is not the device's doing. */
  let stopped = false;
  try {
    const rules: string[] = [];
    for (const t of v4) {
      const fallback = t.names[0] ?? t.address;
      const target = `${t.address}:${t.port}`;
      // A plain TCP server, each device connection wrapped in a server-side TLSSocket here: the raw socket (and so who
      // it came from) and its TLS outcome stay in one place, even when the device's alert tears the socket down first.
      const server = net.createServer((raw: net.Socket) => {
        const from = (raw.remoteAddress ?? '').replace(/^::ffff:/, '').toLowerCase();
        // Only the device's own connections; anything else is dropped unanswered.
        if (!devices.has(from) || fact.attempts.length >= MAX_ATTEMPTS) {
          raw.destroy();
          return;
        }
        sockets.add(raw);
        raw.on('error', () => undefined);
        const sock = new tls.TLSSocket(raw, {
          isServer: true,
          secureContext: context(fallback),
          SNICallback: (name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => cb(null, context(name.toLowerCase())),
        });
        let settled = false;
        const handshake = setTimeout(() => fail(new Error('no TLS handshake within 15 s')), HANDSHAKE_MS);
        const fail = (err: Error & { code?: string }): void => {
          // A handshake still going when the window closed was cut by the bench, not refused by the device: not an attempt.
          if (settled || stopped) return;
          settled = true;
          clearTimeout(handshake);
          fact.attempts.push({ target, sni: sock.servername || undefined, ...classify(err), appBytes: 0, categories: [], at: new Date().toISOString() });
          sock.destroy();
        };
        sock.on('error', fail);
        // Closed before the handshake finished, with no error reported: a close without an alert.
        sock.once('close', () => fail(Object.assign(new Error('socket disconnected before the handshake'), { code: 'ECONNRESET' })));
        sock.once('secure', () => {
          if (settled) return;
          settled = true;
          clearTimeout(handshake);
          const chunks: Buffer[] = [];
          let n = 0;
          const done = new Promise<void>((resolve) => {
            let finished = false;
            const finish = (): void => {
              if (finished) return;
              finished = true;
              clearTimeout(timer);
              const data = Buffer.concat(chunks).toString('latin1');
              const categories = Object.entries(o.personalData)
                .filter(([, v]) => v.length >= MIN_NEEDLE && canaryForms(v).some((f) => data.includes(f)))
                .map(([k]) => k);
              fact.attempts.push({
                target,
                sni: sock.servername || undefined,
                outcome: n > 0 ? 'application-data' : 'handshake-only',
                detail:
                  n > 0
                    ? `handshake completed with the untrusted certificate, then ${n} byte(s) of application data (${sock.getProtocol() ?? 'TLS'})`
                    : `handshake completed with the untrusted certificate (${sock.getProtocol() ?? 'TLS'}); no application data within ${DATA_WAIT_MS / 1000} s`,
                appBytes: n,
                categories,
                at: new Date().toISOString(),
              });
              sock.destroy();
              resolve();
            };
            const timer = setTimeout(finish, DATA_WAIT_MS);
            sock.on('data', (c: Buffer) => {
              if (n < DATA_KEPT) chunks.push(c.subarray(0, DATA_KEPT - n));
              n += c.length;
              // Keep reading a moment for the rest of a request, then stop: the answer is never the cloud's.
              if (n >= DATA_KEPT) finish();
            });
            sock.once('close', finish);
          });
          pending.push(done);
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, o.bench, () => resolve());
      });
      servers.push(server);
      const port = (server.address() as net.AddressInfo).port;
      for (const d of devV4) rules.push(`iifname "${o.iface}" ip saddr ${d} ip daddr ${t.address} tcp dport ${t.port} dnat to ${o.bench}:${port}`);
    }
    if (o.runDir) writeFileSync(path.join(o.runDir, REDIRECT_NOTE), JSON.stringify({ table, interface: o.iface, rules }, null, 2) + '\n');
    process.once('exit', cleanupSync);
    const script = [
      `add table ip ${table}`,
      `add chain ip ${table} sb_redirect { type nat hook prerouting priority dstnat; policy accept; }`,
      ...rules.map((r) => `add rule ip ${table} sb_redirect ${r}`),
    ].join('\n');
    rulesIn = true;
    await runNft(o.nft, ['-f', '-'], script + '\n');
    fact.rules = rules.map((r) => `table ip ${table} prerouting: ${r}`);
    const started = Date.now();
    await o.afterRules?.();
    // The window: the device's own connections arrive, or not.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(0, o.seconds * 1000 - (Date.now() - started)));
      o.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  } catch (err) {
    fact.error = (err as Error).message;
  } finally {
    if (rulesIn) {
      try {
        await runNft(o.nft, ['delete', 'table', 'ip', table]);
      } catch {
        /* checked below */
      }
      try {
        await runNft(o.nft, ['list', 'table', 'ip', table]);
        fact.removed = false;
      } catch {
        fact.removed = true;
        if (o.runDir) rmSync(path.join(o.runDir, REDIRECT_NOTE), { force: true });
      }
      process.removeListener('exit', cleanupSync);
    }
    // Connections in their data wait finish; then every socket and server goes.
    await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, DATA_WAIT_MS + 1000))]);
    stopped = true;
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  return fact;
}
