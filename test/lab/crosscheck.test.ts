/**
 * Our probes against the tools labs use today, on every lab port:
 * the TLS probe against sslscan (same accepted versions; every weak suite
 * sslscan finds, we find), the SSH probe against ssh-audit (same kex, host
 * key, cipher and MAC lists; same key sizes).
 */
import { execFileSync } from 'node:child_process';
import { XMLParser } from 'fast-xml-parser';
import { loadDeviceFile } from '../../harness/device-file/load';
import { probeSshService } from '../../probes/ssh';
import { probeTlsService } from '../../probes/tls';
import { TLS_VERSIONS, type TlsVersion } from '../../probes/tls/hello';
import { SUITES, weakness } from '../../probes/tls/suites';
import { probeContext } from '../../cli/standalone';
import { labDevice } from './lab-state';

const SSLSCAN_VERSION: Record<string, TlsVersion> = { 'ssl/3': 'SSLv3', 'tls/1.0': 'TLSv1', 'tls/1.1': 'TLSv1.1', 'tls/1.2': 'TLSv1.2', 'tls/1.3': 'TLSv1.3' };

function sslscan(address: string, port: number): { versions: Set<TlsVersion>; weak: Set<string> } {
  const xml = execFileSync('sslscan', ['--no-colour', '--no-heartbleed', '--xml=-', `${address}:${port}`], { encoding: 'utf8', timeout: 120_000 });
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
  const test = doc.document.ssltest;
  const versions = new Set<TlsVersion>();
  for (const p of [test.protocol].flat())
    if (p.enabled === '1' && SSLSCAN_VERSION[`${p.type}/${p.version}`]) versions.add(SSLSCAN_VERSION[`${p.type}/${p.version}`]);
  const weak = new Set<string>();
  for (const c of [test.cipher ?? []].flat()) {
    const code = parseInt(c.id, 16);
    if (SUITES.some((s) => s.code === code) && weakness(code))
      weak.add(`${c.sslversion === 'TLSv1.0' ? 'TLSv1' : c.sslversion}/${SUITES.find((s) => s.code === code)!.name}`);
  }
  return { versions, weak };
}

const PORTS: Array<['weak' | 'strong' | 'mixed', number]> = [
  ['weak', 443],
  ['strong', 443],
  ['strong', 8883],
  ['mixed', 443],
  ['mixed', 8883],
];

describe('TLS probe vs sslscan', () => {
  it.each(PORTS)(
    '%s:%i — same versions, every weak suite found',
    async (name, port) => {
      const d = labDevice(name);
      const ctx = await probeContext(loadDeviceFile(d.deviceFile));
      const ours = await probeTlsService(ctx, port);
      const theirs = sslscan(d.address, port);
      const ourVersions = new Set(TLS_VERSIONS.filter((v) => ours.versions[v].accepted));
      expect([...ourVersions].sort()).toEqual([...theirs.versions].sort());
      const ourWeak = new Set(ours.weakSuites.map((w) => `${w.version}/${w.suite}`));
      const missed = [...theirs.weak].filter((w) => !ourWeak.has(w));
      expect(missed).toEqual([]);
      if (name === 'weak') expect(theirs.weak.size).toBeGreaterThan(0);
    },
    150_000,
  );
});

interface SshAudit {
  banner: { raw: string };
  kex: Array<{ algorithm: string }>;
  key: Array<{ algorithm: string; keysize?: number }>;
  enc: string[];
  mac: string[];
}

function sshAudit(address: string, port: number): SshAudit {
  // ssh-audit prints its JSON on the first line (and exits non-zero when it finds problems).
  let out: string;
  try {
    out = execFileSync('ssh-audit', ['-j', '-p', String(port), address], { encoding: 'utf8', timeout: 60_000 });
  } catch (err) {
    out = (err as { stdout?: string }).stdout ?? '';
  }
  return JSON.parse(out.split('\n')[0]) as SshAudit;
}

describe('SSH probe vs ssh-audit', () => {
  it.each(['weak', 'strong', 'mixed'] as const)(
    '%s:22 — same algorithm lists and key sizes',
    async (name) => {
      const d = labDevice(name);
      const ctx = await probeContext(loadDeviceFile(d.deviceFile));
      const ours = await probeSshService(ctx, 22);
      const theirs = sshAudit(d.address, 22);
      expect(ours.banner).toBe(theirs.banner.raw);
      expect(ours.kexinit!.kex).toEqual(theirs.kex.map((k) => k.algorithm));
      expect(ours.kexinit!.hostKey).toEqual(theirs.key.map((k) => k.algorithm));
      expect(ours.kexinit!.encryptionServerToClient).toEqual(theirs.enc);
      expect(ours.kexinit!.macServerToClient).toEqual(theirs.mac);
      for (const k of theirs.key.filter((x) => x.keysize)) {
        expect(ours.hostKeys.find((h) => h.algorithm === k.algorithm || (h.type === 'ssh-rsa' && /rsa/.test(k.algorithm)))?.bits).toBe(k.keysize);
      }
    },
    90_000,
  );
});
