/**
 * Surveillance diff: what changed between the run of the certified unit and
 * the run of a unit bought later — firmware, services, check verdicts, new
 * findings. "Worse" is a verdict further from pass, a service that was not
 * there, or a finding that was not there; any of those makes the exit code 1.
 */
import type { Report } from '../harness/report';
import type { DestinationRow } from '../harness/destination-row';
import { verdictChange, type Verdict } from '../harness/verdict';
import { escapeXml as h } from './escape';

export interface Service {
  transport: 'tcp' | 'udp';
  port: number;
  service?: string;
}

export interface RunDiff {
  a: { run: string; device: string; profile: string };
  b: { run: string; device: string; profile: string };
  firmware: { declared: [string | null, string | null]; observed: [string | null, string | null]; changed: boolean };
  services: { added: Service[]; removed: Service[] };
  /** Where the device connects: destinations new in the compared unit, and gone from it (present when both runs watched traffic). */
  destinations?: { added: DestinationRow[]; removed: DestinationRow[] };
  checks: Array<{ id: string; from: Verdict; to: Verdict; change: 'worse' | 'better' | 'changed' }>;
  newFindings: Array<{ check: string; severity: string; message: string }>;
  /**
   * Key fingerprints (SSH host keys, TLS public keys) found on both units: a key baked into the firmware (EN 18031
   * CCK-3). Present when both runs recorded keys.
   */
  keys?: { compared: [number, number]; shared: Array<{ a: string; b: string; sha256: string }> };
  worse: boolean;
}

/** A key a run recorded, with where (`deviceKeys` in the crypto.unique-device-keys check reads them). */
export interface RecordedKey {
  where: string;
  sha256: string;
}

export function servicesOf(report: Report): Service[] {
  const out: Service[] = [];
  for (const o of report.observations['tcp-ports']?.observations ?? []) {
    if (o.kind === 'tcp-port' && o.data.state === 'open')
      out.push({ transport: 'tcp', port: Number(o.port), service: typeof o.data.service === 'string' ? o.data.service : undefined });
  }
  for (const o of report.observations['udp-services']?.observations ?? []) {
    if (o.kind === 'udp-port' && o.data.state === 'open')
      out.push({ transport: 'udp', port: Number(o.port), service: typeof o.data.service === 'string' ? o.data.service : undefined });
  }
  return out;
}

const key = (s: Service): string => `${s.transport}/${s.port}`;

/** A finding's identity without its measurements: "~416 ms" and "~423 ms" are the same finding. */
export function findingKey(message: string): string {
  return message.replace(/~?\d+(\.\d+)?\s?(ms|s)\b/g, '#t');
}

/** `keys`: each run's recorded keys, when the caller can read them (two units sharing one is worse). */
export function diffRuns(a: Report, b: Report, keys?: { a: readonly RecordedKey[]; b: readonly RecordedKey[] }): RunDiff {
  const fa = a.device.firmware;
  const fb = b.device.firmware;
  const firmware = {
    declared: [fa.declared ?? null, fb.declared ?? null] as [string | null, string | null],
    observed: [fa.observed ?? null, fb.observed ?? null] as [string | null, string | null],
    changed: (fa.observed ?? fa.declared ?? null) !== (fb.observed ?? fb.declared ?? null),
  };
  const sa = servicesOf(a);
  const sb = servicesOf(b);
  const inA = new Set(sa.map(key));
  const inB = new Set(sb.map(key));
  const services = { added: sb.filter((s) => !inA.has(key(s))), removed: sa.filter((s) => !inB.has(key(s))) };
  // A destination is its names when it has any (addresses of a cloud move), else its address; with port and transport.
  const dkey = (x: DestinationRow): string => `${x.transport}/${x.port}/${x.names.length ? x.names.join(',') : x.address}`;
  const destinations =
    a.destinations && b.destinations
      ? {
          added: b.destinations.filter((x) => !x.local && !a.destinations!.some((y) => dkey(y) === dkey(x))),
          removed: a.destinations.filter((x) => !x.local && !b.destinations!.some((y) => dkey(y) === dkey(x))),
        }
      : undefined;
  const checksA = new Map(a.checks.map((c) => [c.id, c]));
  const checks: RunDiff['checks'] = [];
  const newFindings: RunDiff['newFindings'] = [];
  for (const c of b.checks) {
    const before = checksA.get(c.id);
    if (!before) continue;
    if (before.verdict !== c.verdict) {
      const d = verdictChange(before.verdict, c.verdict);
      checks.push({ id: c.id, from: before.verdict, to: c.verdict, change: d > 0 ? 'worse' : d < 0 ? 'better' : 'changed' });
    }
    const seen = new Set(before.findings.map((f) => findingKey(f.message)));
    for (const f of c.findings)
      if (f.severity !== 'info' && !seen.has(findingKey(f.message))) newFindings.push({ check: c.id, severity: f.severity, message: f.message });
  }
  // A run compared with itself is one unit: its keys are its own, not shared.
  const sharedKeys =
    keys && keys.a.length && keys.b.length && a.run.id !== b.run.id
      ? {
          compared: [keys.a.length, keys.b.length] as [number, number],
          shared: keys.b.flatMap((kb) => keys.a.filter((ka) => ka.sha256 === kb.sha256).map((ka) => ({ a: ka.where, b: kb.where, sha256: kb.sha256 }))),
        }
      : undefined;
  const worse =
    services.added.length > 0 ||
    (destinations?.added.length ?? 0) > 0 ||
    checks.some((c) => c.change === 'worse') ||
    newFindings.length > 0 ||
    (sharedKeys?.shared.length ?? 0) > 0;
  const who = (r: Report) => ({ run: r.run.id, device: r.device.name, profile: r.profile.id });
  return {
    a: who(a),
    b: who(b),
    firmware,
    services,
    ...(destinations ? { destinations } : {}),
    checks,
    newFindings,
    ...(sharedKeys ? { keys: sharedKeys } : {}),
    worse,
  };
}

