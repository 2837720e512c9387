/**
 * `npm run bench`: starbench against the toolchain a lab runs by hand today,
 * on every reference-lab device, then the fleet. Not part of `npm test`.
 *
 * Per device: starbench's full assessment (the real CLI, wall time, its own
 * peak RSS), then — sequentially, as a person would — `nmap -p- -T4`,
 * `nmap -sV` on the open ports, `testssl` on each TLS port, `ssh-audit` on
 * each SSH port, and `hydra -C mirai -t 4 -f` on each ssh/telnet/http login.
 * Then all lab devices as one fleet against the slowest alone.
 *
 * Only lab addresses are contacted, and only with the blackhole route in place.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labRestore } from '../fixtures/lab';
import type { LabDeviceStatus } from '../fixtures/lab';
import { loadDeviceFile } from '../harness/device-file/load';
import { readJournal } from '../harness/journal';
import type { Report } from '../harness/report';
import type { ProbeResult } from '../harness/types';
import { ensureLab, fmt, hasTool, table, timeTool, hydraCredentialList } from './util';

const BIN = path.resolve(__dirname, '..', 'bin', 'starbench.js');
const STABLE_CHECKS = 13;

interface StarbenchRun {
  ms: number;
  code: number | null;
  report: Report;
  probes: Array<{ probe: string; ms: number }>;
  /** Time the brute-force probe spent waiting out a declared lockout. */
  lockoutWaitMs: number;
  /** The brute-force probe as a whole (the toolchain has no counterpart). */
  bruteForceMs: number;
}

/** Run the CLI as a user would (its own shebang flags), into a fresh folder. */
function starbench(args: string[]): { ms: number; code: number | null; out: string } {
  const out = mkdtempSync(path.join(tmpdir(), 'sb-bench-run-'));
  const t = process.hrtime.bigint();
  const r = spawnSync(BIN, [...args, '--out', out, '--quiet', '--non-interactive', '--format', 'json'], { encoding: 'utf8', timeout: 900_000 });
  if (r.error) throw r.error;
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, code: r.status, out };
}

async function assess(d: LabDeviceStatus): Promise<StarbenchRun> {
  const r = starbench(['run', d.deviceFile]);
  const runDir = path.join(
    r.out,
    readdirSync(r.out).find((f) => f.startsWith('lab-'))!,
  );
  const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as Report;
  const ends = readJournal(path.join(runDir, 'journal.jsonl'))
    .filter((e) => e.type === 'probe-end')
    .map((e) => e.result as ProbeResult);
  const brute = ends.find((p) => p.probe === 'brute-force');
  const waited = (brute?.observations ?? []).reduce((s, o) => s + (typeof o.data.recoveredAfterS === 'number' ? o.data.recoveredAfterS * 1000 : 0), 0);
  await labRestore([d.name]);
  return {
    ms: r.ms,
    code: r.code,
    report,
    probes: ends.map((p) => ({ probe: p.probe, ms: p.durationMs })).sort((a, b) => b.ms - a.ms),
    lockoutWaitMs: waited,
    bruteForceMs: brute?.durationMs ?? 0,
  };
}

interface ToolStep {
  what: string;
  ms: number;
  note: string;
}

function toolchain(d: LabDeviceStatus, miraiList: string): { steps: ToolStep[]; decided: string[] } {
  const steps: ToolStep[] = [];
  const decided = new Set<string>();
  const nmap = timeTool('nmap', ['-p-', '-T4', '-n', '-Pn', '-oX', '-', d.address]);
  const open = [...nmap.stdout.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="open"/g)].map((m) => Number(m[1]));
  steps.push({ what: 'nmap -p- -T4', ms: nmap.ms, note: `${open.length} open: ${open.join(',')}` });
  decided.add('exposure.undeclared-services');
  const sv = timeTool('nmap', ['-sV', '-n', '-Pn', '-p', open.join(','), '-oX', '-', d.address]);
  const services = new Map([...sv.stdout.matchAll(/portid="(\d+)">.*?<service name="([^"]+)"(?:[^>]*tunnel="ssl")?/gs)].map((m) => [Number(m[1]), m[2]]));
  const tunnels = new Set([...sv.stdout.matchAll(/portid="(\d+)">(?:(?!<\/port>).)*tunnel="ssl"/gs)].map((m) => Number(m[1])));
  steps.push({ what: 'nmap -sV', ms: sv.ms, note: [...services].map(([p, s]) => `${p}/${tunnels.has(p) ? 'ssl/' : ''}${s}`).join(' ') });
  decided.add('comms.plaintext');
  const device = loadDeviceFile(d.deviceFile);
  const tlsPorts = open.filter(
    (p) =>
      tunnels.has(p) ||
      /https|ssl|mqtts|secure-mqtt/.test(services.get(p) ?? '') ||
      device.services.some((s) => s.port === p && ['https', 'mqtts', 'tls', 'ftps'].includes(s.protocol)),
  );
  for (const port of tlsPorts) {
    const r = timeTool('testssl', ['--quiet', '--color', '0', '--warnings', 'off', `${d.address}:${port}`], 900_000);
    steps.push({ what: `testssl ${port}`, ms: r.ms, note: `exit ${r.code}` });
    decided.add('comms.tls');
  }
  const sshPorts = open.filter((p) => services.get(p) === 'ssh');
  for (const port of sshPorts) {
    const r = timeTool('ssh-audit', ['-p', String(port), d.address]);
    steps.push({ what: `ssh-audit ${port}`, ms: r.ms, note: `exit ${r.code}` });
    decided.add('comms.ssh');
  }
  for (const a of device.auth) {
    const svc =
      a.protocol === 'ssh'
        ? 'ssh'
        : a.protocol === 'telnet'
          ? 'telnet'
          : a.protocol === 'http' && a.path
            ? 'http-get'
            : a.protocol === 'https' && a.path
              ? 'https-get'
              : undefined;
    if (!svc || !open.includes(a.port)) continue;
    const r = timeTool('hydra', ['-C', miraiList, '-t', '4', '-f', '-I', '-s', String(a.port), d.address, svc, ...(a.path ? [a.path] : [])], 900_000);
    const hit = r.stdout.match(/login: (\S+)\s+password:/);
    steps.push({ what: `hydra ${svc} ${a.port}`, ms: r.ms, note: hit ? `found login ${hit[1]}` : `nothing (exit ${r.code})` });
    decided.add('auth.default-credentials');
  }
  return { steps, decided: [...decided] };
}

