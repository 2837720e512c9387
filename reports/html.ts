/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no
 * network) that prints cleanly to PDF, in English or Japanese (--lang).
 * Cover, summary table, per-check rationale/findings/fix/evidence, the
 * reviewer's list, the run's scope, and the label block with its QR code.
 * Verdicts carry text and colour, never colour alone.
 */
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import type { Report } from '../harness/report';
import type { Verdict } from '../harness/verdict';
import { escapeXml as h } from './escape';
import { CHECK_TEXT_JA, MESSAGES, type Lang } from './i18n';
import { labelOf, labelSvg } from './label';
import type { Reporter } from './reporter';

const COLOURS: Record<Verdict, string> = {
  pass: '#1a7f37',
  fail: '#cf222e',
  inconclusive: '#9a6700',
  error: '#8250df',
  'not-applicable': '#57606a',
  'not-tested': '#57606a',
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Hiragino Sans","Noto Sans CJK JP","Noto Sans JP",sans-serif;margin:2rem auto;max-width:62rem;color:#1f2328;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.v{color:#fff;border-radius:3px;padding:0 .4rem;font-weight:600;white-space:nowrap;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.muted{color:#57606a}.check{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:.8rem 0;break-inside:avoid}
code{background:#f6f8fa;padding:0 .2rem;white-space:nowrap}ul{margin:.3rem 0}.label{display:flex;gap:1rem;align-items:flex-start}.label svg{width:9rem;height:9rem;flex:none}
.cover{border:2px solid #1f2328;border-radius:8px;padding:1rem 1.2rem}
tr{break-inside:avoid}.n{white-space:nowrap}
@media print{body{margin:0;max-width:none;font-size:11px}a{color:inherit}h2{break-after:avoid}.cover{break-after:page}}`;

export interface HtmlOptions {
  lang?: Lang;
}

export async function renderHtml(report: Report, opts: HtmlOptions = {}): Promise<string> {
  const lang = opts.lang ?? 'en';
  const m = MESSAGES[lang];
  const badge = (v: Verdict): string => `<span class="v" style="background:${COLOURS[v]}">${h(m.verdicts[v])}</span>`;
  // A record in another language than the page is marked as such (screen readers, fonts, translators).
  const rec = (text: string): string => (lang === 'en' ? h(text) : `<span lang="en">${h(text)}</span>`);
  const reqTitle = (t: { en: string; ja?: string }): string =>
    lang === 'ja' && t.ja
      ? h(t.ja)
      : lang === 'ja'
        ? `<span lang="en">${h(t.en)}</span>`
        : `${h(t.en)}${t.ja ? `<br><span class="muted" lang="ja">${h(t.ja)}</span>` : ''}`;
  const checkTitle = (id: string, en: string): string => (lang === 'ja' && CHECK_TEXT_JA[id] ? h(CHECK_TEXT_JA[id].title) : h(en));
  const checkFix = (id: string, en: string): string => (lang === 'ja' && CHECK_TEXT_JA[id] ? h(CHECK_TEXT_JA[id].fix) : h(en));
  const d = report.device;
  const label = labelOf(report);
  const qr = await labelSvg(label);

  // Evidence of kind declaration, each with its reference, and what the device test said beside it.
  const declared = (r: Report['requirements'][number]): string =>
    (r.declarations ?? [])
      .map(
        (d) =>
          `<br><span class="muted">${h(m.declaration)} (${h(d.source === 'route' ? (d.title ?? d.route ?? '') : m.reviewAnswer)}): ${h(d.result)} — ${rec(d.reference)}</span>`,
      )
      .join('') + (r.deviceVerdict ? `<br><span class="muted">${h(m.deviceTest)}: ${badge(r.deviceVerdict)}</span>` : '');
  const reqRows = report.requirements
    .map(
      (r) =>
        `<tr><td><code>${h(r.id)}</code>${r.supplementary ? `<br><span class="muted">${h(m.supplementary)}</span>` : ''}</td><td>${reqTitle(r.title)}</td><td class="n">${h(m.levels[r.level])}</td><td>${h(m.assessedByValues[r.assessedBy])}</td><td class="n">${h(m.confidenceValues[r.confidence])}</td><td>${badge(r.verdict)}${declared(r)}${r.notifiedBody ? `<br><strong>${h(m.notifiedBody)}</strong>: <span class="muted">${h(r.notifiedBody)}</span>` : ''}</td></tr>`,
    )
    .join('\n');
  const treeRows = report.requirements
    .flatMap((r) =>
      (r.assessments ?? []).map((a) => {
        const steps = a.path.map(
          (s) => `${h(s.node)} <strong>${h(s.answer)}</strong> <span class="muted">(${h(s.source)}${s.ref ? `: ${rec(s.ref)}` : ''})</span>`,
        );
        if (a.leaf) steps.push(`<strong>${h(a.leaf)}</strong>`);
        const fn = (f: typeof a.completeness): string => (f ? `${badge(f.verdict)}<br><span class="muted">${rec(f.rationale)}</span>` : h(m.notNecessary));
        return `<tr><td><code>${h(r.id)}</code></td><td>${h(a.target.per)} <code>${h(a.target.id)}</code>${a.target.title ? `<br><span class="muted">${h(a.target.title)}</span>` : ''}</td><td>${steps.join(' → ')}</td><td>${badge(a.conceptual)}</td><td>${fn(a.completeness)}</td><td>${fn(a.sufficiency)}</td><td>${badge(a.verdict)}</td><td>${rec(a.justification ?? a.rationale)}</td></tr>`;
      }),
    )
    .join('\n');
  const checks = report.checks
    .map(
      (c) => `<div class="check" id="check-${h(c.id)}"><h3><code>${h(c.id)}</code> ${badge(c.verdict)}</h3>
<p>${checkTitle(c.id, c.title)}</p><p><strong>${h(m.rationale)}:</strong> ${rec(c.rationale)}</p>
${c.findings.length ? `<p><strong>${h(m.findings)}:</strong></p><ul>${c.findings.map((f) => `<li><strong>${h(m.severities[f.severity])}</strong> ${rec(f.message)}</li>`).join('')}</ul>` : ''}
${c.fix && c.verdict === 'fail' ? `<p><strong>${h(m.fix)}:</strong> ${checkFix(c.id, c.fix)}</p>` : ''}
${c.evidence.length ? `<p class="muted">${h(m.evidence)}: ${c.evidence.map((e) => (e.startsWith('evidence/') ? `<a href="${h(e)}">${h(e)}</a>` : h(e))).join(', ')}</p>` : ''}</div>`,
    )
    .join('\n');
  const review = report.requirements.filter((r) => r.verdict === 'not-tested');
  const reviewRows = review
    .map((r) => `<tr><td><code>${h(r.id)}</code></td><td>${reqTitle(r.title)}</td><td>${rec(r.reviewerPrompt ?? r.rationale)}</td></tr>`)
    .join('\n');
  const dests = report.destinations ?? [];
  const destRows = dests
    .map(
      (x) =>
        `<tr><td>${h(x.names.join(', ') || '—')}</td><td><code>${h(x.address)}:${x.port}/${h(x.transport)}</code></td><td>${h(x.protocol)}</td><td>${h(x.tls ?? '—')}</td><td>${h(x.personalData.join(', ') || '—')}</td><td>${h(x.inClear.join(', ') || '—')}</td><td>${x.declared === null ? '—' : x.declared ? h(m.yes) : `<strong>${h(m.no)}</strong>`}</td></tr>`,
    )
    .join('\n');
  const notAttempted = report.scope.notAttempted.map((n) => `<li>${h(n.what)} — ${rec(n.why)}</li>`).join('');
  const errors = report.errors.map((e) => `<li>${h(e.where)}: ${rec(e.message)}</li>`).join('');
  const counts = Object.entries(report.summary.counts)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => m.counts(n, m.verdicts[v as Verdict]))
    .join(lang === 'ja' ? '、' : ', ');
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${h(m.title)} — ${h(d.name)} — ${h(report.profile.title)}</title><style>${CSS}</style></head>
<body>
<section class="cover">
<p class="muted">${h(m.title)}</p>
<h1>${h(d.name)}${d.model ? ` <span class="muted">(${h(d.model)})</span>` : ''}</h1>
<p><strong>${h(m.overall)}:</strong> ${badge(report.summary.verdict)} · ${h(counts)}${report.summary.status === 'incomplete' ? ` · <strong>${h(m.incompleteRun)}</strong>: ${h((report.summary.untested ?? []).join(', '))}` : ''}</p>
<table>
<tr><th>${h(m.scheme)}</th><td>${h(report.profile.title)}${report.profile.version ? ` <span class="muted">(${h(m.schemeVersion)} ${h(report.profile.version)})</span>` : ''}</td></tr>
<tr><th>${h(m.model)}</th><td>${h(d.model ?? '—')}</td></tr>
<tr><th>${h(m.firmwareDeclared)} / ${h(m.firmwareObserved)}</th><td>${h(d.firmware.declared ?? '—')} / ${h(d.firmware.observed ?? m.notRead)}</td></tr>
<tr><th>${h(m.target)}</th><td>${h(d.host)}</td></tr>
<tr><th>${h(m.date)}</th><td>${h(report.run.startedAt)} · ${h(m.duration)} ${(report.run.durationMs / 1000).toFixed(1)} s</td></tr>
<tr><th>${h(m.tool)}</th><td>starbench ${h(report.tool.version)} · ${h(m.run)} ${h(report.run.id)}</td></tr>
</table>
${report.run.incomplete ? `<p><strong>${h(m.incomplete(report.run.interruptedBy ?? ''))}</strong></p>` : ''}
${report.run.rejudgedAt ? `<p class="muted">${h(m.rejudged(report.run.rejudgedAt))}</p>` : ''}
${report.run.resumedAt ? `<p class="muted">${h(m.resumed(report.run.resumedAt, report.run.repeated ?? []))}</p>` : ''}
<h2>${h(m.label)}</h2>
<div class="label">${qr}<table>
<tr><th>${h(m.labelModel)}</th><td>${h(label.model)}</td></tr>
<tr><th>${h(m.labelFirmware)}</th><td>${h(label.evaluatedFirmware)}</td></tr>
<tr><th>${h(m.labelDate)}</th><td>${h(label.evaluationDate)}</td></tr>
<tr><th>${h(m.labelScheme)}</th><td>${h(label.scheme)} — ${h(label.level)}</td></tr>
<tr><th>${h(m.labelDigest)}</th><td><code>${h(label.reportDigest)}</code></td></tr>
</table></div>
<p class="muted">${h(m.labelNote)}</p>
</section>
<h2>${h(m.summary)}</h2>
<table><tr><th>${h(m.id)}</th><th>${h(m.requirement)}</th><th>${h(m.level)}</th><th>${h(m.assessedBy)}</th><th>${h(m.confidence)}</th><th>${h(m.verdict)}</th></tr>
${reqRows}</table>
${treeRows ? `<h2>${h(m.trees)}</h2><p class="muted">${h(m.treesNote)}</p><table><tr>${m.treeCols.map((c) => `<th>${h(c)}</th>`).join('')}</tr>\n${treeRows}</table>` : ''}
<h2>${h(m.checks)}</h2>
${lang === 'en' ? '' : `<p class="muted">${h(m.recordNote)}</p>`}
${checks}
${
  report.destinations
    ? `<h2>${h(m.destinations)}</h2><p class="muted">${h(m.destinationsNote)}</p>${dests.length ? `<table><tr>${m.destinationCols.map((c) => `<th>${h(c)}</th>`).join('')}</tr>${destRows}</table>` : `<p>—</p>`}`
    : ''
}
<h2>${h(m.review)}</h2>
${review.length ? `<table><tr><th>${h(m.id)}</th><th>${h(m.requirement)}</th><th>${h(m.whatToLookFor)}</th></tr>${reviewRows}</table>` : `<p>${h(m.reviewNone)}</p>`}
<h2>${h(m.scope)}</h2>
<p>${h(m.scopeText(report.scope.target, report.scope.serial, report.scope.connectionLimit))}</p>
${notAttempted ? `<p>${h(m.notAttempted)}:</p><ul>${notAttempted}</ul>` : ''}
${errors ? `<h2>${h(m.harnessErrors)}</h2><ul>${errors}</ul>` : ''}
</body></html>
`;
}

export function htmlReporter(opts: HtmlOptions = {}): Reporter {
  return {
    name: 'html',
    async onRunEnd(report, outDir) {
      writeFileAtomic(path.join(outDir, 'report.html'), await renderHtml(report, opts));
    },
  };
}
