/**
 * report.html: one self-contained file (inline CSS, no script, no network)
 * that prints cleanly. Verdicts carry text and colour, never colour alone.
 */
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import type { Report } from '../harness/report';
import type { Verdict } from '../harness/verdict';
import { escapeXml as h } from './escape';
import type { Reporter } from './reporter';

const COLOURS: Record<Verdict, string> = {
  pass: '#1a7f37',
  fail: '#cf222e',
  inconclusive: '#9a6700',
  error: '#8250df',
  'not-applicable': '#57606a',
  'not-tested': '#57606a',
};

const badge = (v: Verdict): string => `<span class="v" style="background:${COLOURS[v]}">${h(v)}</span>`;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;margin:2rem auto;max-width:60rem;color:#1f2328;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.v{color:#fff;border-radius:3px;padding:0 .4rem;font-weight:600;white-space:nowrap}
.muted{color:#57606a}.check{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:.8rem 0;break-inside:avoid}
code{background:#f6f8fa;padding:0 .2rem}ul{margin:.3rem 0}
@media print{body{margin:0;max-width:none}a{color:inherit}}`;

export function renderHtml(report: Report): string {
  const d = report.device;
  const reqRows = report.requirements
    .map(
      (r) => `<tr><td><code>${h(r.id)}</code></td><td>${h(r.title.en)}${r.title.ja ? `<br><span class="muted" lang="ja">${h(r.title.ja)}</span>` : ''}</td><td>${h(r.assessedBy)}</td><td>${h(r.confidence)}</td><td>${badge(r.verdict)}</td></tr>`,
    )
    .join('\n');
  const checks = report.checks
    .map(
      (c) => `<div class="check" id="check-${h(c.id)}"><h3><code>${h(c.id)}</code> ${badge(c.verdict)}</h3>
<p>${h(c.title)}</p><p><strong>Rationale:</strong> ${h(c.rationale)}</p>
${c.findings.length ? `<ul>${c.findings.map((f) => `<li><strong>${h(f.severity)}</strong> ${h(f.message)}</li>`).join('')}</ul>` : ''}
${c.fix && c.verdict === 'fail' ? `<p><strong>What to fix:</strong> ${h(c.fix)}</p>` : ''}
${c.evidence.length ? `<p class="muted">Evidence: ${c.evidence.map((e) => (e.startsWith('evidence/') ? `<a href="${h(e)}">${h(e)}</a>` : h(e))).join(', ')}</p>` : ''}</div>`,
    )
    .join('\n');
  const review = report.requirements.filter((r) => r.verdict === 'not-tested');
  const reviewRows = review.map((r) => `<tr><td><code>${h(r.id)}</code></td><td>${h(r.title.en)}</td><td>${h(r.reviewerPrompt ?? r.rationale)}</td></tr>`).join('\n');
  const notAttempted = report.scope.notAttempted.map((n) => `<li>${h(n.what)} — ${h(n.why)}</li>`).join('');
  const errors = report.errors.map((e) => `<li>${h(e.where)}: ${h(e.message)}</li>`).join('');
  const counts = Object.entries(report.summary.counts).filter(([, n]) => n > 0).map(([v, n]) => `${n} ${v}`).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>starbench — ${h(d.name)} — ${h(report.profile.title)}</title><style>${CSS}</style></head>
<body>
<h1>${h(d.name)}${d.model ? ` <span class="muted">(${h(d.model)})</span>` : ''}</h1>
<p>${h(report.profile.title)} · overall ${badge(report.summary.verdict)} · ${h(counts)}</p>
<table><tr><th>Target</th><td>${h(d.host)}</td><th>Firmware declared / observed</th><td>${h(d.firmware.declared ?? '—')} / ${h(d.firmware.observed ?? 'not read')}</td></tr>
<tr><th>Run</th><td>${h(report.run.id)}</td><th>Date</th><td>${h(report.run.startedAt)} (${(report.run.durationMs / 1000).toFixed(1)} s)</td></tr>
<tr><th>Tool</th><td>starbench ${h(report.tool.version)}</td><th>Report schema</th><td>${h(report.schemaVersion)}</td></tr></table>
${report.run.incomplete ? `<p><strong>Incomplete run</strong> (${h(report.run.interruptedBy ?? '')}): probes that did not finish are reported as not tested or inconclusive.</p>` : ''}
<h2>Requirements</h2>
<table><tr><th>Id</th><th>Requirement</th><th>Assessed by</th><th>Confidence</th><th>Verdict</th></tr>
${reqRows}</table>
<h2>Checks</h2>
${checks}
<h2>Not tested — needs review</h2>
${review.length ? `<table><tr><th>Id</th><th>Requirement</th><th>What to look for</th></tr>${reviewRows}</table>` : '<p>Every requirement was assessed.</p>'}
<h2>Scope</h2>
<p>Target <code>${h(report.scope.target)}</code>${report.scope.serial ? `, serial <code>${h(report.scope.serial)}</code>` : ''}; at most ${report.scope.connectionLimit} connections at once.</p>
${notAttempted ? `<p>Not attempted:</p><ul>${notAttempted}</ul>` : ''}
${errors ? `<h2>Harness errors</h2><ul>${errors}</ul>` : ''}
</body></html>
`;
}

export function htmlReporter(): Reporter {
  return {
    name: 'html',
    onRunEnd(report, outDir) {
      writeFileAtomic(path.join(outDir, 'report.html'), renderHtml(report));
    },
  };
}