const decidedBy = (r: Report): number => r.checks.filter((c) => ['pass', 'fail', 'not-applicable'].includes(c.verdict)).length;
const mb = (kb: number | undefined): string => (kb ? `${Math.round(kb / 1024)} MB` : '?');

async function main(): Promise<void> {
  for (const tool of ['nmap', 'testssl', 'ssh-audit', 'hydra'])
    if (!hasTool(tool)) throw new Error(`${tool} is not installed (Debian: apt-get install ${tool === 'testssl' ? 'testssl.sh' : tool})`);
  const lab = await ensureLab();
  await labRestore();
  const mirai = hydraCredentialList();

  const summary = [
    [
      'device',
      'starbench',
      'of which lockout wait',
      'of which brute-force',
      'toolchain',
      'ratio',
      'ratio w/o brute-force',
      'peak RSS',
      'checks decided (sb / tools)',
    ],
  ];
  const singles: Record<string, number> = {};
  for (const d of lab.devices) {
    process.stderr.write(`bench: ${d.name}: starbench…\n`);
    const sb = await assess(d);
    singles[d.name] = sb.ms;
    process.stderr.write(`bench: ${d.name}: toolchain…\n`);
    const tc = toolchain(d, mirai);
    await labRestore([d.name]);
    const tcMs = tc.steps.reduce((s, x) => s + x.ms, 0);
    console.log(`\n== ${d.name} (${d.address})`);
    console.log(table([['tool step', 'time', 'note'], ...tc.steps.map((s) => [s.what, fmt(s.ms), s.note.slice(0, 70)])]));
    console.log(
      `starbench probes (longest first): ${sb.probes
        .slice(0, 6)
        .map((p) => `${p.probe} ${fmt(p.ms)}`)
        .join(', ')}`,
    );
    summary.push([
      d.name,
      fmt(sb.ms),
      fmt(sb.lockoutWaitMs),
      fmt(sb.bruteForceMs),
      fmt(tcMs),
      `${(sb.ms / tcMs).toFixed(2)}×`,
      `${((sb.ms - sb.bruteForceMs) / tcMs).toFixed(2)}×`,
      mb(sb.report.run.peakRssKb),
      `${decidedBy(sb.report)}/${STABLE_CHECKS} / ${tc.decided.length}/${STABLE_CHECKS}`,
    ]);
  }

  process.stderr.write('bench: fleet of every lab device…\n');
  const fleet = starbench(['run', ...lab.devices.map((d) => d.deviceFile)]);
  const fleetDir = readdirSync(fleet.out).find((f) => f.startsWith('fleet-'))!;
  const fleetJson = JSON.parse(readFileSync(path.join(fleet.out, fleetDir, 'fleet.json'), 'utf8')) as {
    peakRssKb: number;
    devices: Array<{ device?: string; verdict: string }>;
  };
  await labRestore();
  const slowest = Math.max(...Object.values(singles));

  console.log('\n== summary');
  console.log(table(summary));
  console.log(
    `\nfleet of ${lab.devices.length}: ${fmt(fleet.ms)} vs slowest single ${fmt(slowest)} = ${(fleet.ms / slowest).toFixed(2)}× (target ≤ 1.3×); fleet peak RSS ${mb(fleetJson.peakRssKb)} (target ≤ 150 MB); verdicts ${fleetJson.devices.map((x) => `${x.device}: ${x.verdict}`).join(', ')}`,
  );
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
