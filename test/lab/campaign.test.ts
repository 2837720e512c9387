/**
 * The bar of the campaign issue, on the reference lab: a campaign of the three
 * namespace devices (weak, strong, mixed) in a private PostgreSQL, two agents
 * on the lab bench, one killed with SIGKILL in the middle of its run.
 * `campaign status --json` ends with three done jobs whose verdicts are those
 * of single runs (each device's truth.json, which the truth tests hold single
 * runs to), the killed job resumed from its stored journal, nothing missing,
 * nothing twice.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { labRestore, TRUTH_DIR } from '../../fixtures/lab';
import type { LabDeviceName } from '../../fixtures/lab/config';
import { startPostgres, type Postgres } from '../../fixtures/postgres';
import { starbench } from '../helpers/cli';
import { campaignStatus, spawnAgent, until as waitFor, type StatusJob } from '../helpers/campaign';
import { holdDevice, labDevice } from './lab-state';

const DEVICES: LabDeviceName[] = ['weak', 'strong', 'mixed'];

describe('a campaign of the lab devices: two agents, one killed mid-run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-lab-campaign-'));
  let pg: Postgres;
  const releases: Array<() => Promise<void>> = [];
  const agents: ChildProcess[] = [];
  const log: string[] = [];

  const status = (): Promise<StatusJob[]> => campaignStatus('lab', pg.url);
  const agent = (): ChildProcess => {
    const n = agents.length;
    const key = path.join(dir, 'keys', 'agent.pem');
    const child = spawnAgent({
      db: pg.url,
      bench: 'lab',
      key,
      out: path.join(dir, `agent-${n}`),
      idleExit: 120,
      extra: ['--parallel', '2'],
      tag: `agent ${n}`,
      log,
    });
    agents.push(child);
    return child;
  };
  const until = <T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> => waitFor(what, ms, fn, 1000, () => log.join(''));

  beforeAll(async () => {
    for (const d of DEVICES) releases.push(await holdDevice(d));
    await labRestore(DEVICES);
    pg = await startPostgres();
  }, 1_300_000);

  afterAll(async () => {
    for (const a of agents) a.kill('SIGKILL');
    try {
      await labRestore(DEVICES);
    } finally {
      for (const r of releases) await r();
      await pg?.stop();
    }
  }, 200_000);

  it('three done jobs with the verdicts of single runs; the killed one resumed from the store, nothing twice', async () => {
    expect((await starbench(['agent', 'keygen', '--out', path.join(dir, 'keys')])).code).toBe(0);
    const files = DEVICES.map((d) => labDevice(d).deviceFile);
    const created = await starbench([
      'campaign',
      'create',
      'lab',
      '--db',
      pg.url,
      '--key',
      path.join(dir, 'keys', 'agent.pub.pem'),
      '--bench',
      'lab',
      ...files,
    ]);
    expect({ code: created.code, out: created.stdout }).toEqual({ code: 0, out: expect.stringMatching(/3 job\(s\) queued/) });
    const first = agent();
    agent();
    // The first agent's run gets some probes done, then the agent dies without a word.
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    let victim: string;
    try {
      victim = await until('a job of the first agent with probes finished', 300_000, async () => {
        const r = await c.query(
          `SELECT j.id FROM starbench.jobs j WHERE j.state = 'running' AND j.agent LIKE $1
             AND (SELECT count(*) FROM starbench.journal l WHERE l.job_id = j.id AND l.line LIKE '%"probe-end"%') >= 5
             AND NOT EXISTS (SELECT 1 FROM starbench.journal l WHERE l.job_id = j.id AND l.line LIKE '%"phase":"disruptive probes"%') LIMIT 1`,
          [`%#${first.pid}`],
        );
        return r.rows[0]?.id as string | undefined;
      });
      first.kill('SIGKILL');
      const jobs = await until('every job ended', 900_000, async () => {
        const j = await status();
        return j.every((x) => ['done', 'failed', 'dead'].includes(x.state)) ? j : undefined;
      });
      expect({ states: jobs.map((j) => j.state), log: jobs.every((j) => j.state === 'done') ? '' : log.join('') }).toEqual({
        states: ['done', 'done', 'done'],
        log: '',
      });
      for (const [i, name] of DEVICES.entries()) {
        const truth = JSON.parse(readFileSync(path.join(TRUTH_DIR, name, 'truth.json'), 'utf8')) as { checks: Record<string, { verdict: string }> };
        const expected = Object.fromEntries(Object.entries(truth.checks).map(([id, t]) => [id, t.verdict]));
        expect({ device: name, checks: jobs[i].checks }).toEqual({ device: name, checks: expected });
      }
      const killed = jobs.find((j) => j.id === victim)!;
      expect(killed.attempts).toBeGreaterThanOrEqual(2);
      expect(log.join('')).toMatch(/try 2: resuming from the stored journal: ([5-9]|\d\d) probe result\(s\) kept/);
      for (const j of jobs) {
        const lines = (await c.query(`SELECT line FROM starbench.journal WHERE job_id = $1 ORDER BY seq`, [j.id])).rows.map(
          (r: { line: string }) => JSON.parse(r.line) as { type: string; result?: { probe: string; status: string } },
        );
        const ends = lines.filter((e) => e.type === 'probe-end' && e.result!.status !== 'cancelled').map((e) => e.result!.probe);
        expect({ job: j.device, twice: ends.filter((p, k) => ends.indexOf(p) !== k) }).toEqual({ job: j.device, twice: [] });
        expect(lines.filter((e) => e.type === 'run-begin').length).toBe(1);
        expect(lines.filter((e) => e.type === 'run-end').length).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await c.end();
    }
  }, 1_500_000);
});
