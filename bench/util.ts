/** Shared by the benchmark scripts: timing, external tools, the lab. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labStatus, labUp } from '../fixtures/lab';
import { hasBlackhole } from '../fixtures/lab/net';

export async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, value };
}

/** Run an external tool, returning its wall time; never through a shell. */
export function timeTool(cmd: string, args: string[], timeoutMs = 600_000): { ms: number; code: number | null; stdout: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, code: r.status, stdout: r.stdout ?? '' };
}

/** The Mirai list as hydra -C wants it (login:pass lines only), in a temp file. */
export function hydraCredentialList(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sb-bench-')), 'mirai.txt');
  const lines = readFileSync(path.join(__dirname, '..', 'probes', 'data', 'mirai-credentials.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** The lab, up, with its blackhole route: benchmarks only ever contact lab addresses. */
export async function ensureLab() {
  const status = labStatus() ?? (await labUp());
  if (!hasBlackhole()) throw new Error('the 198.18.0.0/15 blackhole route is missing: refusing to send benchmark traffic');
  return status;
}

export const fmt = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(2)} s`);

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, j) => r.map((c, i) => c.padEnd(widths[i])).join('  ') + (j === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}
