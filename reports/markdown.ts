/**
 * report.md: a short summary for a CI comment or a pull request — overall
 * verdict, one table row per requirement, what failed and how to fix it,
 * and what still needs a reviewer. Table cells are escaped (| and newlines).
 */
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import type { Report } from '../harness/report';
import type { Verdict } from '../harness/verdict';
import type { Reporter } from './reporter';
import { MESSAGES } from './i18n';

const MARK: Record<Verdict, string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  inconclusive: '⚠️ inconclusive',
  error: '💥 error',
  'not-applicable': '➖ not applicable',
  'not-tested': '⏸️ not tested',
};

/** One table cell: pipes escaped, newlines flattened, markdown links and HTML neutralised. */
export function mdCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
    .replace(/\r?\n/g, ' ');
}

export function renderMarkdown(report: Report): string {
  const d = report.device;
  const out: string[] = [];
  out.push(`## starbench: ${mdCell(d.name)} — ${MARK[report.summary.verdict]}${report.summary.status === 'incomplete' ? ' — **incomplete**' : ''}`, '');
  if (report.summary.status === 'incomplete')
    out.push(`Not tested (device test): ${(report.summary.untested ?? []).map((id) => `\`${mdCell(id)}\``).join(', ')}`, '');
  out.push(
    `${mdCell(report.profile.title)} · firmware ${mdCell(d.firmware.observed ?? d.firmware.declared ?? 'unknown')} · ${report.run.startedAt.slice(0, 10)} · starbench ${report.tool.version}`,
    '',
  );
  const counts = Object.entries(report.summary.counts)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(', ');
  out.push(`**${counts}**${report.run.incomplete ? ' · **incomplete run**' : ''}`, '');
  if (report.run.resumedAt) out.push(mdCell(MESSAGES.en.resumed(report.run.resumedAt, report.run.repeated ?? [])), '');
  out.push('| id | requirement | verdict |', '|---|---|---|');
  for (const r of report.requirements)
    out.push(`| \`${mdCell(r.id)}\` | ${mdCell(r.title.en)}${r.notifiedBody ? ' (notified body needed)' : ''} | ${MARK[r.verdict]} |`);
  const walked = report.requirements.flatMap((r) => (r.assessments ?? []).map((a) => ({ r, a })));
  if (walked.length) {
    out.push('', '### Decision trees', '', '| id | target | path | verdict | justification |', '|---|---|---|---|---|');
    for (const { r, a } of walked) {
      const path = [...a.path.map((s) => `${s.node} ${s.answer}`), ...(a.leaf ? [a.leaf.toUpperCase()] : [])].join(' → ');
      out.push(
        `| \`${mdCell(r.id)}\` | ${mdCell(`${a.target.per} ${a.target.id}`)} | ${mdCell(path)} | ${MARK[a.verdict]} | ${mdCell(a.justification ?? a.rationale)} |`,
      );
    }
  }
  const failed = report.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'error' || c.verdict === 'inconclusive');
  if (failed.length) {
    out.push('', '### What to fix', '');
    for (const c of failed) {
      out.push(`- **\`${c.id}\`** ${MARK[c.verdict]}: ${mdCell(c.rationale)}`);
      for (const f of c.findings.filter((x) => x.severity !== 'info').slice(0, 5)) out.push(`  - ${mdCell(f.message)}`);
      if (c.fix && c.verdict === 'fail') out.push(`  - _fix:_ ${mdCell(c.fix)}`);
    }
  }
  const declared = report.requirements.filter((r) => r.declarations?.length);
  if (declared.length) {
    out.push('', '### Declarations (document review and routes)', '');
    for (const r of declared) {
      const device = r.deviceVerdict ? ` — device test: ${MARK[r.deviceVerdict]}` : '';
      for (const d of r.declarations!)
        out.push(
          `- \`${mdCell(r.id)}\` ${d.source === 'route' ? `${mdCell(d.title ?? d.route ?? 'route')}` : 'reviewer'}: **${d.result}** — ${mdCell(d.reference)}${device}`,
        );
    }
  }
  if (report.destinations?.length) {
    out.push('', '### Where the device connects', '', '| destination | protocol | TLS | personal data | in clear | declared |', '|---|---|---|---|---|---|');
    for (const x of report.destinations)
      out.push(
        `| ${mdCell(`${x.names.length ? `${x.names.join(', ')} ` : ''}${x.address}:${x.port}/${x.transport}`)} | ${mdCell(x.protocol)} | ${mdCell(x.tls ?? '—')} | ${mdCell(x.personalData.join(', ') || '—')} | ${mdCell(x.inClear.join(', ') || '—')} | ${x.declared === null ? '—' : x.declared ? 'yes' : '**no**'} |`,
      );
  }
  const review = report.requirements.filter((r) => r.verdict === 'not-tested' && r.reviewerPrompt);
  if (review.length) {
    out.push('', `<details><summary>${review.length} requirement(s) need a reviewer</summary>`, '');
    for (const r of review) out.push(`- \`${mdCell(r.id)}\`: ${mdCell(r.reviewerPrompt!)}`);
    out.push('', '</details>');
  }
  return out.join('\n') + '\n';
}

export function markdownReporter(): Reporter {
  return {
    name: 'md',
    onRunEnd(report, outDir) {
      writeFileAtomic(path.join(outDir, 'report.md'), renderMarkdown(report));
    },
  };
}
