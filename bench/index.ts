/**
 * `npm run bench`: starbench against the toolchain a lab runs by hand today,
 * on every reference-lab device, then the fleets. Not part of `npm test`.
 *
 * Per device:
 * - starbench's full assessment (the real CLI, wall time, its own peak RSS),
 *   and the floor the device itself imposes on it, read from the run's
 *   journal (bench/floor.ts): overhead = full run − floor;
 * - starbench on the five checks the toolchain can decide (`--only`);
 * - then, sequentially, as a person would: `nmap -p- -T4`, `nmap -sV` on the
 *   open ports, `testssl` on each TLS port, `ssh-audit` on each SSH port, and
 *   `hydra -C mirai -t 4 -f` on each ssh/telnet/http login.
 * Then all lab devices as one fleet against the slowest alone, and ten
 * simulated devices (the demo camera, in this process, on 127.0.0.11-20) as
 * one fleet against the slowest of them alone.
 *
 * Only lab and loopback addresses are contacted, and lab ones only with the
 * blackhole route in place. BENCH_DEVICES=weak,strong limits the lab devices;
 * BENCH_SKIP_TOOLCHAIN=1 leaves the hand-run tools out (no ratios then);
 * BENCH_SKIP_SIMULATED=1 the ten simulated cameras.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labRestore } from '../fixtures/lab';
import type { LabDeviceStatus } from '../fixtures/lab';
import { loadDeviceFile } from '../harness/device-file/load';
import { readJournal } from '../harness/journal';
import type { Report } from '../harness/report';
import type { ProbeResult } from '../harness/types';
import { startDemoDevice } from '../fixtures/demo-device';
import { deviceFloor, type Floor, type LedgerWait } from './floor';
import { ensureLab, fmt, hasTool, table, timeTool, hydraCredentialList } from './util';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { distStale } = require('../bin/dist.js') as { distStale(): string | null };

const BIN = path.resolve(__dirname, '..', 'bin', 'starbench.js');
const STABLE_CHECKS = 13;
/** What the toolchain can decide, and so what the like-for-like run is limited to. */
const SAME_CHECKS = ['exposure.undeclared-services', 'auth.default-credentials', 'comms.tls', 'comms.ssh', 'comms.plaintext'];
const TARGETS = { overheadMs: 10_000, ofFloor: 1.3, sameRatio: 0.05, rssMb: 150, fleet: 1.3 };

interface StarbenchRun {
  ms: number;
  code: number | null;
  report: Report;
  probes: Array<{ probe: string; ms: number }>;
  /** Time the brute-force probe spent waiting out a declared lockout. */
  lockoutWaitMs: number;
  /** The brute-force probe as a whole (the toolchain has no counterpart). */
  bruteForceMs: number;
  floor: Floor;
}

const CLI_FLAGS = ['--quiet', '--non-interactive', '--format', 'json'];

/** Run the CLI as a user would (its own shebang flags), into a fresh folder. */
function starbench(args: string[]): { ms: number; code: number | null; out: string } {
  const out = mkdtempSync(path.join(tmpdir(), 'sb-bench-run-'));
  const t = process.hrtime.bigint();
  const r = spawnSync(BIN, [...args, '--out', out, ...CLI_FLAGS], { encoding: 'utf8', timeout: 900_000 });
  if (r.error) throw r.error;
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, code: r.status, out };
}

/** The same, without blocking this process: the simulated devices answer from here while it runs. Bounded at 15 min. */
function starbenchAsync(args: string[]): Promise<{ ms: number; code: number | null; out: string }> {
  const out = mkdtempSync(path.join(tmpdir(), 'sb-bench-run-'));
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, [...args, '--out', out, ...CLI_FLAGS], { stdio: 'ignore', timeout: 900_000 });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, code, out }));
  });
}

const runDirIn = (out: string, prefix: string): string =>
  path.join(
    out,
    readdirSync(out).find((f) => f.startsWith(prefix))!,
  );

async function assess(d: LabDeviceStatus): Promise<StarbenchRun> {
  const r = starbench(['run', d.deviceFile]);
  const runDir = runDirIn(r.out, 'lab-');
  const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as Report & { authLedger?: { waits?: LedgerWait[] } };
  const journal = readJournal(path.join(runDir, 'journal.jsonl'));
  const ends = journal.filter((e) => e.type === 'probe-end').map((e) => e.result as ProbeResult);
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
    floor: deviceFloor(journal, loadDeviceFile(d.deviceFile), report.authLedger?.waits ?? []),
  };
}

