/**
 * npm run bench:campaign — the reference lab's namespace devices (weak,
 * strong, mixed) as one campaign through 1, 2 and 3 agents on this machine,
 * against a private PostgreSQL: wall time, throughput, queue latency (queued
 * to started, per job), run time per job, and the store's bytes and rows per
 * run. The numbers docs/scale.md sizes a programme from. BENCH_AGENTS=1,3
 * picks the agent counts. Contacts only the lab's namespaces and loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { labRestore } from '../fixtures/lab';
import type { LabDeviceName } from '../fixtures/lab/config';
import { startPostgres } from '../fixtures/postgres';
import { ensureLab, fmt, table } from './util';

const BIN = path.resolve(__dirname, '..', 'bin', 'starbench.js');
const DEVICES: LabDeviceName[] = ['weak', 'strong', 'mixed'];

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

interface Row {
  agents: number;
  wallMs: number;
  jobs: number;
  latency: number[];
  runMs: number[];
  journalRows: number;
  bytes: { journal: number; blobs: number; jobs: number; pgboss: number };
}

async function one(url: string, agents: number, files: string[], keys: string): Promise<Row> {
  const name = `bench-${agents}-${Date.now()}`;
  const t0 = Date.now();
  const created = await cli(['campaign', 'create', name, '--db', url, '--key', path.join(keys, 'agent.pub.pem'), '--bench', 'lab', ...files]);
  if (created.code !== 0) throw new Error(`campaign create: exit ${created.code}: ${created.err}`);
  const work = mkdtempSync(path.join(tmpdir(), 'sb-bench-agent-'));
  const procs: ChildProcess[] = Array.from({ length: agents }, (_, i) =>
    spawn(
      process.execPath,
      [BIN, 'agent', '--db', url, '--bench', 'lab', '--key', path.join(keys, 'agent.pem'), '--out', path.join(work, String(i)), '--idle-exit', '600'],
      {
        stdio: 'ignore',
      },
    ),
  );
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const end = Date.now() + 1_800_000;
    for (;;) {
      const open = Number((await c.query(`SELECT count(*) FROM starbench.jobs WHERE campaign = $1 AND state IN ('queued', 'running')`, [name])).rows[0].count);
      if (open === 0) break;
      if (Date.now() > end) throw new Error(`${name}: jobs still open after 30 min`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const wallMs = Date.now() - t0;
    const jobs = (
      await c.query(
        `SELECT id, state, extract(epoch FROM started_at - created_at) * 1000 AS latency, extract(epoch FROM finished_at - started_at) * 1000 AS run
           FROM starbench.jobs WHERE campaign = $1`,
        [name],
      )
    ).rows as Array<{ id: string; state: string; latency: number; run: number }>;
    const bad = jobs.filter((j) => j.state !== 'done');
    if (bad.length) throw new Error(`${name}: ${bad.map((j) => `${j.id} ${j.state}`).join(', ')}`);
    const ids = jobs.map((j) => j.id);
    const size = async (sql: string): Promise<number> => Number((await c.query(sql, [ids])).rows[0].b ?? 0);
    const journal = await size(`SELECT sum(pg_column_size(j.*)) AS b FROM starbench.journal j WHERE job_id = ANY($1)`);
    const rows = Number((await c.query(`SELECT count(*) FROM starbench.journal WHERE job_id = ANY($1)`, [ids])).rows[0].count);
    const jobBytes = await size(`SELECT sum(pg_column_size(j.*)) AS b FROM starbench.jobs j WHERE id = ANY($1)`);
    const blobs = await size(
      `SELECT sum(pg_column_size(b.*)) AS b FROM starbench.blobs b WHERE sha256 IN (
         SELECT f->>'sha256' FROM starbench.jobs, jsonb_array_elements(manifest->'files') f WHERE id = ANY($1)
         UNION SELECT manifest->>'deviceBlob' FROM starbench.jobs WHERE id = ANY($1))`,
    );
    const pgboss = Number((await c.query(`SELECT sum(pg_column_size(j.*)) AS b FROM pgboss.job j WHERE data->>'jobId' = ANY($1)`, [ids])).rows[0].b ?? 0);
    return {
      agents,
      wallMs,
      jobs: jobs.length,
      latency: jobs.map((j) => Number(j.latency)),
      runMs: jobs.map((j) => Number(j.run)),
      journalRows: rows,
      bytes: { journal, blobs, jobs: jobBytes, pgboss },
    };
  } finally {
    await c.end();
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))));
  }
}

async function main(): Promise<void> {
  const counts = (process.env.BENCH_AGENTS ?? '1,2,3').split(',').map(Number);
  const lab = await ensureLab();
  const files = DEVICES.map((n) => lab.devices.find((d) => d.name === n)!.deviceFile);
  const pg = await startPostgres();
  const keys = mkdtempSync(path.join(tmpdir(), 'sb-bench-keys-'));
  try {
    if ((await cli(['agent', 'keygen', '--out', keys])).code !== 0) throw new Error('agent keygen failed');
    const rows: Row[] = [];
    for (const n of counts) {
      await labRestore(DEVICES);
      process.stderr.write(`bench:campaign: ${DEVICES.length} lab devices through ${n} agent(s)…\n`);
      rows.push(await one(pg.url, n, files, keys));
    }
    await labRestore(DEVICES);
    const kb = (b: number): string => `${(b / 1024).toFixed(0)} KB`;
    const max = (xs: number[]): number => Math.max(...xs);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`campaign of ${DEVICES.join(', ')} (one agent runs one job at a time), private PostgreSQL on 127.0.0.1`);
    console.log(
      table([
        [
          'agents',
          'wall',
          'jobs/min',
          'queue latency mean / max',
          'run per job mean',
          'journal rows/run',
          'store per run (journal + bundle + job row + queue)',
        ],
        ...rows.map((r) => {
          const per = (b: number): number => b / r.jobs;
          return [
            String(r.agents),
            fmt(r.wallMs),
            ((r.jobs / r.wallMs) * 60_000).toFixed(2),
            `${fmt(mean(r.latency))} / ${fmt(max(r.latency))}`,
            fmt(mean(r.runMs)),
            String(Math.round(r.journalRows / r.jobs)),
            `${kb(per(r.bytes.journal + r.bytes.blobs + r.bytes.jobs + r.bytes.pgboss))} (${kb(per(r.bytes.journal))} + ${kb(per(r.bytes.blobs))} + ${kb(per(r.bytes.jobs))} + ${kb(per(r.bytes.pgboss))})`,
          ];
        }),
      ]),
    );
  } finally {
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bench:campaign failed: ${(err as Error).message}`);
  process.exit(1);
});
