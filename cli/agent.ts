/**
 * `starbench agent --db URL --bench NAME`: runs on a bench host. It takes the
 * jobs addressed to its bench (and those any bench may run), writes each
 * job's bundle into a folder of its own, runs the assessment exactly as
 * `run` does, and streams the journal into the store as it goes. A job that
 * was tried before resumes from the journal the store holds: finished probes
 * are not repeated, and the job says which probes were in flight and ran
 * again. `agent keygen --out DIR` writes the agents' key pair.
 *
 * Leases: the agent beats every HEARTBEAT_MS; any agent (and `campaign
 * status`) hands a job whose beat stopped for STALE_MS back to pg-boss as
 * failed, which retries it (or dead-letters it after MAX_ATTEMPTS). An agent
 * that finds its job taken from it stops that run at once, so one device is
 * never assessed twice at the same time.
 */
import { existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { unpackBundle } from '../harness/campaign/bundle';
import { generateAgentKeys } from '../harness/campaign/seal';
import { DEFAULT_STORE } from '../harness/campaign/embedded';
import { DEAD_QUEUE, MAX_ATTEMPTS, queueFor, Store } from '../harness/campaign/store';
import { loadDeviceFile } from '../harness/device-file/load';
import { errorMessage, isInputError, StarbenchError } from '../harness/errors';
import { Semaphore } from '../harness/limiter';
import { loadSavedRun } from '../harness/saved-run';
import type { ProbeResult } from '../harness/types';
import { EXIT } from '../harness/verdict';
import { loadRegistry } from './plugins';
import type { ParsedArgs } from './args';
import { assessOne } from './assess';
import type { CliIO } from './io';

export const HEARTBEAT_MS = 3000;
/** After SIGTERM the probes in progress get this long to finish before they are cancelled (systemd waits 90 s). */
export const STOP_GRACE_MS = 60_000;
export const STALE_MS = 20_000;
const POLL_MS = 1000;

/** Hand jobs whose agent stopped beating back to pg-boss (retry, or dead after the last try). Returns how many. */
export async function reapStale(store: Store, staleMs = STALE_MS): Promise<number> {
  const r = await store.pool.query<{ id: string; bench: string | null; boss_id: string | null; attempts: number; agent: string }>(
    `UPDATE starbench.jobs SET state = CASE WHEN attempts >= $2 THEN 'dead' ELSE 'queued' END,
            last_error = 'agent ' || agent || ' stopped answering (no heartbeat since ' || to_char(heartbeat_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')',
            updated_at = now()
      WHERE state = 'running' AND heartbeat_at < now() - ($1::int * interval '1 millisecond')
      RETURNING id, bench, boss_id, attempts, agent`,
    [staleMs, MAX_ATTEMPTS],
  );
  for (const j of r.rows)
    if (j.boss_id) await store.boss.fail(queueFor(j.bench ?? undefined), j.boss_id, { reason: 'agent stopped answering' }).catch(() => undefined);
  return r.rowCount ?? 0;
}

/** The probes a stored journal began and never ended: they run again on resume. */
function inFlight(lines: string[]): string[] {
  const begun = new Set<string>();
  for (const l of lines) {
    try {
      const e = JSON.parse(l) as { type?: string; probe?: string; result?: { probe?: string } };
      if (e.type === 'probe-begin' && e.probe) begun.add(e.probe);
      if (e.type === 'probe-end' && e.result?.probe) begun.delete(e.result.probe);
    } catch {
      // a torn last line: the probe it belonged to has no end and runs again
    }
  }
  return [...begun];
}

/** Streams a growing journal file into the store, whole lines only, numbered after what the store already has. */
class JournalStream {
  private offset = 0;
  private rest = '';
  constructor(
    private readonly store: Store,
    private readonly jobId: string,
    private readonly attempt: number,
    private readonly file: string,
    private seq: number,
    startAt: number,
  ) {
    this.offset = startAt;
  }

  async flush(): Promise<void> {
    if (!existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    const buf = Buffer.alloc(size - this.offset);
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.rest + buf.toString('utf8');
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    if (!lines.length) return;
    const values: unknown[] = [];
    const rows = lines.map((line, i) => {
      values.push(this.jobId, this.seq + i, this.attempt, line);
      return `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`;
    });
    await this.store.pool.query(`INSERT INTO starbench.journal(job_id, seq, attempt, line) VALUES ${rows.join(',')} ON CONFLICT DO NOTHING`, values);
    this.seq += lines.length;
  }
}

interface Claimed {
  bossId: string;
  queue: string;
  jobId: string;
}

async function claim(store: Store, queues: string[]): Promise<Claimed | undefined> {
  for (const queue of queues) {
    const jobs = await store.boss.fetch<{ jobId: string }>(queue, { batchSize: 1 });
    if (jobs[0]) return { bossId: jobs[0].id, queue, jobId: jobs[0].data.jobId };
  }
  return undefined;
}

export async function agentCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals[1] === 'keygen') return keygen(args, io);
  if (args.positionals.length > 1)
    throw new StarbenchError('USAGE', `starbench agent takes no arguments (keygen aside); unexpected: ${args.positionals.slice(1).join(' ')}`);
  const url = args.values.db ?? process.env.STARBENCH_DB ?? DEFAULT_STORE;
  const bench = args.values.bench;
  if (!bench || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(bench))
    throw new StarbenchError('USAGE', 'starbench agent needs its bench name: --bench NAME (letters, digits, . _ -)');
  const keyFile = args.values.key ?? process.env.STARBENCH_AGENT_KEY;
  if (!keyFile) throw new StarbenchError('USAGE', "starbench agent opens the sealed device files with the agents' private key: --key agent.pem");
  let privateKey: string;
  try {
    privateKey = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new StarbenchError('USAGE', `the agents' private key ${keyFile} cannot be read: ${errorMessage(err)}`);
  }
  const parallel = intOption(args.values.parallel, 'parallel', 1, 16);
  const globalConnections = intOption(args.values['global-connections'], 'global-connections', 32, 1024);
  const idleExitMs = args.values['idle-exit'] !== undefined ? intOption(args.values['idle-exit'], 'idle-exit', 0, 86400) * 1000 : undefined;
  const work = path.resolve(args.values.out ?? path.join('runs', 'agent'));
  const name = `${bench}@${hostname()}#${process.pid}`;
  const store = await Store.open(url);
  const queues = [queueFor(bench), queueFor(undefined)];
  for (const q of [...queues, DEAD_QUEUE]) await store.ensureQueue(q);
  const global = new Semaphore(globalConnections);
  io.err(
    `starbench agent ${name}: taking jobs for bench ${bench} (and any bench), ${parallel} at once, store ${url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}\n`,
  );
  const running = new Set<Promise<void>>();
  let idleSince = Date.now();
  try {
    while (!io.signal.aborted) {
      await reapStale(store).catch(() => 0);
      if (running.size < parallel) {
        const job = await claim(store, queues);
        if (job) {
          idleSince = Date.now();
          const p = runJob(store, job, { name, bench, privateKey, work, io, global, args }).finally(() => running.delete(p));
          running.add(p);
          continue;
        }
      }
      if (idleExitMs !== undefined && running.size === 0 && Date.now() - idleSince >= idleExitMs) break;
      await sleep(POLL_MS, io.signal);
    }
    await Promise.all(running);
  } finally {
    await store.close();
  }
  io.err(`starbench agent ${name}: stopped\n`);
  return EXIT.ok;
}

