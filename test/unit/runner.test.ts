import path from 'node:path';
import { readJournal } from '../../harness/journal';
import type { Check, Probe } from '../../harness/types';
import { gate } from '../../harness/gate';
import { deviceFrom, minimalDevice } from '../helpers/device';
import { profileOf, runWith, X_FACT } from '../helpers/run';

/** A check that passes when its probe saw `ok: true`, through the shared gate. */
function checkOn(id: string, probe: string): Check {
  return {
    id,
    title: id,
    failsWhen: 'the probe saw ok:false',
    probes: [probe],
    implemented: true,
    judge(input) {
      const g = gate(input, probe);
      if (!g.ok) return g.judgement;
      const ok = g.result.observations.every((o) => o.data.ok === true) && g.result.observations.length > 0;
      return { verdict: ok ? 'pass' : 'fail', rationale: ok ? 'saw ok' : 'saw not ok', findings: [], basis: [{ probe, kind: X_FACT.kind }] };
    },
  };
}

function probe(id: string, run: Probe['run'], extra: Partial<Probe> = {}): Probe {
  return { id, title: id, needs: ['host'], facts: [X_FACT], run, ...extra };
}

const okProbe = (id: string, counter?: { n: number }): Probe =>
  probe(id, async () => {
    if (counter) counter.n += 1;
    return { observations: [{ kind: 'x', summary: 'ok', data: { ok: true } }] };
  });

/** Waits for its signal; records that it was told to stop. */
const hangingProbe = (id: string, seen: { aborted: boolean }): Probe =>
  probe(
    id,
    (ctx) =>
      new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => {
          seen.aborted = true;
          reject(new Error('stopped'));
        }),
      ),
  );

const device = deviceFrom(minimalDevice);

