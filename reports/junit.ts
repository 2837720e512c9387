/**
 * junit.xml for CI systems: one testcase per requirement. fail → <failure>,
 * error/inconclusive → <error>, not-tested/not-applicable → <skipped>.
 */
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import type { Report } from '../harness/report';
import { escapeXml as x } from './escape';
import type { Reporter } from './reporter';

export function renderJunit(report: Report): string {
  const checks = new Map(report.checks.map((c) => [c.id, c]));
  const cases = report.requirements.map((r) => {
    const detail = [
      r.rationale,
      ...r.checks.map((id) => {
        const c = checks.get(id);
        return c
          ? `${id}: ${c.verdict} — ${c.rationale}${c.findings.length ? '\n  ' + c.findings.map((f) => `[${f.severity}] ${f.message}`).join('\n  ') : ''}`
          : id;
      }),
    ].join('\n');
    const name = `${r.id} ${r.title.en}`;
    let body = '';
    if (r.verdict === 'fail') body = `<failure message="${x(r.rationale)}" type="fail">${x(detail)}</failure>`;
    else if (r.verdict === 'error' || r.verdict === 'inconclusive') body = `<error message="${x(r.rationale)}" type="${r.verdict}">${x(detail)}</error>`;
    else if (r.verdict === 'not-tested' || r.verdict === 'not-applicable')
      body = `<skipped message="${x(`${r.verdict}: ${r.reviewerPrompt ?? r.rationale}`)}"/>`;
    return `    <testcase classname="${x(report.profile.id)}" name="${x(name)}" time="0">${body}</testcase>`;
  });
  const c = report.summary.counts;
  const tests = report.requirements.length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="starbench" tests="${tests}" failures="${c.fail}" errors="${c.error + c.inconclusive}" skipped="${c['not-tested'] + c['not-applicable']}" time="${(report.run.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${x(`${report.device.name} — ${report.profile.title}`)}" tests="${tests}" failures="${c.fail}" errors="${c.error + c.inconclusive}" skipped="${c['not-tested'] + c['not-applicable']}" timestamp="${x(report.run.startedAt)}" time="${(report.run.durationMs / 1000).toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function junitReporter(): Reporter {
  return {
    name: 'junit',
    onRunEnd(report, outDir) {
      writeFileAtomic(path.join(outDir, 'junit.xml'), renderJunit(report));
    },
  };
}
