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
import { EXIT } from '../harness/verdict';
import { loadRegistry } from './plugins';
import type { ParsedArgs } from './args';
import { assessOne, resumeState, validateRunArgs } from './assess';
import { intArg } from './fleet';
import { sleepUnlessAborted } from '../probes/util/sleep';
import { BENCH_NAME } from '../harness/device-file/schema';
import type { CliIO } from './io';

export const HEARTBEAT_MS = 3000;
/** After SIGTERM the probes in progress get this long to finish before they are cancelled (systemd waits 90 s). */
export const STOP_GRACE_MS = 60_000;
export const STALE_MS = 20_000;
const POLL_MS = 1000;
const REAP_EVERY_MS = 5000;

/**
 * Hand jobs whose agent stopped beating back (queued, or dead after the last try), then give every queued job
 * without a live queue entry a fresh one: the job row is the authority, pg-boss only hands out work, so a crash
 * between the two (a create, a stop, a reap) never strands a job. Returns how many were reaped.
 */
export async function reapStale(store: Store, staleMs = STALE_MS): Promise<number> {
  const r = await store.pool.query<{ id: string; bench: string | null; boss_id: string | null }>(
    `UPDATE starbench.jobs SET state = CASE WHEN attempts >= $2 THEN 'dead' ELSE 'queued' END,
            last_error = 'agent ' || agent || ' stopped answering (no heartbeat since ' || to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')',
            updated_at = now()
      WHERE state = 'running' AND heartbeat_at < now() - ($1::int * interval '1 millisecond')
      RETURNING id, bench, boss_id`,
    [staleMs, MAX_ATTEMPTS],
  );
  // pg-boss retries the dead agent's entry after its backoff; should its own count run out first, the row still
  // says queued and requeueOrphans gives it a new entry.
  for (const j of r.rows)
    if (j.boss_id) await store.boss.fail(queueFor(j.bench ?? undefined), j.boss_id, { reason: 'agent stopped answering' }).catch(() => undefined);
  await requeueOrphans(store);
  return r.rowCount ?? 0;
}

/** Queued jobs whose queue entry is gone or finished (older than a few seconds): a new entry each. */
async function requeueOrphans(store: Store): Promise<void> {
  const orphans = await store.pool.query<{ id: string; bench: string | null; manifest: { target: string } }>(
    `SELECT id, bench, manifest FROM starbench.jobs j
      WHERE state = 'queued' AND updated_at < now() - interval '5 seconds'
        AND NOT EXISTS (SELECT 1 FROM pgboss.job b
                         WHERE b.name = CASE WHEN j.bench IS NULL THEN 'starbench-any' ELSE 'starbench-bench-' || j.bench END
                           AND b.id = j.boss_id::uuid AND b.state IN ('created', 'retry', 'active'))`,
  );
  for (const o of orphans.rows) {
    const queue = queueFor(o.bench ?? undefined);
    await store.ensureQueue(queue);
    const bossId = await store.boss.send(queue, { jobId: o.id }, { singletonKey: o.manifest.target });
    await store.pool.query(`UPDATE starbench.jobs SET boss_id = $2, updated_at = now() WHERE id = $1 AND state = 'queued'`, [o.id, bossId]);
  }
}

/**
 * Streams a growing journal file into the store, whole lines only, numbered after what the store already has.
 * One flush at a time; the offset moves only once the lines are stored; an insert is fenced by the lease (an
 * agent that lost its job stores nothing more), and a conflict is an error, never a silent loss.
 */
class JournalStream {
  private offset: number;
  private rest = '';
  private chain: Promise<void> = Promise.resolve();
  lost = false;
  constructor(
    private readonly store: Store,
    private readonly jobId: string,
    private readonly agent: string,
    private readonly attempt: number,
    private readonly file: string,
    private seq: number,
    startAt: number,
  ) {
    this.offset = startAt;
  }