describe('runner', () => {
  it('runs a probe shared by several checks once', async () => {
    const counter = { n: 0 };
    const { report } = await runWith({
      device,
      profile: profileOf([
        { id: 'R1', checks: ['c.a', 'c.b'] },
        { id: 'R2', checks: ['c.b'] },
      ]),
      probes: [okProbe('p', counter)],
      checks: [checkOn('c.a', 'p'), checkOn('c.b', 'p')],
    });
    expect(counter.n).toBe(1);
    expect(report.requirements.map((r) => r.verdict)).toEqual(['pass', 'pass']);
    expect(report.summary.exitCode).toBe(0);
  });

  it('a probe that times out gives inconclusive, names the probe, and is told to stop', async () => {
    const seen = { aborted: false };
    const { report, results } = await runWith({
      device,
      profile: profileOf([{ id: 'R1', checks: ['c.slow'] }]),
      probes: [hangingProbe('slow', seen)],
      checks: [checkOn('c.slow', 'slow')],
      extra: { probeTimeoutMs: 100 },
    });
    expect(seen.aborted).toBe(true);
    expect(results.get('slow')?.status).toBe('timed-out');
    expect(results.get('slow')?.reason).toMatch(/probe slow did not finish within/);
    expect(report.checks[0].verdict).toBe('inconclusive');
    expect(report.summary.exitCode).toBe(3);
  });

  it('the global deadline stops running probes and never passes the ones not run', async () => {
    const seen = { aborted: false };
    const { report, results } = await runWith({
      device,
      profile: profileOf([
        { id: 'R1', checks: ['c.slow'] },
        { id: 'R2', checks: ['c.after'] },
      ]),
      probes: [hangingProbe('slow', seen), { ...okProbe('after'), dependsOn: ['slow'] }],
      checks: [checkOn('c.slow', 'slow'), checkOn('c.after', 'after')],
      extra: { deadlineMs: 150, probeTimeoutMs: 10_000 },
    });
    expect(results.get('slow')?.status).toBe('timed-out');
    expect(results.get('slow')?.reason).toMatch(/deadline/);
    expect(results.get('after')?.status).not.toBe('completed');
    expect(report.run.incomplete).toBe(true);
    expect(report.run.interruptedBy).toBe('deadline');
    expect(report.requirements.every((r) => r.verdict !== 'pass')).toBe(true);
  });

  it('cancellation (Ctrl-C) stops probes, marks the report incomplete, and journals it', async () => {
    const seen = { aborted: false };
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    const { report, runDir } = await runWith({
      device,
      profile: profileOf([{ id: 'R1', checks: ['c.slow'] }]),
      probes: [hangingProbe('slow', seen)],
      checks: [checkOn('c.slow', 'slow')],
      extra: { signal: ctl.signal },
    });
    expect(seen.aborted).toBe(true);
    expect(report.run).toMatchObject({ incomplete: true, interruptedBy: 'signal' });
    expect(report.checks[0].verdict).toBe('not-tested');
    const journal = readJournal(path.join(runDir, 'journal.jsonl'));
    expect(journal.map((e) => e.type).filter((t) => !t.startsWith('phase-'))).toEqual(['run-begin', 'probe-begin', 'probe-end', 'check-end', 'run-end']);
    // each phase is titled in the journal, begin and end, in order
    expect(journal.filter((e) => e.type === 'phase-end').map((e) => e.phase)).toEqual(['target', 'ordinary probes', 'disruptive probes', 'judge and report']);
  });

  it('a probe that throws is an error, not a pass', async () => {
    const { report } = await runWith({
      device,
      profile: profileOf([{ id: 'R1', checks: ['c.x'] }]),
      probes: [
        probe('x', async () => {
          throw new Error('socket exploded');
        }),
      ],
      checks: [checkOn('c.x', 'x')],
    });
    expect(report.checks[0]).toMatchObject({ verdict: 'error', rationale: 'probe x failed: socket exploded' });
    expect(report.summary.exitCode).toBe(3);
  });

  it('a probe whose dependency failed is skipped with the reason', async () => {
    const { results } = await runWith({
      device,
      profile: profileOf([{ id: 'R1', checks: ['c.y'] }]),
      probes: [
        probe('base', async () => {
          throw new Error('no route');
        }),
        { ...okProbe('y'), dependsOn: ['base'] },
      ],
      checks: [checkOn('c.y', 'y')],
    });
    expect(results.get('y')).toMatchObject({ status: 'skipped', reason: 'needs probe base, which failed (no route)' });
  });

  it('a probe that is missing or skips is not-tested', async () => {
    const { report } = await runWith({
      device,
      profile: profileOf([
        { id: 'R1', checks: ['c.missing'] },
        { id: 'R2', checks: ['c.serial'] },
      ]),
      probes: [{ ...okProbe('serial'), skipReason: () => 'no serial port declared' }],
      checks: [checkOn('c.missing', 'nope'), checkOn('c.serial', 'serial')],
    });
    expect(report.checks.map((c) => [c.id, c.verdict, c.rationale])).toEqual([
      ['c.missing', 'not-tested', 'probe nope not implemented: probe not implemented in this version of starbench'],
      ['c.serial', 'not-tested', 'probe serial skipped: no serial port declared'],
    ]);
    expect(report.summary.verdict).toBe('not-tested');
    expect(report.summary.exitCode).toBe(3);
  });

  it('--only restricts the run and leaves other checks not-tested', async () => {
    const counter = { n: 0 };
    const { report } = await runWith({
      device,
      profile: profileOf([{ id: 'R1', checks: ['c.a', 'c.b'] }]),
      probes: [okProbe('pa'), okProbe('pb', counter)],
      checks: [checkOn('c.a', 'pa'), checkOn('c.b', 'pb')],
      extra: { only: new Set(['c.a']) },
    });
    expect(counter.n).toBe(0);
    expect(report.checks.find((c) => c.id === 'c.b')?.verdict).toBe('not-tested');
    expect(report.requirements[0].verdict).toBe('not-tested');
  });

  it('a check that throws is an error with the reason', async () => {
    const bad: Check = {
      ...checkOn('c.bad', 'p'),
      judge: () => {
        throw new Error('bug in judge');
      },
    };
    const { report } = await runWith({ device, profile: profileOf([{ id: 'R1', checks: ['c.bad'] }]), probes: [okProbe('p')], checks: [bad] });
    expect(report.checks[0]).toMatchObject({ verdict: 'error', rationale: 'the check itself failed: bug in judge' });
  });
});

describe('no evidence, no pass (enforced by the harness)', () => {
  const alwaysPass = (id: string, probeId: string): Check => ({
    id,
    title: id,
    failsWhen: '',
    probes: [probeId],
    implemented: true,
    judge: () => ({ verdict: 'pass', rationale: 'claims pass', findings: [] }),
  });

  it('a check claiming pass over a timed-out probe becomes inconclusive', async () => {
    const { report } = await runWith({
      device,
      profile: profileOf([{ id: 'R1', checks: ['c.liar'] }]),
      probes: [hangingProbe('slow', { aborted: false })],
      checks: [alwaysPass('c.liar', 'slow')],
      extra: { probeTimeoutMs: 50 },
    });
    expect(report.checks[0].verdict).toBe('inconclusive');
    expect(report.checks[0].rationale).toMatch(/probe slow timed out/);
  });

  it('a check claiming pass with no observation at all becomes inconclusive', async () => {
    const { report } = await runWith({
      device,
      profile: profileOf([{ id: 'R1', checks: ['c.liar'] }]),
      probes: [probe('empty', async () => ({ observations: [] }))],
      checks: [alwaysPass('c.liar', 'empty')],
    });
    expect(report.checks[0]).toMatchObject({ verdict: 'inconclusive', rationale: 'the check would pass, but its probes recorded no observation' });
  });
});