/** starbench asked only what the toolchain can answer. */
async function sameChecks(d: LabDeviceStatus): Promise<{ ms: number; report: Report }> {
  const r = starbench(['run', d.deviceFile, '--only', SAME_CHECKS.join(',')]);
  const report = JSON.parse(readFileSync(path.join(runDirIn(r.out, 'lab-'), 'report.json'), 'utf8')) as Report;
  await labRestore([d.name]);
  return { ms: r.ms, report };
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
const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');

interface FleetJson {
  peakRssKb: number;
  devices: Array<{ device?: string; verdict: string }>;
}
const fleetJsonIn = (out: string): FleetJson => JSON.parse(readFileSync(path.join(runDirIn(out, 'fleet-'), 'fleet.json'), 'utf8')) as FleetJson;

/**
 * Ten simulated cameras (the demo device, served from this process on 127.0.0.11-20), each assessed alone, then all
 * ten as one fleet: fleet wall time against the slowest alone, and the fleet's peak RSS.
 */
async function fleetOfTen(): Promise<string> {
  const devices = await Promise.all(Array.from({ length: 10 }, (_, i) => startDemoDevice(`127.0.0.${11 + i}`)));
  try {
    const files = devices.map((d, i) => d.writeDeviceFile(mkdtempSync(path.join(tmpdir(), `sb-bench-sim${i}-`))));
    const alone: number[] = [];
    let rss = 0;
    for (const f of files) {
      const r = await starbenchAsync(['run', f]);
      alone.push(r.ms);
      const report = JSON.parse(readFileSync(path.join(runDirIn(r.out, 'starbench-demo'), 'report.json'), 'utf8')) as Report;
      rss = Math.max(rss, report.run.peakRssKb ?? 0);
    }
    // All ten at once (the fleet's default is four at a time), within 40 connections in all (ten times four).
    const fleet = await starbenchAsync(['run', ...files, '--parallel', '10', '--global-connections', '40']);
    const json = fleetJsonIn(fleet.out);
    const slowest = Math.max(...alone);
    const verdicts = [...new Set(json.devices.map((x) => x.verdict))].join('/');
    return [
      `fleet of 10 simulated cameras: ${fmt(fleet.ms)} vs slowest alone ${fmt(slowest)} (alone ${fmt(Math.min(...alone))}–${fmt(slowest)}) = ${(fleet.ms / slowest).toFixed(2)}× (target ≤ ${TARGETS.fleet}×: ${mark(fleet.ms <= TARGETS.fleet * slowest)})`,
      `  peak RSS: one run ${mb(rss)}, the fleet ${mb(json.peakRssKb)} (target ≤ ${TARGETS.rssMb} MB: ${mark(Math.max(rss, json.peakRssKb) <= TARGETS.rssMb * 1024)}); device verdicts: ${verdicts}`,
    ].join('\n');
  } finally {
    await Promise.all(devices.map((d) => d.stop()));
  }
}

/** BENCH_DEVICES=weak,strong limits the lab devices; BENCH_SKIP_TOOLCHAIN=1 leaves the hand-run tools out (no ratios). */
function args(): { devices?: string[]; toolchain: boolean } {
  return { devices: process.env.BENCH_DEVICES?.split(','), toolchain: process.env.BENCH_SKIP_TOOLCHAIN !== '1' };
}

async function main(): Promise<void> {
  const opts = args();
  if (opts.toolchain)
    for (const tool of ['nmap', 'testssl', 'ssh-audit', 'hydra'])
      if (!hasTool(tool)) throw new Error(`${tool} is not installed (Debian: apt-get install ${tool === 'testssl' ? 'testssl.sh' : tool})`);
  const lab = await ensureLab();
  const devices = lab.devices.filter((d) => !opts.devices || opts.devices.includes(d.name));
  const names = devices.map((d) => d.name);
  await labRestore(names);
  const mirai = hydraCredentialList();

  const summary = [
    [
      'device',
      'full run',
      'floor',
      'overhead',
      'full/floor',
      'same checks',
      'toolchain',
      'same/tools',
      'full/tools',
      'peak RSS',
      'decided (sb / tools)',
      'targets',
    ],
  ];
  const singles: Record<string, number> = {};
  for (const d of devices) {
    process.stderr.write(`bench: ${d.name}: starbench…\n`);
    const sb = await assess(d);
    singles[d.name] = sb.ms;
    process.stderr.write(`bench: ${d.name}: starbench, the toolchain's five checks…\n`);
    const same = await sameChecks(d);
    const tc = opts.toolchain ? toolchain(d, mirai) : undefined;
    if (tc) await labRestore([d.name]);
    const tcMs = tc ? tc.steps.reduce((s, x) => s + x.ms, 0) : NaN;
    const overhead = sb.ms - sb.floor.ms;
    console.log(`\n== ${d.name} (${d.address})`);
    if (tc) console.log(table([['tool step', 'time', 'note'], ...tc.steps.map((s) => [s.what, fmt(s.ms), s.note.slice(0, 70)])]));
    console.log(
      `starbench probes (longest first): ${sb.probes
        .slice(0, 7)
        .map((p) => `${p.probe} ${fmt(p.ms)}`)
        .join(', ')}`,
    );
    console.log(
      `floor ${fmt(sb.floor.ms)} (ordinary phase ${fmt(sb.floor.ordinaryMs)}, disruptive steps ${fmt(sb.floor.disruptiveMs)}):\n${sb.floor.parts.map((p) => `  ${p.probe}: ${p.what} — ${fmt(p.ms)}`).join('\n')}`,
    );
    console.log(
      `same checks (${SAME_CHECKS.join(', ')}): ${SAME_CHECKS.map((id) => `${id.split('.')[1]} ${same.report.checks.find((c) => c.id === id)?.verdict}`).join(', ')}`,
    );
    const ok = [
      overhead <= TARGETS.overheadMs,
      sb.ms <= TARGETS.ofFloor * sb.floor.ms,
      !tc || same.ms / tcMs <= TARGETS.sameRatio,
      (sb.report.run.peakRssKb ?? Infinity) <= TARGETS.rssMb * 1024,
    ];
    summary.push([
      d.name,
      fmt(sb.ms),
      fmt(sb.floor.ms),
      fmt(overhead),
      `${(sb.ms / sb.floor.ms).toFixed(2)}×`,
      fmt(same.ms),
      tc ? fmt(tcMs) : '-',
      tc ? `${(same.ms / tcMs).toFixed(3)}×` : '-',
      tc ? `${(sb.ms / tcMs).toFixed(2)}×` : '-',
      mb(sb.report.run.peakRssKb),
      `${decidedBy(sb.report)}/${STABLE_CHECKS} / ${tc ? tc.decided.length : '-'}/${STABLE_CHECKS}`,
      ok.every(Boolean) ? 'all met' : `missed: ${['overhead', 'full/floor', 'same/tools', 'RSS'].filter((_, i) => !ok[i]).join(', ')}`,
    ]);
  }

  let labFleet = 'fleet of the lab devices: one device only, not run';
  if (devices.length > 1) {
    process.stderr.write('bench: fleet of the lab devices…\n');
    const fleet = starbench(['run', ...devices.map((d) => d.deviceFile)]);
    const fleetJson = fleetJsonIn(fleet.out);
    await labRestore(names);
    const slowest = Math.max(...Object.values(singles));
    labFleet = `fleet of ${devices.length} lab devices: ${fmt(fleet.ms)} vs slowest single ${fmt(slowest)} = ${(fleet.ms / slowest).toFixed(2)}× (target ≤ ${TARGETS.fleet}×: ${mark(fleet.ms <= TARGETS.fleet * slowest)}); fleet peak RSS ${mb(fleetJson.peakRssKb)} (target ≤ ${TARGETS.rssMb} MB: ${mark(fleetJson.peakRssKb <= TARGETS.rssMb * 1024)}); verdicts ${fleetJson.devices.map((x) => `${x.device}: ${x.verdict}`).join(', ')}`;
  }
  let ten = 'fleet of 10 simulated cameras: not run (BENCH_SKIP_SIMULATED=1)';
  if (process.env.BENCH_SKIP_SIMULATED !== '1') {
    process.stderr.write('bench: ten simulated devices…\n');
    ten = await fleetOfTen();
  }

  console.log('\n== summary');
  const stale = distStale();
  console.log(`the CLI ran ${stale === null ? 'from the compiled build (dist/)' : `from the sources through tsx (${stale}; npm run build)`}`);
  console.log(
    `targets: overhead ≤ ${TARGETS.overheadMs / 1000} s, full run ≤ ${TARGETS.ofFloor}× the floor, same checks ≤ ${TARGETS.sameRatio}× the toolchain, peak RSS ≤ ${TARGETS.rssMb} MB`,
  );
  console.log(table(summary));
  console.log(`\n${labFleet}`);
  console.log(ten);
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
