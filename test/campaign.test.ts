/**
 * Campaigns on a real PostgreSQL (a private cluster started here, as
 * `nobody` when root) and pg-boss: three simulated cameras, two agents, one
 * killed with SIGKILL in the middle of its run. Every job ends done with the
 * verdicts of a single run, the killed one resumed from the journal the store
 * holds (finished probes not repeated, the one in flight named), nothing
 * recorded twice. Bad input: a broken device file refused at create while the
 * others go in, create twice adds nothing, an unreachable store is one line
 * and exit 2, a job whose serial console is missing on the bench fails once
 * with that reason.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startDemoDevice, type DemoDevice } from '../fixtures/demo-device';
import { startPostgres, type Postgres } from '../fixtures/postgres';
import type { Report } from '../harness/report';
import { starbench } from './helpers/cli';
import { campaignStatus, spawnAgent, until, type StatusJob } from './helpers/campaign';

describe('campaigns: a Postgres store, pg-boss, two agents, one killed', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-campaign-'));
  let pg: Postgres;
  const devices: DemoDevice[] = [];
  const agents: ChildProcess[] = [];
  const agentLog: string[] = [];
  let files: string[] = [];
  let baseline: Record<string, string>;
  let baselineRun: string;

  const status = (name: string): Promise<StatusJob[]> => campaignStatus(name, pg.url);
  const agent = (bench: string, extra: string[] = []): ChildProcess => {
    const n = agents.length;
    const key = path.join(dir, 'keys', 'agent.pem');
    const child = spawnAgent({ db: pg.url, bench, key, out: path.join(dir, `agent-${n}`), idleExit: 60, extra, tag: `agent ${n}`, log: agentLog });
    agents.push(child);
    return child;
  };

  beforeAll(async () => {
    pg = await startPostgres();
    for (let i = 0; i < 7; i++) devices.push(await startDemoDevice(`127.0.0.${i < 4 ? 21 + i : 22 + i}`));
    files = devices.slice(0, 3).map((d, i) => d.writeDeviceFile(path.join(dir, `dev${i}`)));
    expect((await starbench(['agent', 'keygen', '--out', path.join(dir, 'keys')])).code).toBe(0);
    // The verdicts of a single run, on a camera of its own (a run changes the camera's firmware and settings).
    const single = devices[3].writeDeviceFile(path.join(dir, 'single'));
    const r = await starbench(['run', single, '--out', path.join(dir, 'single-run'), '--quiet', '--non-interactive', '--format', 'json'], {
      timeoutMs: 120_000,
    });
    expect([1, 3]).toContain(r.code);
    const runDir = /report: (\S+)/.exec(r.stdout)![1];
    baselineRun = runDir;
    baseline = Object.fromEntries((JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as Report).checks.map((c) => [c.id, c.verdict]));
  }, 180_000);

  afterAll(async () => {
    for (const a of agents) a.kill('SIGKILL');
    await Promise.all(devices.map((d) => d.stop()));
    await pg?.stop();
  });

  it('create refuses a broken device file with file:line and queues the others; create again adds nothing', async () => {
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'device:\n  name: broken\ntarget:\n  host: 127.0.0.21\nservices:\n  - port: seventy\n');
    const pub = path.join(dir, 'keys', 'agent.pub.pem');
    const r = await starbench(['campaign', 'create', 'c1', '--db', pg.url, '--key', pub, ...files, broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused .*broken\.yaml: .*broken\.yaml:6: services\[0\]\.port/);
    expect(r.stdout).toMatch(/3 job\(s\) queued, 0 already there, 1 refused/);
    const again = await starbench(['campaign', 'create', 'c1', '--db', pg.url, '--key', pub, ...files]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 job\(s\) queued, 3 already there, 0 refused/);
    const jobs = await status('c1');
    expect(jobs.map((j) => j.state)).toEqual(['queued', 'queued', 'queued']);
  }, 60_000);

  it('no secret of a device file is in the store in clear', async () => {
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    try {
      const dump = (await c.query(`SELECT string_agg(encode(bytes, 'escape'), '') AS b FROM starbench.blobs`)).rows[0].b as string;
      const jobs = JSON.stringify((await c.query('SELECT * FROM starbench.jobs')).rows);
      for (const secret of ['hanako.canary@example.jp', '1234\n', 'password: "1234"', 'password: admin']) {
        expect(dump.includes(secret) || jobs.includes(secret)).toBe(false);
      }
      const pgboss = JSON.stringify((await c.query('SELECT data FROM pgboss.job')).rows);
      expect(pgboss).not.toMatch(/hanako|password/);
    } finally {
      await c.end();
    }
  });

  it('two agents, one killed with SIGKILL mid-run: three done jobs with single-run verdicts, the killed one resumed', async () => {
    const first = agent('b1');
    // The first agent takes a job and gets some probes done before it dies.
    // The first agent takes a job and finishes some of its ordinary probes; it dies before the disruptive ones (a
    // crash in the middle of an install is another case: the step runs again from a changed device, see the note).
    const c0 = new Client({ connectionString: pg.url });
    await c0.connect();
    let victim: { id: string };
    try {
      victim = await until(
        'a job of the first agent with ordinary probes finished and no disruptive one begun',
        60_000,
        async () => {
          const r = await c0.query(
            `SELECT j.id FROM starbench.jobs j WHERE j.state = 'running' AND j.agent LIKE $1
             AND (SELECT count(*) FROM starbench.journal l WHERE l.job_id = j.id AND l.line LIKE '%"probe-end"%') >= 4
             AND NOT EXISTS (SELECT 1 FROM starbench.journal l WHERE l.job_id = j.id AND l.line LIKE '%"phase":"disruptive probes"%')`,
            [`%#${first.pid}`],
          );
          return r.rows[0] ? { id: r.rows[0].id as string } : undefined;
        },
        150,
      );
    } finally {
      await c0.end();
    }
    first.kill('SIGKILL');
    agent('b1');
    const jobs = await until('every job done', 240_000, async () => {
      const j = await status('c1');
      return j.every((x) => x.state === 'done' || x.state === 'dead' || x.state === 'failed') ? j : undefined;
    });
    expect({ states: jobs.map((j) => j.state), log: jobs.some((j) => j.state !== 'done') ? agentLog.join('') : '' }).toEqual({
      states: ['done', 'done', 'done'],
      log: '',
    });
    for (const j of jobs) expect({ device: j.id, checks: j.checks }).toEqual({ device: j.id, checks: baseline });
    const killed = jobs.find((j) => j.id === victim.id)!;
    expect(killed.attempts).toBeGreaterThanOrEqual(2);
    // The second try resumed: the probes the first one finished were kept, not run again.
    const kept = /\[starbench demo camera\] try 2: resuming from the stored journal: (\d+) probe result\(s\) kept/.exec(agentLog.join(''));
    expect(Number(kept?.[1])).toBeGreaterThanOrEqual(4);
    // The journal the store holds: every probe ended once, and what was in flight ran again after the resume.
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    try {
      for (const j of jobs) {
        const lines = (await c.query(`SELECT line FROM starbench.journal WHERE job_id = $1 ORDER BY seq`, [j.id])).rows.map((r) =>
          JSON.parse(r.line as string),
        );
        // A probe cancelled by a stop ends twice (cancelled, then its real end); a finished one never runs again.
        const ends = lines.filter((e) => e.type === 'probe-end' && e.result.status !== 'cancelled').map((e) => e.result.probe as string);
        expect(ends.length).toBe(new Set(ends).size);
        expect(lines.filter((e) => e.type === 'run-begin').length).toBe(1);
        expect(lines.some((e) => e.type === 'run-end')).toBe(true);
      }
      // What the killed try had begun and not finished is named: in the resume event, the job's status and its report.
      const lines = (await c.query(`SELECT line FROM starbench.journal WHERE job_id = $1 ORDER BY seq`, [victim.id])).rows.map((r) =>
        JSON.parse(r.line as string),
      );
      const resumeAt = lines.findIndex((e) => e.type === 'run-resume');
      expect(resumeAt).toBeGreaterThan(0);
      const begun = new Set(
        lines
          .slice(0, resumeAt)
          .filter((e) => e.type === 'probe-begin')
          .map((e) => e.probe as string),
      );
      for (const e of lines.slice(0, resumeAt)) if (e.type === 'probe-end' && e.result.status !== 'cancelled') begun.delete(e.result.probe as string);
      const inFlight = [...begun].sort();
      expect(inFlight.length).toBeGreaterThan(0);
      expect([...(lines[resumeAt].repeated as string[])].sort()).toEqual(inFlight);
      expect([...(killed.repeated ?? [])].sort()).toEqual(inFlight);
      const stored = (await c.query('SELECT report FROM starbench.jobs WHERE id = $1', [victim.id])).rows[0].report as Report;
      expect(stored.run.resumedAt).toBeDefined();
      expect([...(stored.run.repeated ?? [])].sort()).toEqual(inFlight);
    } finally {
      await c.end();
    }
    const report = await starbench(['campaign', 'report', 'c1', '--db', pg.url, '--out', path.join(dir, 'report')]);
    expect(report.code).toBe(1);
    const summary = JSON.parse(readFileSync(path.join(dir, 'report', 'campaign.json'), 'utf8')) as { jobs: StatusJob[] };
    expect(summary.jobs.map((j) => j.state)).toEqual(['done', 'done', 'done']);
  }, 400_000);

  it('SIGTERM: the agent stops at a probe boundary and the job goes back to the queue, not counted as a failure', async () => {
    const file = devices[4].writeDeviceFile(path.join(dir, 'dev-term'));
    // Bench b3 only: the agents of the test before (bench b1, still up) take jobs for any bench.
    expect((await starbench(['campaign', 'create', 'c3', '--db', pg.url, '--key', path.join(dir, 'keys', 'agent.pub.pem'), '--bench', 'b3', file])).code).toBe(
      0,
    );
    const a = agent('b3');
    await until('the job running', 60_000, async () => ((await status('c3'))[0].state === 'running' ? true : undefined));
    await new Promise((r) => setTimeout(r, 3000));
    a.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => a.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    const [job] = await status('c3');
    expect({ job, log: job.state === 'queued' ? '' : agentLog.join('') }).toMatchObject({
      job: { state: 'queued', attempts: 0, lastError: expect.stringMatching(/stopped \(SIGTERM\); the finished probes are kept/) },
      log: '',
    });
    agent('b3');
    const [done] = await until('the job done by the next agent', 120_000, async () => {
      const j = await status('c3');
      return j[0].state === 'done' || j[0].state === 'dead' ? j : undefined;
    });
    expect(done).toMatchObject({ state: 'done', attempts: 1, checks: baseline });
  }, 200_000);

  it('one device in two campaigns, one bench-bound and one for any bench: never assessed twice at once', async () => {
    const file = devices[5].writeDeviceFile(path.join(dir, 'dev-twice'));
    const pub = path.join(dir, 'keys', 'agent.pub.pem');
    expect((await starbench(['campaign', 'create', 'c4', '--db', pg.url, '--key', pub, '--bench', 'b4', file])).code).toBe(0);
    expect((await starbench(['campaign', 'create', 'c5', '--db', pg.url, '--key', pub, file])).code).toBe(0);
    // One agent that could run both at once (its bench's queue and the any-bench queue, two at a time).
    agent('b4', ['--parallel', '2']);
    await until('both campaigns done', 150_000, async () => {
      const both = [...(await status('c4')), ...(await status('c5'))];
      return both.every((j) => j.state === 'done') ? both : undefined;
    });
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    try {
      const spans = (await c.query(`SELECT started_at, finished_at FROM starbench.jobs WHERE campaign IN ('c4', 'c5') ORDER BY started_at`)).rows as Array<{
        started_at: Date;
        finished_at: Date;
      }>;
      expect(spans).toHaveLength(2);
      expect(spans[1].started_at.getTime()).toBeGreaterThanOrEqual(spans[0].finished_at.getTime());
    } finally {
      await c.end();
    }
  }, 200_000);

  it('a surveillance unit: campaign report diffs its run against the certified run its device file names', async () => {
    const file = devices[6].writeDeviceFile(path.join(dir, 'dev-shop'));
    writeFileSync(file, `${readFileSync(file, 'utf8')}surveillance:\n  certifiedRun: ${baselineRun}\n`);
    const pub = path.join(dir, 'keys', 'agent.pub.pem');
    expect((await starbench(['campaign', 'create', 'c6', '--db', pg.url, '--key', pub, '--bench', 'b6', file])).code).toBe(0);
    agent('b6');
    await until('the shop unit done', 120_000, async () => ((await status('c6'))[0].state === 'done' ? true : undefined));
    const out = path.join(dir, 'report-c6');
    const r = await starbench(['campaign', 'report', 'c6', '--db', pg.url, '--out', out]);
    // The simulated unit answers on other ports than the certified one (each camera takes a free block): the diff
    // sees the services moved, the same verdicts, the same firmware; a moved service is worse, so the report fails.
    expect(r.stderr).toMatch(/starbench demo camera: against its certified run: WORSE/);
    expect(r.code).toBe(1);
    const json = JSON.parse(readFileSync(path.join(out, 'campaign.json'), 'utf8')) as { surveillance: Array<{ worse: boolean; diff: string }> };
    expect(json.surveillance).toEqual([expect.objectContaining({ worse: true })]);
    const diff = JSON.parse(readFileSync(path.join(path.dirname(json.surveillance[0].diff), 'diff.json'), 'utf8')) as {
      firmware: { changed: boolean };
      services: { added: Array<{ port: number }>; removed: Array<{ port: number }> };
      checks: unknown[];
    };
    expect(diff.firmware.changed).toBe(false);
    expect(diff.checks).toEqual([]);
    expect(diff.services.added.map((x) => x.port).sort()).toEqual(Object.values(devices[6].ports).sort());
    expect(diff.services.removed).toHaveLength(5);
    // A certified run that is not a run folder is refused at create, with the field named.
    const bad = devices[6].writeDeviceFile(path.join(dir, 'dev-shop-bad'));
    writeFileSync(bad, `${readFileSync(bad, 'utf8')}surveillance:\n  certifiedRun: ${dir}\n`);
    const refused = await starbench(['campaign', 'create', 'c7', '--db', pg.url, '--key', pub, bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/surveillance\.certifiedRun .* holds no journal\.jsonl or report\.json/);
  }, 200_000);

  it('a job whose serial console is missing on the bench fails once, with that reason', async () => {
    const d = path.join(dir, 'serial');
    mkdirSync(d, { recursive: true });
    const file = path.join(d, 'serial.yaml');
    writeFileSync(
      file,
      `device:\n  name: serial cam\ntarget:\n  host: 127.0.0.25\n  serial:\n    path: ${path.join(d, 'ttyMISSING')}\n    baudRate: 115200\nbench: b2\nservices: []\n`,
    );
    const r = await starbench(['campaign', 'create', 'c2', '--db', pg.url, '--key', path.join(dir, 'keys', 'agent.pub.pem'), file]);
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: expect.stringContaining('on bench b2') });
    agent('b2');
    const [job] = await until('the serial job ended', 60_000, async () => {
      const j = await status('c2');
      return j[0].state === 'failed' || j[0].state === 'dead' ? j : undefined;
    });
    expect(job).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.stringMatching(/ttyMISSING is missing on bench b2/) });
  }, 90_000);

  it('an unreachable store is one line and exit 2', async () => {
    const r = await starbench(['campaign', 'status', 'c1', '--db', 'postgres://starbench@127.0.0.1:1/none']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^starbench: the campaign database postgres:\/\/starbench@127\.0\.0\.1:1\/none cannot be reached: .*\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