const dst = (x: DestinationRow): string =>
  `${x.names.length ? `${x.names.join(', ')} ` : ''}${x.address}:${x.port}/${x.transport} ${x.protocol}${x.personalData.length ? ` (personal data: ${x.personalData.join(', ')})` : ''}`;

const svc = (s: Service): string => `${s.transport.toUpperCase()} ${s.port}${s.service ? ` (${s.service})` : ''}`;

function keysLine(d: RunDiff): string {
  if (!d.keys) return 'keys: not compared (one of the runs recorded no SSH or TLS key)';
  if (!d.keys.shared.length) return `keys: none shared (${d.keys.compared[0]} and ${d.keys.compared[1]} compared)`;
  return `keys SHARED between the two units (a key in the firmware image, EN 18031 CCK-3): ${d.keys.shared.map((k) => `${k.b} = ${k.a} (${k.sha256})`).join('; ')}`;
}

export function renderDiffText(d: RunDiff): string {
  const lines = [`certified: ${d.a.device} (${d.a.run})`, `compared:  ${d.b.device} (${d.b.run})`, ''];
  lines.push(
    `firmware: ${d.firmware.changed ? 'CHANGED' : 'same'} — declared ${d.firmware.declared[0] ?? '—'} → ${d.firmware.declared[1] ?? '—'}, observed ${d.firmware.observed[0] ?? '—'} → ${d.firmware.observed[1] ?? '—'}`,
  );
  lines.push(`services added: ${d.services.added.map(svc).join(', ') || 'none'}`);
  lines.push(`services removed: ${d.services.removed.map(svc).join(', ') || 'none'}`);
  if (d.destinations) {
    lines.push(`destinations added: ${d.destinations.added.map(dst).join('; ') || 'none'}`);
    lines.push(`destinations removed: ${d.destinations.removed.map(dst).join('; ') || 'none'}`);
  } else lines.push('destinations: not compared (one of the runs did not watch the traffic)');
  lines.push(keysLine(d));
  lines.push(`checks that changed verdict: ${d.checks.length || 'none'}`);
  for (const c of d.checks) lines.push(`  ${c.change.padEnd(7)} ${c.id}: ${c.from} → ${c.to}`);
  lines.push(`new findings: ${d.newFindings.length || 'none'}`);
  for (const f of d.newFindings) lines.push(`  [${f.severity}] ${f.check}: ${f.message}`);
  lines.push('', d.worse ? 'WORSE than the certified run' : 'nothing got worse');
  return lines.join('\n') + '\n';
}

export function renderDiffHtml(d: RunDiff): string {
  const rows = d.checks
    .map((c) => `<tr><td><code>${h(c.id)}</code></td><td>${h(c.from)}</td><td>${h(c.to)}</td><td><strong>${h(c.change)}</strong></td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>starbench diff — ${h(d.a.device)} vs ${h(d.b.device)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left}</style></head><body>
<h1>Surveillance comparison: ${d.worse ? 'WORSE than certified' : 'nothing got worse'}</h1>
<p>Certified: ${h(d.a.device)} (<code>${h(d.a.run)}</code>) · compared: ${h(d.b.device)} (<code>${h(d.b.run)}</code>)</p>
<h2>Firmware</h2><p>${d.firmware.changed ? '<strong>changed</strong>' : 'same'}: declared ${h(d.firmware.declared[0] ?? '—')} → ${h(d.firmware.declared[1] ?? '—')}, observed ${h(d.firmware.observed[0] ?? '—')} → ${h(d.firmware.observed[1] ?? '—')}</p>
<h2>Services</h2><p>Added: ${h(d.services.added.map(svc).join(', ') || 'none')}</p><p>Removed: ${h(d.services.removed.map(svc).join(', ') || 'none')}</p>
<h2>Destinations</h2>${
    d.destinations
      ? `<p>Added: ${h(d.destinations.added.map(dst).join('; ') || 'none')}</p><p>Removed: ${h(d.destinations.removed.map(dst).join('; ') || 'none')}</p>`
      : '<p>not compared (one of the runs did not watch the traffic)</p>'
  }
<h2>Keys</h2><p>${h(keysLine(d))}</p>
<h2>Checks that changed verdict</h2>${rows ? `<table><tr><th>Check</th><th>Certified</th><th>Now</th><th>Change</th></tr>${rows}</table>` : '<p>none</p>'}
<h2>New findings</h2>${d.newFindings.length ? `<ul>${d.newFindings.map((f) => `<li>[${h(f.severity)}] <code>${h(f.check)}</code>: ${h(f.message)}</li>`).join('')}</ul>` : '<p>none</p>'}
</body></html>
`;
}
