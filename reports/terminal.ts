/**
 * The terminal: progress while running (only on a TTY), a summary at the end.
 * It writes through the function the CLI gives it; library code never prints.
 */
import type { Report } from '../harness/report';
import type { Verdict } from '../harness/verdict';
import type { Reporter } from './reporter';
import { MESSAGES } from './i18n';

export interface TerminalOptions {
  write: (text: string) => void;
  /** Show progress lines (a TTY, not --quiet). */
  progress: boolean;
  /** Print the summary at the end (not --quiet). */
  summary: boolean;
  colour: boolean;
}

const CODES: Record<Verdict, string> = { pass: '32', fail: '31', inconclusive: '33', error: '35', 'not-applicable': '90', 'not-tested': '90' };

export function terminalReporter(opts: TerminalOptions): Reporter {
  const paint = (v: Verdict): string => (opts.colour ? `\x1b[${CODES[v]}m${v}\x1b[0m` : v);
  return {
    name: 'terminal',
    onRunBegin(info) {
      if (opts.progress)
        opts.write(
          `starbench: assessing ${info.deviceName} (${info.host}) against ${info.profileId}: ${info.probes.length} probes, ${info.checks.length} checks\n`,
        );
    },
    onProbeBegin(p) {
      if (opts.progress) opts.write(`  … ${p.id}: ${p.title}\n`);
    },
    onProbeProgress(probe, message) {
      if (opts.progress) opts.write(`    ${probe}: ${message}\n`);
    },
    onProbeEnd(r) {
      if (opts.progress) opts.write(`  ✓ ${r.probe} ${r.status} in ${(r.durationMs / 1000).toFixed(1)} s${r.reason ? ` (${r.reason})` : ''}\n`);
    },
    onRunEnd(report: Report) {
      if (!opts.summary) return;
      const untested = report.summary.untested ?? [];
      const incomplete = report.summary.status === 'incomplete' ? ` — INCOMPLETE: ${untested.length} device-test requirement(s) not tested, not a pass` : '';
      const lines = [`\n${report.device.name} — ${report.profile.title}${incomplete}`];
      for (const r of report.requirements) lines.push(`  ${paint(r.verdict).padEnd(opts.colour ? 24 : 15)} ${r.id}  ${r.title.en}`);
      lines.push('');
      for (const c of report.checks.filter((x) => x.verdict === 'fail')) {
        lines.push(`  ${paint('fail')} ${c.id}: ${c.rationale}`);
        for (const f of c.findings.filter((x) => x.severity !== 'info')) lines.push(`      - ${f.message}`);
      }
      const counts = Object.entries(report.summary.counts)
        .filter(([, n]) => n > 0)
        .map(([v, n]) => `${n} ${v}`)
        .join(', ');
      lines.push(`Overall: ${paint(report.summary.verdict)} (${counts})${report.run.incomplete ? ' — incomplete run' : ''}`);
      if (report.run.resumedAt) lines.push(MESSAGES.en.resumed(report.run.resumedAt, report.run.repeated ?? []));
      opts.write(lines.join('\n') + '\n');
    },
  };
}
