/**
 * Fleet runs: `starbench run a.yaml b.yaml …` or `starbench run FOLDER`.
 * Devices are assessed concurrently (--parallel, default 4) under a global
 * connection cap (--global-connections, default 32) with every device's own
 * limits intact; one run folder per device plus a fleet summary (fleet.json,
 * fleet.html). A device file that does not load, or a device that fails or
 * hangs, is one row of the summary: it never holds the others.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import { loadDeviceFile } from '../harness/device-file/load';
import { errorMessage, isInputError, StarbenchError } from '../harness/errors';
import { mapLimit, Semaphore } from '../harness/limiter';
import { EXIT, type Verdict } from '../harness/verdict';
import { escapeXml as h } from '../reports/escape';
import type { ParsedArgs } from './args';
import type { CliIO } from './io';
import { assessOne, validateRunArgs } from './assess';

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface FleetRow {
  file: string;
  device?: string;
  verdict: Verdict | 'refused';
  exitCode: number;
  failed: string[];
  runDir?: string;
  durationMs: number;
  error?: string;
}

export interface FleetSummary {
  startedAt: string;
  durationMs: number;
  parallel: number;
  globalConnections: number;
  peakRssKb: number;
  exitCode: number;
  devices: FleetRow[];
}

export function deviceFiles(targets: string[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    if (isDirectory(t)) {
      const found = readdirSync(t)
        .filter((f) => /\.ya?ml$/i.test(f))
        .sort()
        .map((f) => path.join(t, f));
      if (found.length === 0) throw new StarbenchError('USAGE', `${t} holds no .yaml device files`);
      out.push(...found);
    } else out.push(t);
  }
  return out;
}

export function intArg(value: string | undefined, name: string, fallback: number, max: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new StarbenchError('USAGE', `--${name} takes a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Interrupted beats everything; then any failure; then a refused device file; then anything undecided. */
export function fleetExit(codes: number[]): number {
  for (const c of [EXIT.interrupted, EXIT.failed, EXIT.usage, EXIT.incomplete]) if (codes.includes(c)) return c;
  return EXIT.ok;
}

export function renderFleetHtml(s: FleetSummary, outDir: string): string {
  const rows = s.devices
    .map((d) => {
      const link = d.runDir ? `<a href="${h(path.relative(outDir, path.join(d.runDir, 'report.html')))}">${h(d.device ?? d.file)}</a>` : h(d.device ?? d.file);
      return `<tr><td>${link}</td><td>${h(d.verdict)}</td><td>${h(d.failed.join(', ') || '—')}</td><td>${(d.durationMs / 1000).toFixed(1)} s</td><td>${h(d.error ?? '')}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>starbench fleet</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}</style></head><body>
<h1>Fleet assessment: ${s.devices.length} devices</h1>
<p>${h(s.startedAt)} · ${(s.durationMs / 1000).toFixed(1)} s · ${s.parallel} at once, at most ${s.globalConnections} connections in all · exit ${s.exitCode}</p>
<table><tr><th>Device</th><th>Overall</th><th>Failed checks</th><th>Time</th><th>Error</th></tr>
${rows}</table></body></html>
`;
}

export async function fleetCommand(targets: string[], args: ParsedArgs, io: CliIO): Promise<number> {
  // Options every device shares are checked once, before any device is touched.
  validateRunArgs(args);
  const files = deviceFiles(targets);
  const parallel = intArg(args.values.parallel, 'parallel', 4, 64);
  const globalConnections = intArg(args.values['global-connections'], 'global-connections', 32, 1024);
  const global = new Semaphore(globalConnections);
  const started = Date.now();
  const names = files.map((f) => path.basename(f).replace(/\.ya?ml$/i, ''));
  const width = Math.max(...names.map((n) => n.length));
  io.err(`starbench: fleet of ${files.length} device(s), ${parallel} at once, at most ${globalConnections} connections in all\n`);
  const rows = await mapLimit(files, parallel, async (file, i): Promise<FleetRow> => {
    const prefix = `[${names[i].padEnd(width)}] `;
    const t0 = Date.now();
    try {
      const device = loadDeviceFile(file);
      io.err(`${prefix}started: ${device.device.name} (${device.target.host})\n`);
      const r = await assessOne(device, args, io, { prefix, summary: false, globalSlots: global });
      const failed = r.report.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);
      io.err(
        `${prefix}done: ${r.report.summary.verdict} in ${((Date.now() - t0) / 1000).toFixed(1)} s${failed.length ? ` — failed: ${failed.join(', ')}` : ''}\n`,
      );
      return { file, device: device.device.name, verdict: r.report.summary.verdict, exitCode: r.code, failed, runDir: r.runDir, durationMs: Date.now() - t0 };
    } catch (err) {
      const message = errorMessage(err);
      io.err(`${prefix}refused: ${message}\n`);
      const code = isInputError(err) ? EXIT.usage : EXIT.incomplete;
      return { file, verdict: code === EXIT.usage ? 'refused' : 'error', exitCode: code, failed: [], durationMs: Date.now() - t0, error: message };
    }
  });
  const summary: FleetSummary = {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    parallel,
    globalConnections,
    peakRssKb: process.resourceUsage().maxRSS,
    exitCode: fleetExit(rows.map((r) => r.exitCode)),
    devices: rows,
  };
  const outDir = path.resolve(
    args.values.out ?? 'runs',
    `fleet-${new Date(started)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}`,
  );
  mkdirSync(outDir, { recursive: true });
  writeFileAtomic(path.join(outDir, 'fleet.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileAtomic(path.join(outDir, 'fleet.html'), renderFleetHtml(summary, outDir));
  const w = Math.max(...rows.map((r) => (r.device ?? r.file).length));
  if (!args.values.quiet) {
    io.err(`\nfleet: ${rows.length} device(s) in ${(summary.durationMs / 1000).toFixed(1)} s\n`);
    for (const r of rows) io.err(`  ${(r.device ?? r.file).padEnd(w)}  ${r.verdict.padEnd(12)} ${r.failed.join(', ') || r.error || ''}\n`);
  }
  io.out(`fleet: ${outDir}/fleet.html\n`);
  return summary.exitCode;
}