interface AgentContext {
  name: string;
  bench: string;
  privateKey: string;
  work: string;
  io: CliIO;
  global: Semaphore;
  args: ParsedArgs;
}

async function runJob(store: Store, claimed: Claimed, ctx: AgentContext): Promise<void> {
  const { io } = ctx;
  const row = await store.job(claimed.jobId);
  if (!row) {
    await store.boss.complete(claimed.queue, claimed.bossId).catch(() => undefined);
    return;
  }
  const taken = await store.pool.query<{ attempts: number }>(
    `UPDATE starbench.jobs SET state = 'running', attempts = attempts + 1, agent = $2, running_bench = $3, heartbeat_at = now(),
            boss_id = $4, updated_at = now()
      WHERE id = $1 AND state IN ('queued', 'running') RETURNING attempts`,
    [row.id, ctx.name, ctx.bench, claimed.bossId],
  );
  if (!taken.rows[0]) {
    // Done, failed or dead already (a duplicate claim): nothing to run.
    await store.boss.complete(claimed.queue, claimed.bossId).catch(() => undefined);
    return;
  }
  const attempt = taken.rows[0].attempts;
  const prefix = `[${row.device}] `;
  const ctl = new AbortController();
  const drain = new AbortController();
  let grace: NodeJS.Timeout | undefined;
  // Stopping: no new probe starts; the ones in progress finish (a disruptive step is not cut in half) unless they outlast the grace.
  const stopRun = (): void => {
    drain.abort();
    grace = setTimeout(() => ctl.abort(), STOP_GRACE_MS);
  };
  io.signal.addEventListener('abort', stopRun, { once: true });
  let lostLease = false;
  const beat = setInterval(() => {
    store.pool
      .query(`UPDATE starbench.jobs SET heartbeat_at = now() WHERE id = $1 AND agent = $2 AND attempts = $3 AND state = 'running'`, [row.id, ctx.name, attempt])
      .then((r) => {
        if (r.rowCount === 0 && !ctl.signal.aborted) {
          lostLease = true;
          io.err(`${prefix}the job was handed to another agent (this one missed its heartbeat): stopping this run\n`);
          ctl.abort();
        }
      })
      .catch(() => undefined);
  }, HEARTBEAT_MS);
  const jobDir = path.join(ctx.work, row.id.replace(/[^A-Za-z0-9._-]+/g, '_'));
  const bundleDir = path.join(jobDir, `bundle-${attempt}`);
  const runDir = path.join(jobDir, `run-${attempt}`);
  let stream: JournalStream | undefined;
  const timer = setInterval(() => void stream?.flush().catch(() => undefined), POLL_MS);
  try {
    const unpacked = await unpackBundle(row.manifest, bundleDir, (sha) => store.blob(sha), ctx.privateKey);
    const device = loadDeviceFile(unpacked.deviceFile);
    if (device.target.serial && !existsSync(device.target.serial.path))
      throw new StarbenchError('USAGE', `the serial console ${device.target.serial.path} is missing on bench ${ctx.bench}`);
    const stored = await store.journal(row.id);
    const repeated = inFlight(stored);
    mkdirSync(runDir, { recursive: true });
    const args = {
      values: {
        ...ctx.args.values,
        profile: unpacked.profile,
        plugin: unpacked.plugins.length ? unpacked.plugins : undefined,
        out: jobDir,
        'non-interactive': true,
        quiet: true,
      },
      positionals: ['run'],
    } as ParsedArgs;
    const jobIo: CliIO = {
      ...io,
      out: () => undefined,
      err: (t) => io.err(t.replace(/^(?=.)/gm, prefix)),
      isTTY: false,
      operator: undefined,
      signal: ctl.signal,
    };
    let resume;
    if (stored.length) {
      writeFileSync(path.join(runDir, 'journal.jsonl'), stored.join('\n') + '\n');
      const saved = loadSavedRun(runDir, loadRegistry(unpacked.plugins).probes);
      const results = new Map<string, ProbeResult>([...saved.results].filter(([, r]) => r.status !== 'cancelled'));
      resume = {
        runDir,
        runId: saved.meta.id,
        profileId: saved.profileId.includes('/') ? unpacked.profile : saved.profileId,
        only: saved.only,
        startedAt: saved.meta.startedAt,
        results,
      };
      await store.pool.query('UPDATE starbench.jobs SET repeated = $2 WHERE id = $1', [row.id, JSON.stringify(repeated)]);
      io.err(
        `${prefix}try ${attempt}: resuming from the stored journal: ${results.size} probe result(s) kept${repeated.length ? `, in flight before and run again: ${repeated.join(', ')}` : ''}\n`,
      );
    } else io.err(`${prefix}try ${attempt}: started on ${ctx.name}\n`);
    const journal = path.join(runDir, 'journal.jsonl');
    stream = new JournalStream(store, row.id, attempt, journal, stored.length, existsSync(journal) ? statSync(journal).size : 0);
    const r = await assessOne(device, args, jobIo, { resume, runDir, prefix, summary: false, globalSlots: ctx.global, drain: drain.signal });
    clearInterval(timer);
    await stream.flush();
    if (lostLease) return;
    if (r.report.run.interruptedBy === 'signal') {
      // Graceful stop: what finished is stored; the job goes back to the queue without counting as a failure.
      await store.pool.query(`UPDATE starbench.jobs SET state = 'queued', attempts = attempts - 1, last_error = $2, updated_at = now() WHERE id = $1`, [
        row.id,
        `agent ${ctx.name} stopped (SIGTERM); the finished probes are kept`,
      ]);
      await store.boss.cancel(claimed.queue, claimed.bossId);
      await store.boss.resume(claimed.queue, claimed.bossId);
      io.err(`${prefix}stopped; back in the queue\n`);
      return;
    }
    const checks = Object.fromEntries(r.report.checks.map((c) => [c.id, c.verdict]));
    await store.pool.query(
      `UPDATE starbench.jobs SET state = 'done', exit_code = $2, checks = $3, report = $4, run_id = $5, last_error = NULL, heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND agent = $6 AND attempts = $7`,
      [row.id, r.code, JSON.stringify(checks), JSON.stringify(r.report), r.report.run.id, ctx.name, attempt],
    );
    await store.boss.complete(claimed.queue, claimed.bossId);
    io.err(`${prefix}done: ${r.report.summary.verdict} (exit ${r.code})\n`);
  } catch (err) {
    clearInterval(timer);
    await stream?.flush().catch(() => undefined);
    const message = errorMessage(err);
    // A job this bench can never run (its device file, key or serial port) fails once with its reason; anything else is retried.
    const permanent = isInputError(err) || (err instanceof StarbenchError && err.code === 'JOB_INVALID');
    const dead = !permanent && attempt >= MAX_ATTEMPTS;
    await store.pool.query(`UPDATE starbench.jobs SET state = $2, last_error = $3, heartbeat_at = NULL, updated_at = now() WHERE id = $1 AND attempts = $4`, [
      row.id,
      permanent ? 'failed' : dead ? 'dead' : 'queued',
      message,
      attempt,
    ]);
    if (permanent) await store.boss.complete(claimed.queue, claimed.bossId, { failed: message }).catch(() => undefined);
    else await store.boss.fail(claimed.queue, claimed.bossId, { reason: message }).catch(() => undefined);
    io.err(`${prefix}${permanent ? 'failed' : dead ? 'dead after the last try' : 'failed, will be retried'}: ${message}\n`);
  } finally {
    clearInterval(beat);
    clearInterval(timer);
    clearTimeout(grace);
    io.signal.removeEventListener('abort', stopRun);
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

function keygen(args: ParsedArgs, io: CliIO): number {
  const dir = path.resolve(args.values.out ?? '.');
  mkdirSync(dir, { recursive: true });
  const priv = path.join(dir, 'agent.pem');
  const pub = path.join(dir, 'agent.pub.pem');
  if (existsSync(priv) && !args.values.force)
    throw new StarbenchError('USAGE', `${priv} exists; --force replaces it (jobs sealed to the old key can then no longer be opened)`);
  const keys = generateAgentKeys();
  writeFileSync(priv, keys.privateKey, { mode: 0o600 });
  writeFileSync(pub, keys.publicKey, { mode: 0o644 });
  io.out(`private key (bench hosts only): ${priv}\npublic key (whoever creates campaigns): ${pub}\n`);
  return EXIT.ok;
}

function intOption(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new StarbenchError('USAGE', `--${name} takes a whole number from 0 to ${max}, got "${value}"`);
  return n;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
