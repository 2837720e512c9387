/**
 * Every probe against every hostile device: the CLI run ends within its
 * deadline, memory stays bounded (a 160 MB V8 heap cap and the reported
 * peak RSS), no stack trace, and no check passes on the word of a device
 * that never behaved like one (nor is not-applicable). One run per kind sends every probe at five
 * ports declared as SSH, telnet, HTTP, HTTPS and MQTT, each with a login.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseDeviceFile } from '../harness/device-file/load';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Report } from '../harness/report';
import { starbench } from './helpers/cli';
import { HOSTILE_KINDS, hostileDevice, type HostileKind } from './helpers/hostile';

const PROTOCOLS = ['ssh', 'telnet', 'http', 'https', 'mqtt'] as const;
const DEADLINE_S = 45;
/** Checks whose evidence is the port table itself: a declared open port is a fact, whatever it says. */
const MAY_PASS = new Set(['exposure.undeclared-services']);
/** What the note's table is built from: kind → check → [verdict, ms]. */
const table: Record<string, { ms: number; rssMb: number; verdicts: Record<string, string> }> = {};

afterAll(() => {
  const out = process.env.STARBENCH_HOSTILE_TABLE;
  if (out) writeFileSync(out, JSON.stringify(table, null, 2));
});

async function assess(kind: HostileKind) {
  const dev = await hostileDevice(kind, PROTOCOLS.length);
  const dir = mkdtempSync(path.join(tmpdir(), `sb-hostile-${kind}-`));
  const file = path.join(dir, 'device.yaml');
  writeFileSync(
    file,
    stringify({
      device: { name: `hostile ${kind}` },
      target: { host: '127.0.0.1' },
      services: PROTOCOLS.map((protocol, i) => ({ port: dev.ports[i], protocol })),
      credentials: { lab: { username: 'lab', password: 'lab-only-Passw0rd' } },
      auth: PROTOCOLS.map((protocol, i) => ({
        port: dev.ports[i],
        protocol,
        scheme: protocol.startsWith('http') ? 'basic' : 'password',
        path: protocol.startsWith('http') ? '/admin' : undefined,
        credential: 'lab',
        bruteForce: 'lockout',
        lockoutAfter: 5,
        lockoutSeconds: 1,
      })),
      personalData: { declared: ['email'], canaries: { email: 'hanako.hostile.canary@example.jp' } },
      scan: { tcp: dev.ports.join(','), udp: String(dev.ports[0]) },
      limits: { probeTimeoutSeconds: 12, deadlineSeconds: DEADLINE_S, connectTimeoutMs: 1000 },
    }),
  );
  try {
    const r = await starbench(['run', file, '--out', dir, '--quiet', '--non-interactive', '--format', 'json'], {
      timeoutMs: (DEADLINE_S + 30) * 1000,
      nodeArgs: ['--max-old-space-size=160'],
    });
    const runDir = path.join(
      dir,
      readdirSync(dir).find((f) => !f.endsWith('.yaml'))!,
    );
    return { r, report: JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as Report };
  } finally {
    await dev.close();
  }
}

describe.each(HOSTILE_KINDS)('starbench init on a hostile device: %s', (kind) => {
  it('ends within its bound, memory capped, no stack trace; a draft it writes still validates', async () => {
    const dev = await hostileDevice(kind, 3);
    const dir = mkdtempSync(path.join(tmpdir(), `sb-hostile-init-${kind}-`));
    const out = path.join(dir, 'draft.yaml');
    try {
      const r = await starbench(['init', '127.0.0.1', '--ports', dev.ports.join(','), '--udp-ports', String(dev.ports[0]), '--out', out, '--deadline', '40'], {
        timeoutMs: 70_000,
        nodeArgs: ['--max-old-space-size=160'],
      });
      expect(r.signal).toBeNull();
      expect(r.stderr).not.toMatch(/\n\s+at |FATAL|heap out of memory|internal error/);
      expect([0, 3]).toContain(r.code);
      expect(r.ms).toBeLessThan(50_000);
      if (r.code === 0) expect(() => parseDeviceFile(readFileSync(out, 'utf8'), out, undefined, { allowTodo: true })).not.toThrow();
      else expect(existsSync(out)).toBe(false);
    } finally {
      await dev.close();
    }
  }, 80_000);
});

describe.each(HOSTILE_KINDS)('hostile device: %s', (kind) => {
  it(
    'every probe ends within the deadline, memory stays bounded, nothing crashes, nothing passes on its word',
    async () => {
      const { r, report } = await assess(kind);
      expect(r.signal).toBeNull();
      expect(r.stderr).not.toMatch(/\n\s+at |FATAL|heap out of memory/);
      expect([1, 3]).toContain(r.code);
      expect(r.ms).toBeLessThan((DEADLINE_S + 10) * 1000);
      expect(report.run.peakRssKb).toBeLessThan(300 * 1024);
      // A not-applicable needs evidence of absence just as a pass needs evidence: neither rests on a hostile device's word.
      const wrong = report.checks
        .filter((c) => (c.verdict === 'pass' || c.verdict === 'not-applicable') && !MAY_PASS.has(c.id))
        .map((c) => `${c.id} ${c.verdict}: ${c.rationale}`);
      expect(wrong).toEqual([]);
      for (const c of report.checks) expect(c.rationale.length).toBeGreaterThan(0);
      table[kind] = {
        ms: r.ms,
        rssMb: Math.round((report.run.peakRssKb ?? 0) / 1024),
        verdicts: Object.fromEntries(report.checks.map((c) => [c.id, c.verdict])),
      };
    },
    (DEADLINE_S + 40) * 1000,
  );
});
