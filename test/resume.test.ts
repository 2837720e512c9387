/**
 * Crash-safe runs: the CLI is killed with SIGKILL in the middle of a run (no
 * chance to write anything more), then `starbench resume` finishes it in the
 * same folder. Only what had not finished runs again, and the verdicts are
 * those of an uninterrupted run of the same device.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDemoDevice, type DemoDevice } from '../fixtures/demo-device';
import { readJournal } from '../harness/journal';
import type { Report } from '../harness/report';
import { starbench } from './helpers/cli';

let demo: DemoDevice;
beforeAll(async () => {
  demo = await startDemoDevice();
});
afterAll(async () => demo?.stop());

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'sb-resume-'));
/** The run folder in `dir`: the one with a journal (the demo also writes its device file and images there). */
const onlyRun = (dir: string): string =>
  path.join(
    dir,
    readdirSync(dir).find((f) => existsSync(path.join(dir, f, 'journal.jsonl')))!,
  );
const readReport = (dir: string): Report => JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;
const verdicts = (r: Report) => Object.fromEntries(r.checks.map((c) => [c.id, c.verdict]));

describe('kill -9 and resume', () => {
  it('finishes the run in the same folder, re-running only the unfinished probes, with the verdicts of an uninterrupted run', async () => {
    const out = tmp();
    const file = demo.writeDeviceFile(out);
    let journal = '';
    const killed = await starbench(['run', file, '--out', out, '--quiet', '--non-interactive'], {
      timeoutMs: 60_000,
      onStart: (pid) => {
        // Kill as soon as some probes have ended and others have not: poll the journal.
        const poll = setInterval(() => {
          const dirs = readdirSync(out).filter((f) => f.startsWith('starbench-'));
          if (!dirs.length) return;
          journal = path.join(out, dirs[0], 'journal.jsonl');
          if (!existsSync(journal)) return;
          const ended = readJournal(journal).filter((e) => e.type === 'probe-end').length;
          if (ended >= 2) {
            clearInterval(poll);
            process.kill(pid, 'SIGKILL');
          }
        }, 20);
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const runDir = onlyRun(out);
    expect(existsSync(path.join(runDir, 'report.json'))).toBe(false);
    const before = readJournal(journal);
    const endedBefore = before.filter((e) => e.type === 'probe-end').map((e) => (e.result as { probe: string }).probe);
    expect(before.some((e) => e.type === 'run-end')).toBe(false);
    // A torn last line (killed mid-write) must not stop the resume: simulate one.
    writeFileSync(journal, readFileSync(journal, 'utf8') + '{"type":"probe-end","resu');

    const resumed = await starbench(['resume', runDir, '--quiet', '--non-interactive'], { timeoutMs: 60_000 });
    const report = readReport(runDir);
    expect(resumed.code).toBe(report.summary.exitCode);
    expect(report.run).toMatchObject({ incomplete: false, id: path.basename(runDir) });
    expect(report.run.resumedAt).toBeDefined();
    const resume = readJournal(journal).find((e) => e.type === 'run-resume')!;
    expect((resume.reused as string[]).sort()).toEqual([...endedBefore].sort());
    // What had begun and not ended when the run was killed ran again, and the report says so.
    const inFlight = before
      .filter((e) => e.type === 'probe-begin' && !endedBefore.includes(e.probe as string))
      .map((e) => e.probe as string)
      .sort();
    expect(inFlight.length).toBeGreaterThan(0);
    expect([...(resume.repeated as string[])].sort()).toEqual(inFlight);
    expect([...(report.run.repeated ?? [])].sort()).toEqual(inFlight);
    const html = readFileSync(path.join(runDir, 'report.html'), 'utf8');
    expect(html).toContain(`run again: ${report.run.repeated!.join(', ')}`);
    // nothing that had ended ran twice
    const ends = readJournal(journal)
      .filter((e) => e.type === 'probe-end')
      .map((e) => (e.result as { probe: string }).probe);
    expect(ends.length).toBe(new Set(ends).size);

    // A second demo device: the first one has had images installed and a reset by now.
    const second = await startDemoDevice();
    const fresh = tmp();
    const again = await starbench(['run', second.writeDeviceFile(fresh), '--out', fresh, '--quiet', '--non-interactive'], { timeoutMs: 60_000 }).finally(() =>
      second.stop(),
    );
    const uninterrupted = readReport(onlyRun(fresh));
    expect(again.code).toBe(resumed.code);
    expect(verdicts(report)).toEqual(verdicts(uninterrupted));
    expect(report.requirements.map((r) => [r.id, r.verdict])).toEqual(uninterrupted.requirements.map((r) => [r.id, r.verdict]));
  }, 120_000);

  it('refuses to resume a finished run, or one whose device file changed', async () => {
    const out = tmp();
    const file = demo.writeDeviceFile(out);
    await starbench(['run', file, '--out', out, '--quiet', '--non-interactive', '--only', 'comms.plaintext'], { timeoutMs: 60_000 });
    const runDir = onlyRun(out);
    const done = await starbench(['resume', runDir]);
    expect(done.code).toBe(2);
    expect(done.stderr).toMatch(/finished already; nothing to resume/);
    // pretend it was killed, then change the device file
    const j = path.join(runDir, 'journal.jsonl');
    writeFileSync(
      j,
      readFileSync(j, 'utf8')
        .split('\n')
        .filter((l) => !l.includes('"run-end"'))
        .join('\n'),
    );
    writeFileSync(file, readFileSync(file, 'utf8') + '\n# edited\n');
    const changed = await starbench(['resume', runDir]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/changed since the run started/);
  }, 60_000);
});
