/**
 * Typed facts: every observation is validated against the schema its probe
 * declares, when the probe ends and when a saved run is read back. A
 * malformed or undeclared observation makes the probe `failed` — its checks
 * `error` — and is never read or dropped. No sockets, no processes.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { defineFact, factOf, factsOf, invalidObservations, validateProbeResult } from '../../harness/facts';
import { loadSavedRun } from '../../harness/saved-run';
import type { Check, Probe, ProbeResult } from '../../harness/types';
import { PROBES } from '../../probes';
import { TcpPortFact } from '../../probes/ports';
import { deviceFrom, minimalDevice } from '../helpers/device';
import { profileOf, runWith } from '../helpers/run';

const PortSeen = defineFact('port-seen', z.object({ port: z.number().int(), open: z.boolean() }));
const result = (observations: ProbeResult['observations']): ProbeResult => ({ probe: 'p', status: 'completed', durationMs: 1, observations, evidence: [] });

describe('fact validation', () => {
  it('a matching observation passes through unchanged and reads back typed', () => {
    const r = result([{ kind: 'port-seen', summary: 's', data: { port: 22, open: true } }]);
    expect(validateProbeResult(r, [PortSeen])).toBe(r);
    const facts = factsOf(r, PortSeen);
    expect(facts[0].port + 1).toBe(23);
    expect(factOf(undefined, PortSeen)).toBeUndefined();
  });

  it('a malformed observation fails the probe, naming the field', () => {
    const r = validateProbeResult(result([{ kind: 'port-seen', summary: 's', data: { port: 'twenty-two', open: true } }]), [PortSeen]);
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/observation 0 \(port-seen\) does not match its schema: port /);
    // the observation stays as evidence
    expect(r.observations).toHaveLength(1);
  });

  it('an observation of a kind the probe does not declare fails it', () => {
    expect(invalidObservations(result([{ kind: 'surprise', summary: 's', data: {} }]), [PortSeen])).toEqual([
      'observation 0 has kind "surprise", which probe p does not declare (it declares port-seen)',
    ]);
  });

  it('a result that did not complete is left as it is', () => {
    const r: ProbeResult = { ...result([{ kind: 'junk', summary: 's', data: {} }]), status: 'timed-out' };
    expect(validateProbeResult(r, [PortSeen])).toBe(r);
  });
});

describe('in a run', () => {
  const check: Check = {
    id: 'c',
    title: 'c',
    failsWhen: 'never',
    probes: ['p'],
    implemented: true,
    // A check that would pass on anything: the harness must not let a malformed fact reach it.
    judge: (input) => ({ verdict: 'pass', rationale: `saw ${factsOf(input.result('p'), PortSeen).length}`, findings: [] }),
  };

  it('a probe that records a malformed fact is failed and its check is an error, not a pass', async () => {
    const probe: Probe = {
      id: 'p',
      title: 'p',
      needs: [],
      facts: [PortSeen],
      run: async () => ({ observations: [{ kind: 'port-seen', summary: 's', data: { port: -1.5, open: 'yes' } }] }),
    };
    const { report } = await runWith({ device: deviceFrom(minimalDevice), profile: profileOf([{ id: 'R', checks: ['c'] }]), probes: [probe], checks: [check] });
    expect(report.observations.p.status).toBe('failed');
    expect(report.observations.p.reason).toMatch(/do not match its declared facts/);
    expect(report.checks[0].verdict).toBe('error');
  });
});

describe('saved runs', () => {
  it("every probe result of the saved lab runs validates against today's schemas", () => {
    for (const name of ['lab-weak', 'lab-strong', 'lab-mixed']) {
      const saved = loadSavedRun(path.join(__dirname, '..', '..', 'fixtures', 'runs', name), PROBES);
      const bad = [...saved.results.values()].filter((r) => r.status === 'failed' && /declared facts|does not validate/.test(r.reason ?? ''));
      expect({ name, bad: bad.map((r) => `${r.probe}: ${r.reason}`) }).toEqual({ name, bad: [] });
      expect(factsOf(saved.results.get('tcp-ports'), TcpPortFact).length).toBeGreaterThan(0);
    }
  });

  it('an altered observation in a saved journal makes that probe failed on re-judge, not dropped', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-tampered-'));
    cpSync(path.join(__dirname, '..', '..', 'fixtures', 'runs', 'lab-weak'), dir, { recursive: true });
    const file = path.join(dir, 'journal.jsonl');
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => {
        if (!l.includes('"type":"probe-end"') || !l.includes('"probe":"tcp-ports"')) return l;
        const e = JSON.parse(l) as { result: ProbeResult };
        const port = e.result.observations.find((o) => o.kind === 'tcp-port')!;
        port.data.state = 'wide open';
        return JSON.stringify(e);
      });
    writeFileSync(file, lines.join('\n'));
    const saved = loadSavedRun(dir, PROBES);
    expect(saved.results.get('tcp-ports')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/\(tcp-port\) does not match its schema: state /) });
  });

  it("a probe-end that is not a probe result at all is that probe's error", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-torn-'));
    cpSync(path.join(__dirname, '..', '..', 'fixtures', 'runs', 'lab-weak'), dir, { recursive: true });
    const file = path.join(dir, 'journal.jsonl');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .split('\n')
        .map((l) =>
          l.includes('"type":"probe-end"') && l.includes('"probe":"ssh"')
            ? JSON.stringify({ ...JSON.parse(l), result: { probe: 'ssh', status: 'completed' } })
            : l,
        )
        .join('\n'),
    );
    expect(loadSavedRun(dir, PROBES).results.get('ssh')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/saved result in the journal does not validate/),
    });
  });
});