describe('phases', () => {
  it('drain (a campaign agent stopping): the disruptive probe in progress finishes, the next never starts, the run ends interrupted', async () => {
    const drain = new AbortController();
    const started: string[] = [];
    const step = (id: string, disruptive: Probe['disruptive']): Probe =>
      probe(
        id,
        async (ctx) => {
          started.push(id);
          if (id === 'update') drain.abort();
          await new Promise((r) => setTimeout(r, 50));
          // Not cut in half: its own signal stays quiet while the run drains.
          return { observations: [{ kind: 'x', summary: 'ok', data: { ok: !ctx.signal.aborted } }] };
        },
        { disruptive },
      );
    const probes = [step('update', 'update'), step('reset', 'factory-reset')];
    const checks = probes.map((p) => checkOn(`c.${p.id}`, p.id));
    const { report, runDir } = await runWith({
      device,
      profile: profileOf([{ id: 'R', checks: checks.map((c) => c.id) }]),
      probes,
      checks,
      extra: { drain: drain.signal },
    });
    expect(started).toEqual(['update']);
    expect(report.checks.map((c) => [c.id, c.verdict])).toEqual([
      ['c.update', 'pass'],
      ['c.reset', 'not-tested'],
    ]);
    expect(report.run).toMatchObject({ incomplete: true, interruptedBy: 'signal' });
    const ends = readJournal(path.join(runDir, 'journal.jsonl')).filter((e) => e.type === 'probe-end');
    expect(ends.map((e) => [(e.result as { probe: string }).probe, (e.result as { status: string }).status])).toEqual([
      ['update', 'completed'],
      ['reset', 'cancelled'],
    ]);
  });

  it('drain after every probe ended is a finished run, not an interrupted one', async () => {
    const drain = new AbortController();
    const last = probe(
      'reset',
      async () => {
        drain.abort();
        return { observations: [{ kind: 'x', summary: 'ok', data: { ok: true } }] };
      },
      { disruptive: 'factory-reset' },
    );
    const { report } = await runWith({
      device,
      profile: profileOf([{ id: 'R', checks: ['c.reset'] }]),
      probes: [last],
      checks: [checkOn('c.reset', 'reset')],
      extra: { drain: drain.signal },
    });
    expect(report.run.interruptedBy).toBeUndefined();
    expect(report.checks[0].verdict).toBe('pass');
  });

  it('ordinary probes first, side by side; then the disruptive ones one at a time in DISRUPTIVE_ORDER, whatever order they were declared in', async () => {
    const log: string[] = [];
    let running = 0;
    let overlap = false;
    const timed = (id: string, disruptive?: Probe['disruptive']): Probe =>
      probe(
        id,
        async () => {
          log.push(`start ${id}`);
          running += 1;
          if (disruptive && running > 1) overlap = true;
          await new Promise((r) => setTimeout(r, 20));
          running -= 1;
          log.push(`end ${id}`);
          return { observations: [{ kind: 'x', summary: 'ok', data: { ok: true } }] };
        },
        disruptive ? { disruptive } : {},
      );
    const probes = [
      timed('reset', 'factory-reset'),
      timed('brute', 'brute-force'),
      timed('scan'),
      timed('serial', 'serial-console'),
      timed('update', 'update'),
      timed('tls'),
    ];
    const checks = probes.map((p) => checkOn(`c.${p.id}`, p.id));
    await runWith({ device, profile: profileOf([{ id: 'R', checks: checks.map((c) => c.id) }]), probes, checks });
    const starts = log.filter((l) => l.startsWith('start')).map((l) => l.slice(6));
    expect(starts.slice(0, 2).sort()).toEqual(['scan', 'tls']);
    expect(starts.slice(2)).toEqual(['serial', 'brute', 'update', 'reset']);
    expect(log.indexOf('start serial')).toBeGreaterThan(Math.max(log.indexOf('end scan'), log.indexOf('end tls')));
    expect(overlap).toBe(false);
  });

  it('a disruptive probe that disturbs nothing for this device (sideBySide) runs with the ordinary probes; for another device it waits its turn', async () => {
    const run = async (restart: boolean): Promise<string[]> => {
      const log: string[] = [];
      const timed = (id: string, extra: Partial<Probe> = {}): Probe =>
        probe(
          id,
          async () => {
            log.push(`start ${id}`);
            await new Promise((r) => setTimeout(r, 30));
            log.push(`end ${id}`);
            return { observations: [{ kind: 'x', summary: 'ok', data: { ok: true } }] };
          },
          extra,
        );
      const probes = [
        timed('scan'),
        timed('serial', { disruptive: 'serial-console', sideBySide: (d) => !d.restart }),
        timed('brute', { disruptive: 'brute-force' }),
      ];
      const dev = restart ? deviceFrom({ ...minimalDevice, restart: { operator: 'press the power button' } }) : device;
      const checks = probes.map((p) => checkOn(`c.${p.id}`, p.id));
      await runWith({ device: dev, profile: profileOf([{ id: 'R', checks: checks.map((c) => c.id) }]), probes, checks });
      return log;
    };
    const alone = await run(false);
    expect(alone.slice(0, 2).sort()).toEqual(['start scan', 'start serial']);
    expect(alone.indexOf('start brute')).toBeGreaterThan(alone.indexOf('end serial'));
    const restarting = await run(true);
    expect(restarting.indexOf('start serial')).toBeGreaterThan(restarting.indexOf('end scan'));
    expect(restarting.indexOf('start brute')).toBeGreaterThan(restarting.indexOf('end serial'));
  });

  it('a phase with its own budget: when the ordinary phase runs out, its hung probe is stopped (timed-out) and the disruptive phase still runs', async () => {
    const seen = { aborted: false };
    const budgeted = deviceFrom({ ...minimalDevice, limits: { phaseSeconds: { ordinary: 0.3 } } });
    const probes = [hangingProbe('hung', seen), okProbe('fast'), probe('reset', okProbe('reset').run, { disruptive: 'factory-reset' })];
    const checks = probes.map((p) => checkOn(`c.${p.id}`, p.id));
    const started = Date.now();
    const { results, report, runDir } = await runWith({ device: budgeted, profile: profileOf([{ id: 'R', checks: checks.map((c) => c.id) }]), probes, checks });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(seen.aborted).toBe(true);
    expect(results.get('hung')).toMatchObject({ status: 'timed-out', reason: 'phase "ordinary probes" did not finish within its budget of 0.3 s' });
    expect(results.get('fast')?.status).toBe('completed');
    expect(results.get('reset')?.status).toBe('completed');
    expect(report.checks.find((c) => c.id === 'c.hung')?.verdict).toBe('inconclusive');
    expect(report.errors).toContainEqual({ where: 'phase ordinary probes', message: expect.stringMatching(/budget of 0.3 s/) });
    const journal = readJournal(path.join(runDir, 'journal.jsonl'));
    expect(journal.find((e) => e.type === 'phase-begin' && e.phase === 'ordinary probes')).toMatchObject({ budgetSeconds: 0.3 });
    expect(journal.find((e) => e.type === 'phase-end' && e.phase === 'ordinary probes')).toMatchObject({ timedOut: true });
    expect(journal.find((e) => e.type === 'phase-end' && e.phase === 'disruptive probes')?.timedOut).toBeUndefined();
  });
  it('a disruptive probe not started when its phase ran out is recorded timed-out, never run', async () => {
    const seen = { aborted: false };
    const budgeted = deviceFrom({ ...minimalDevice, limits: { phaseSeconds: { disruptive: 0.3 } } });
    const counter = { n: 0 };
    const probes = [
      probe('serial', hangingProbe('serial', seen).run, { disruptive: 'serial-console' }),
      probe('reset', okProbe('reset', counter).run, { disruptive: 'factory-reset' }),
    ];
    const checks = probes.map((p) => checkOn(`c.${p.id}`, p.id));
    const { results } = await runWith({ device: budgeted, profile: profileOf([{ id: 'R', checks: checks.map((c) => c.id) }]), probes, checks });
    expect(results.get('serial')?.status).toBe('timed-out');
    expect(results.get('reset')).toMatchObject({ status: 'timed-out', reason: expect.stringMatching(/budget of 0.3 s before this probe started/) });
    expect(counter.n).toBe(0);
  });
});
