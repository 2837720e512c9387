/**
 * The campaign store: one PostgreSQL database holds the queue (pg-boss, in its
 * own schema) and the results (schema `starbench`): campaigns, jobs with their
 * state and verdicts, the content-addressed blobs the jobs' bundles name, and
 * every journal line the agents streamed, so a retried job resumes from it.
 *
 * pg-boss does the claiming (SKIP LOCKED), retries with backoff and the
 * dead-letter queue; a job's lease is its expiry, renewed by nothing in
 * pg-boss 10, so the agent keeps its own heartbeat here and any agent fails a
 * job whose heartbeat stopped (its agent died): pg-boss then retries it.
 */
import PgBoss from 'pg-boss';
import { Pool, type PoolClient } from 'pg';
import { StarbenchError } from '../errors';
import type { BundleManifest, Packed } from './bundle';
import { embeddedDir, ensureEmbedded } from './embedded';

export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'dead'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** The queue a job waits in: its bench's, or the one any bench takes from. */
export const queueFor = (bench: string | undefined): string => (bench ? `starbench-bench-${bench}` : 'starbench-any');
export const DEAD_QUEUE = 'starbench-dead';

/** Tries per job (the first and two retries), then the dead-letter state with the last reason. */
export const MAX_ATTEMPTS = 3;

export interface JobRow {
  id: string;
  campaign: string;
  device: string;
  deviceFile: string;
  bench: string | null;
  state: JobState;
  attempts: number;
  agent: string | null;
  runningBench: string | null;
  heartbeatAt: string | null;
  lastError: string | null;
  exitCode: number | null;
  checks: Record<string, string> | null;
  repeated: string[] | null;
  runId: string | null;
  manifest: BundleManifest;
}