  flush(): Promise<void> {
    const next = this.chain.then(() => this.once());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async once(): Promise<void> {
    if (this.lost || !existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    const buf = Buffer.alloc(size - this.offset);
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    const text = this.rest + buf.toString('utf8');
    const lines = text.split('\n');
    const rest = lines.pop() ?? '';
    if (lines.length) {
      const r = await this.store.pool.query(
        `INSERT INTO starbench.journal(job_id, seq, attempt, line)
         SELECT $1, $2::int + t.n - 1, $4, t.line FROM unnest($5::text[]) WITH ORDINALITY AS t(line, n)
          WHERE EXISTS (SELECT 1 FROM starbench.jobs WHERE id = $1 AND agent = $3 AND attempts = $4 AND state = 'running')`,
        [this.jobId, this.seq, this.agent, this.attempt, lines],
      );
      if (r.rowCount === 0) {
        this.lost = true;
        return;
      }
      this.seq += lines.length;
    }
    this.offset = size;
    this.rest = rest;
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
  if (!bench || !BENCH_NAME.test(bench)) throw new StarbenchError('USAGE', 'starbench agent needs its bench name: --bench NAME (letters, digits, . _ -)');
  const keyFile = args.values.key ?? process.env.STARBENCH_AGENT_KEY;
  if (!keyFile) throw new StarbenchError('USAGE', "starbench agent opens the sealed device files with the agents' private key: --key agent.pem");
  let privateKey: string;
  try {
    privateKey = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new StarbenchError('USAGE', `the agents' private key ${keyFile} cannot be read: ${errorMessage(err)}`);
  }
  const parallel = intArg(args.values.parallel, 'parallel', 1, 16);
  const globalConnections = intArg(args.values['global-connections'], 'global-connections', 32, 1024);
  // The run options every job gets are checked once, here: a misconfigured agent refuses to start rather than fail jobs.
  validateRunArgs({ ...args, values: { ...args.values, plugin: undefined } });
  const idleExitMs = args.values['idle-exit'] !== undefined ? intArg(args.values['idle-exit'], 'idle-exit', 0, 86400, 0) * 1000 : undefined;
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
  let reapedAt = 0;
  try {
    while (!io.signal.aborted) {
      // Every few seconds is enough: a lease is stale only after STALE_MS.
      if (Date.now() - reapedAt >= REAP_EVERY_MS) {
        reapedAt = Date.now();
        await reapStale(store).catch(() => 0);
      }
      // Idle counts from the end of the last job, not from its start.
      if (running.size > 0) idleSince = Date.now();
      if (running.size < parallel) {
        // A database that blinks costs a poll, not the agent (and the runs it has going).
        const job = await claim(store, queues).catch((err: unknown) => {
          io.err(`starbench agent ${name}: no job fetched this time: ${errorMessage(err)}\n`);
          return undefined;
        });
        if (job) {
          idleSince = Date.now();
          const p: Promise<void> = runJob(store, job, { name, bench, privateKey, work, io, global, args }).finally(() => running.delete(p));
          running.add(p);
          continue;
        }
      }
      if (idleExitMs !== undefined && running.size === 0 && Date.now() - idleSince >= idleExitMs) break;
      await sleepUnlessAborted(io.signal, POLL_MS);
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

/** What one try of a job came to; the bookkeeping after it is fenced by the lease (see finishJob). */
type Outcome =
  | { kind: 'done'; code: number; checks: Record<string, string>; report: unknown; runId: string; verdict: string }
  | { kind: 'stopped' }
  | { kind: 'lost' }
  | { kind: 'error'; message: string; permanent: boolean };

/** Run one claimed job; never throws (a database error is logged, and the lease then decides what happens). */
async function runJob(store: Store, claimed: Claimed, ctx: AgentContext): Promise<void> {
  try {
    await runClaimed(store, claimed, ctx);
  } catch (err) {
    ctx.io.err(`starbench agent: job ${claimed.jobId}: ${errorMessage(err)} (the job is handed back when its lease runs out)\n`);
  }
}

async function runClaimed(store: Store, claimed: Claimed, ctx: AgentContext): Promise<void> {
  const { io } = ctx;
  // Only a queued job is taken: a running one belongs to a live agent until the reaper says otherwise.
  // The job and its device in one statement: the device's lease is taken (or taken over from a try whose heartbeat
  // stopped) only with a queued job, and the job only with the lease.
  const taken = await store.pool.query<{ attempts: number }>(
    `WITH lease AS (
       INSERT INTO starbench.device_leases(target, job_id, agent, attempt, heartbeat_at)
       SELECT manifest->>'target', id, $2, attempts + 1, now() FROM starbench.jobs WHERE id = $1 AND state = 'queued'
       ON CONFLICT (target) DO UPDATE SET job_id = EXCLUDED.job_id, agent = EXCLUDED.agent, attempt = EXCLUDED.attempt, heartbeat_at = now()
         WHERE starbench.device_leases.heartbeat_at < now() - ($5::int * interval '1 millisecond')
       RETURNING job_id)
     UPDATE starbench.jobs SET state = 'running', attempts = attempts + 1, agent = $2, running_bench = $3, heartbeat_at = now(),
            boss_id = $4, started_at = COALESCE(started_at, now()), updated_at = now()
      WHERE id = $1 AND state = 'queued' AND EXISTS (SELECT 1 FROM lease) RETURNING attempts`,
    [claimed.jobId, ctx.name, ctx.bench, claimed.bossId, STALE_MS],
  );
  const row = taken.rows[0] ? await store.job(claimed.jobId) : undefined;
  if (!row) {
    // Done, failed, dead or running elsewhere (a stale queue entry), or its device busy with another job: this entry
    // ends; a job still queued gets a new one a few seconds later (requeueOrphans).
    await store.pool.query(`UPDATE starbench.jobs SET updated_at = now() WHERE id = $1 AND state = 'queued'`, [claimed.jobId]);
    await store.boss.complete(claimed.queue, claimed.bossId).catch(() => undefined);
    return;
  }
  const attempt = taken.rows[0].attempts;
  const lease = { id: row.id, agent: ctx.name, attempt };
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
  if (io.signal.aborted) stopRun();
  let lostLease = false;
  let lastBeat = Date.now();
  const loseLease = (why: string): void => {
    if (lostLease) return;
    lostLease = true;
    io.err(`${prefix}${why}: stopping this run\n`);
    ctl.abort();
  };
  const beat = setInterval(() => {
    // An agent cut off from the store stops its run before the reaper could hand the job to another.
    if (Date.now() - lastBeat > STALE_MS / 2) loseLease(`no heartbeat stored for ${Math.round((Date.now() - lastBeat) / 1000)} s`);
    store.pool
      .query(
        `WITH device AS (UPDATE starbench.device_leases SET heartbeat_at = now() WHERE target = $4 AND job_id = $1 AND agent = $2 AND attempt = $3)
         UPDATE starbench.jobs SET heartbeat_at = now() WHERE id = $1 AND agent = $2 AND attempts = $3 AND state = 'running'`,
        [row.id, ctx.name, attempt, row.manifest.target],
      )
      .then((r) => {
        if (r.rowCount === 0) loseLease('the job was handed to another agent');
        else lastBeat = Date.now();
      })
      .catch(() => undefined);
  }, HEARTBEAT_MS);
  const jobDir = path.join(ctx.work, row.id.replace(/[^A-Za-z0-9._-]+/g, '_'));
  const bundleDir = path.join(jobDir, `bundle-${attempt}`);
  const runDir = path.join(jobDir, `run-${attempt}`);
  let stream: JournalStream | undefined;
  const timer = setInterval(() => void stream?.flush().catch(() => undefined), POLL_MS);
  let outcome: Outcome;
  try {
    if (row.manifest.plugins.length && !ctx.args.values['allow-plugins'])
      throw new StarbenchError(
        'JOB_INVALID',
        `the job brings ${row.manifest.plugins.length} plugin module(s), code this agent would run: start the agent with --allow-plugins to trust them`,
      );
    const unpacked = await unpackBundle(row.manifest, bundleDir, (sha) => store.blob(sha), ctx.privateKey);
    const device = loadDeviceFile(unpacked.deviceFile);
    if (device.target.serial && !existsSync(device.target.serial.path))
      throw new StarbenchError('USAGE', `the serial console ${device.target.serial.path} is missing on bench ${ctx.bench}`);
    const stored = await store.journal(row.id);
    mkdirSync(runDir, { recursive: true });
    const args = {
      values: {
        ...ctx.args.values,
        profile: unpacked.profile,
        plugin: unpacked.plugins.length ? unpacked.plugins : undefined,
        out: jobDir,
        'non-interactive': true,
        quiet: true,
        // What goes to the store is masked, whatever the agent was started with.
        'reveal-secrets': false,
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
      resume = resumeState(saved, saved.profileId.includes('/') ? unpacked.profile : saved.profileId);
      const { results, repeated } = resume;
      const before = row.repeated ?? [];
      await store.pool.query('UPDATE starbench.jobs SET repeated = $2 WHERE id = $1 AND agent = $3 AND attempts = $4', [
        row.id,
        JSON.stringify([...new Set([...before, ...repeated])]),
        ctx.name,
        attempt,
      ]);
      io.err(
        `${prefix}try ${attempt}: resuming from the stored journal: ${results.size} probe result(s) kept${repeated.length ? `, in flight before and run again: ${repeated.join(', ')}` : ''}\n`,
      );
    } else io.err(`${prefix}try ${attempt}: started on ${ctx.name}\n`);
    const journal = path.join(runDir, 'journal.jsonl');
    stream = new JournalStream(store, row.id, ctx.name, attempt, journal, stored.length, existsSync(journal) ? statSync(journal).size : 0);
    const r = await assessOne(device, args, jobIo, { resume, runDir, prefix, summary: false, globalSlots: ctx.global, drain: drain.signal });
    clearInterval(timer);
    await stream.flush();
    if (lostLease || stream.lost) outcome = { kind: 'lost' };
    else if (r.report.run.interruptedBy === 'signal') outcome = { kind: 'stopped' };
    else
      outcome = {
        kind: 'done',
        code: r.code,
        checks: Object.fromEntries(r.report.checks.map((c) => [c.id, c.verdict])),
        report: r.report,
        runId: r.report.run.id,
        verdict: r.report.summary.verdict,
      };
  } catch (err) {
    clearInterval(timer);
    await stream?.flush().catch(() => undefined);
    // A job this bench can never run (its device file, key, plugins or serial port) fails once with its reason; anything else is retried.
    const permanent = isInputError(err) || (err instanceof StarbenchError && err.code === 'JOB_INVALID');
    outcome = lostLease ? { kind: 'lost' } : { kind: 'error', message: errorMessage(err), permanent };
  } finally {
    clearInterval(beat);
    clearInterval(timer);
    clearTimeout(grace);
    io.signal.removeEventListener('abort', stopRun);
    rmSync(bundleDir, { recursive: true, force: true });
  }
  try {
    await finishJob(store, claimed, lease, outcome, ctx, prefix);
  } finally {
    // The device is free for the next job (a lost try's lease belongs to whoever took it over: not touched).
    if (outcome.kind !== 'lost')
      await store.pool
        .query(`DELETE FROM starbench.device_leases WHERE target = $1 AND job_id = $2 AND agent = $3 AND attempt = $4`, [
          row.manifest.target,
          row.id,
          ctx.name,
          attempt,
        ])
        .catch(() => undefined);
  }
}

/**
 * Record a try's outcome, fenced by the lease (this agent, this try, still running): an agent that lost its job
 * changes nothing, neither the row nor the queue entry another agent now holds.
 */
async function finishJob(
  store: Store,
  claimed: Claimed,
  lease: { id: string; agent: string; attempt: number },
  o: Outcome,
  ctx: AgentContext,
  prefix: string,
): Promise<void> {
  const { io } = ctx;
  if (o.kind === 'lost') {
    io.err(`${prefix}this try no longer holds the job; nothing recorded\n`);
    return;
  }
  const fence = `WHERE id = $1 AND agent = $2 AND attempts = $3 AND state = 'running'`;
  const held = [lease.id, lease.agent, lease.attempt];
  if (o.kind === 'stopped') {
    // Graceful stop: what finished is stored; the job goes back to the queue with a new entry, the try not counted.
    const bossId = await store.boss.send(claimed.queue, { jobId: lease.id }, { singletonKey: (await store.job(lease.id))?.manifest.target });
    const r = await store.pool.query(
      `UPDATE starbench.jobs SET state = 'queued', attempts = attempts - 1, boss_id = $4, last_error = $5, heartbeat_at = NULL, updated_at = now() ${fence}`,
      [...held, bossId, `agent ${lease.agent} stopped (SIGTERM); the finished probes are kept`],
    );
    if (r.rowCount === 1) await store.boss.complete(claimed.queue, claimed.bossId).catch(() => undefined);
    else if (bossId) await store.boss.cancel(claimed.queue, bossId).catch(() => undefined);
    io.err(`${prefix}stopped; back in the queue\n`);
    return;
  }
  if (o.kind === 'done') {
    const r = await store.pool.query(
      `UPDATE starbench.jobs SET state = 'done', exit_code = $4, checks = $5, report = $6, run_id = $7, last_error = NULL, heartbeat_at = NULL,
              finished_at = now(), updated_at = now() ${fence}`,
      [...held, o.code, JSON.stringify(o.checks), JSON.stringify(o.report), o.runId],
    );
    if (r.rowCount === 1) {
      await store.boss.complete(claimed.queue, claimed.bossId).catch(() => undefined);
      io.err(`${prefix}done: ${o.verdict} (exit ${o.code})\n`);
    } else io.err(`${prefix}finished, but the job was handed to another agent meanwhile; its result stands, not this one\n`);
    return;
  }
  const dead = !o.permanent && lease.attempt >= MAX_ATTEMPTS;
  const r = await store.pool.query(`UPDATE starbench.jobs SET state = $4, last_error = $5, heartbeat_at = NULL, updated_at = now() ${fence}`, [
    ...held,
    o.permanent ? 'failed' : dead ? 'dead' : 'queued',
    o.message,
  ]);
  if (r.rowCount !== 1) return;
  if (o.permanent || dead) await store.boss.complete(claimed.queue, claimed.bossId, { failed: o.message }).catch(() => undefined);
  else await store.boss.fail(claimed.queue, claimed.bossId, { reason: o.message }).catch(() => undefined);
  io.err(`${prefix}${o.permanent ? 'failed' : dead ? 'dead after the last try' : 'failed, will be retried'}: ${o.message}\n`);
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