const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS starbench;
CREATE TABLE IF NOT EXISTS starbench.campaigns (
  name text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS starbench.blobs (
  sha256 text PRIMARY KEY,
  bytes bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS starbench.jobs (
  id text PRIMARY KEY,
  campaign text NOT NULL REFERENCES starbench.campaigns(name),
  bundle_key text NOT NULL,
  device text NOT NULL,
  device_file text NOT NULL,
  bench text,
  manifest jsonb NOT NULL,
  state text NOT NULL DEFAULT 'queued',
  attempts int NOT NULL DEFAULT 0,
  agent text,
  running_bench text,
  heartbeat_at timestamptz,
  last_error text,
  exit_code int,
  checks jsonb,
  report jsonb,
  repeated jsonb,
  run_id text,
  boss_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (campaign, bundle_key)
);
ALTER TABLE starbench.jobs ADD COLUMN IF NOT EXISTS started_at timestamptz, ADD COLUMN IF NOT EXISTS finished_at timestamptz;
CREATE INDEX IF NOT EXISTS jobs_state ON starbench.jobs(state);
-- One device (its target host) is assessed by one try of one job at a time, whatever campaign or queue it came from.
CREATE TABLE IF NOT EXISTS starbench.device_leases (
  target text PRIMARY KEY,
  job_id text NOT NULL,
  agent text NOT NULL,
  attempt int NOT NULL,
  heartbeat_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS starbench.journal (
  job_id text NOT NULL REFERENCES starbench.jobs(id),
  seq int NOT NULL,
  attempt int NOT NULL,
  line text NOT NULL,
  PRIMARY KEY (job_id, seq)
);
`;

/** One clear line for a database that cannot be reached (exit 2), never a stack trace. */
function unreachable(url: string, err: unknown): StarbenchError {
  const safe = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  return new StarbenchError('STORE_UNREACHABLE', `the campaign database ${safe} cannot be reached: ${(err as Error).message || String(err)}`);
}

export class Store {
  readonly pool: Pool;
  readonly boss: PgBoss;
  private readonly queues = new Set<string>();

  private constructor(
    readonly url: string,
    pool: Pool,
    boss: PgBoss,
  ) {
    this.pool = pool;
    this.boss = boss;
  }

  /** Connect, create the schema if needed and start pg-boss (its maintenance runs in whichever process is up). */
  static async open(db: string, opts: { supervise?: boolean } = {}): Promise<Store> {
    const dir = embeddedDir(db);
    if (!dir && !/^postgres(ql)?:\/\//.test(db)) throw new StarbenchError('USAGE', `--db takes a postgres:// URL or pglite:FOLDER, got "${db}"`);
    const url = dir ? await ensureEmbedded(dir) : db;
    const pool = new Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined);
    try {
      await pool.query(SCHEMA);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw unreachable(url, err);
    }
    const boss = new PgBoss({
      connectionString: url,
      max: 4,
      supervise: opts.supervise ?? true,
      schedule: false,
      monitorStateIntervalSeconds: 60,
      maintenanceIntervalSeconds: 5,
    });
    boss.on('error', () => undefined);
    try {
      await boss.start();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw unreachable(url, err);
    }
    return new Store(db, pool, boss);
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  async ensureQueue(name: string): Promise<void> {
    if (this.queues.has(name)) return;
    if (!(await this.boss.getQueue(name))) {
      if (name !== DEAD_QUEUE && !(await this.boss.getQueue(DEAD_QUEUE))) await this.boss.createQueue(DEAD_QUEUE).catch(() => undefined);
      // Retries: the first try and two more, 10 s then 20 s later; pg-boss's own expiry is a backstop far past any run.
      await this.boss
        .createQueue(name, {
          name,
          policy: 'singleton',
          retryLimit: MAX_ATTEMPTS - 1,
          retryDelay: 10,
          retryBackoff: true,
          // Just under pg-boss's limit (24 h, also the longest deadline a device file allows): the agents' heartbeat is the real lease.
          expireInSeconds: 24 * 3600 - 60,
          ...(name === DEAD_QUEUE ? {} : { deadLetter: DEAD_QUEUE }),
        })
        .catch((err: Error) => {
          // Another process created it meanwhile.
          if (!/already exists|duplicate/i.test(err.message)) throw err;
        });
    }
    this.queues.add(name);
  }

  async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /**
   * Enqueue one packed device in a campaign; the same bundle twice in one campaign adds nothing.
   * Returns the job id and whether it was new.
   */
  async enqueue(campaign: string, packed: Packed, deviceFile: string): Promise<{ id: string; created: boolean }> {
    const id = `${campaign}/${packed.key.slice(0, 16)}`;
    const created = await this.tx(async (c) => {
      await c.query('INSERT INTO starbench.campaigns(name) VALUES ($1) ON CONFLICT DO NOTHING', [campaign]);
      for (const [sha, bytes] of packed.blobs) await c.query('INSERT INTO starbench.blobs(sha256, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING', [sha, bytes]);
      const r = await c.query(
        `INSERT INTO starbench.jobs(id, campaign, bundle_key, device, device_file, bench, manifest)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [id, campaign, packed.key, packed.manifest.deviceName, deviceFile, packed.manifest.bench ?? null, JSON.stringify(packed.manifest)],
      );
      return r.rowCount === 1;
    });
    // A job row without its queue entry (a create that died in between) gets it now: create again repairs it.
    const queued = (await this.pool.query<{ boss_id: string | null }>('SELECT boss_id FROM starbench.jobs WHERE id = $1', [id])).rows[0]?.boss_id;
    if (!queued) {
      const queue = queueFor(packed.manifest.bench);
      await this.ensureQueue(queue);
      // The queue's singleton policy keyed by the target: one device is never in two active jobs at once, whatever campaign.
      const bossId = await this.boss.send(queue, { jobId: id }, { singletonKey: packed.manifest.target });
      await this.pool.query('UPDATE starbench.jobs SET boss_id = $2 WHERE id = $1', [id, bossId]);
    }
    return { id, created };
  }

  async blob(sha: string): Promise<Buffer> {
    const r = await this.pool.query<{ bytes: Buffer }>('SELECT bytes FROM starbench.blobs WHERE sha256 = $1', [sha]);
    if (!r.rows[0]) throw new StarbenchError('JOB_INVALID', `the store has no content ${sha.slice(0, 12)}…`);
    return r.rows[0].bytes;
  }

  async jobs(campaign: string): Promise<JobRow[]> {
    const r = await this.pool.query(
      `SELECT id, campaign, device, device_file, bench, state, attempts, agent, running_bench, heartbeat_at, last_error,
              exit_code, checks, repeated, run_id, manifest
         FROM starbench.jobs WHERE campaign = $1 ORDER BY created_at, id`,
      [campaign],
    );
    return r.rows.map(toRow);
  }

  async job(id: string): Promise<JobRow | undefined> {
    const r = await this.pool.query(
      `SELECT id, campaign, device, device_file, bench, state, attempts, agent, running_bench, heartbeat_at, last_error,
              exit_code, checks, repeated, run_id, manifest
         FROM starbench.jobs WHERE id = $1`,
      [id],
    );
    return r.rows[0] ? toRow(r.rows[0]) : undefined;
  }

  async campaignExists(name: string): Promise<boolean> {
    return (await this.pool.query('SELECT 1 FROM starbench.campaigns WHERE name = $1', [name])).rowCount === 1;
  }

  async report(id: string): Promise<unknown> {
    return (await this.pool.query('SELECT report FROM starbench.jobs WHERE id = $1', [id])).rows[0]?.report ?? null;
  }

  /** The journal lines stored for a job, in order. */
  async journal(id: string): Promise<string[]> {
    return (await this.pool.query<{ line: string }>('SELECT line FROM starbench.journal WHERE job_id = $1 ORDER BY seq', [id])).rows.map((r) => r.line);
  }
}

function toRow(r: Record<string, unknown>): JobRow {
  return {
    id: String(r.id),
    campaign: String(r.campaign),
    device: String(r.device),
    deviceFile: String(r.device_file),
    bench: (r.bench as string | null) ?? null,
    state: r.state as JobState,
    attempts: Number(r.attempts),
    agent: (r.agent as string | null) ?? null,
    runningBench: (r.running_bench as string | null) ?? null,
    heartbeatAt: r.heartbeat_at ? new Date(r.heartbeat_at as string).toISOString() : null,
    lastError: (r.last_error as string | null) ?? null,
    exitCode: r.exit_code === null || r.exit_code === undefined ? null : Number(r.exit_code),
    checks: (r.checks as Record<string, string> | null) ?? null,
    repeated: (r.repeated as string[] | null) ?? null,
    runId: (r.run_id as string | null) ?? null,
    manifest: r.manifest as BundleManifest,
  };
}
