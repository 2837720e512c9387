/**
 * auth.credential-change — JC-STAR S1.1-03, EN 303 645 5.1-4: the user can
 * change an authentication value, and the change holds on every interface
 * that uses it (the old value refused, the new one accepted).
 *
 * resilience.restart-persistence — JC-STAR S1.1-14, EN 303 645 5.9-1/2: after
 * a restart the value the user set still works (the old one still refused)
 * and the installed firmware is the same.
 */
import { basisParts, factOf } from '../../harness/facts';
import { gate } from '../../harness/gate';
import type { Check, CheckJudgement, Finding } from '../../harness/types';
import { CredentialChangeFact, RestartPersistenceFact, type CredentialChangeFacts } from '../../probes/credential-change';

const PROBE = 'credential-change';

/** The high finding when the lab value could not be put back: the lab must know what the device now holds. */
function restoreFindings(f: CredentialChangeFacts): Finding[] {
  if (f.restored) return [];
  return [
    {
      severity: 'high',
      message: `the lab credential "${f.account}" could not be changed back (${f.restoreDetail})${f.currentValue ? `; the device's value for ${f.username} may now be ${f.currentValue}` : ''}`,
    },
  ];
}

export const credentialChangeCheck: Check = {
  id: 'auth.credential-change',
  title: 'An authentication value can be changed: the old value is refused and the new one accepted everywhere',
  failsWhen: 'after the declared change the old value still logs in, or the new one does not, on an interface that uses the account',
  probes: [PROBE],
  implemented: true,
  fix: 'Give the user a simple way to change every authentication value, and make the change apply to every interface that uses the account (web UI, SSH, telnet, app API) at once.',
  judge(input) {
    const g = gate(input, PROBE);
    if (!g.ok) return g.judgement;
    const f = factOf(g.result, CredentialChangeFact);
    if (!f) return { verdict: 'error', rationale: 'the credential-change probe recorded no result', findings: [] };
    const findings: Finding[] = [...restoreFindings(f)];
    if (f.recovered) findings.push({ severity: 'info', message: f.recovered });
    if (f.interfaces.length === 0) return { verdict: 'not-tested', rationale: f.restoreDetail, findings };
    const controlled = f.interfaces.filter((i) => i.before.result === 'accepted');
    if (controlled.length === 0)
      return {
        verdict: 'inconclusive',
        rationale: `the lab value of "${f.account}" logged in nowhere before the change (${f.interfaces.map((i) => `${i.where}: ${i.before.detail}`).join('; ')}): a refusal after it would prove nothing`,
        findings,
      };
    const fails: string[] = [];
    const unsure: string[] = [];
    for (const i of f.interfaces) {
      if (i.before.result !== 'accepted') {
        unsure.push(`${i.where}: the lab value did not log in before the change (${i.before.detail})`);
        continue;
      }
      if (!i.changed) {
        unsure.push(`${i.where}: not tried after the change`);
        continue;
      }
      const { new: nu, old } = i.changed;
      if (old.result === 'accepted') fails.push(`${i.where} still accepts the old value`);
      // Neither value logging in is a login that refuses everything for now (a lock, a session limit), not a verdict on the change.
      if (nu.result === 'refused' && old.result === 'refused')
        unsure.push(`${i.where}: neither the new nor the old value logs in (${nu.detail}): the login may be refusing everything for now`);
      else if (nu.result === 'refused') fails.push(`${i.where} refuses the new value (${nu.detail})`);
      if (old.result === 'unknown') unsure.push(`${i.where}: the old value could not be judged (${old.detail})`);
      if (nu.result === 'unknown') unsure.push(`${i.where}: the new value could not be judged (${nu.detail})`);
    }
    for (const m of fails) findings.push({ severity: 'high', message: m });
    const change = f.change
      ? `${f.change.request} → ${f.change.ok ? 'accepted' : (f.change.error ?? f.change.locked ?? `status ${f.change.status ?? '?'}`)}`
      : 'the change did not run';
    if (fails.length) {
      // A change the device refused outright, with nothing changed anywhere, is the declared action's fault as much as the device's.
      const nothingTook = f.interfaces.every((i) => i.changed?.new.result !== 'accepted');
      if (nothingTook && f.change && !f.change.ok)
        return {
          verdict: 'inconclusive',
          rationale: `the device refused the declared change (${change}) and nothing changed: check credentialChange in the device file`,
          findings,
        };
      return { verdict: 'fail', rationale: `${fails.join('; ')} (${change})`, findings };
    }
    if (unsure.length) return { verdict: 'inconclusive', rationale: `no failure seen, but ${unsure.join('; ')}`, findings };
    return {
      verdict: 'pass',
      rationale: `after ${change}: the new value logs in and the old one is refused on ${f.interfaces.map((i) => i.where).join(', ')}${f.restored ? '; changed back to the lab value' : ''}`,
      findings,
      basis: basisParts(PROBE, CredentialChangeFact, ['control', 'change']),
    };
  },
};

export const restartPersistenceCheck: Check = {
  id: 'resilience.restart-persistence',
  title: 'After a restart the credential the user set still works and the installed firmware is kept',
  failsWhen: 'after a restart the changed credential no longer works (or the old one works again), or the firmware version changed',
  probes: [PROBE],
  implemented: true,
  fix: 'Keep user settings (credentials above all) and the installed firmware in persistent storage, written atomically, so that a power or network loss never reverts them.',
  judge(input): CheckJudgement {
    const g = gate(input, PROBE);
    if (!g.ok) return g.judgement;
    const f = factOf(g.result, CredentialChangeFact);
    if (!f) return { verdict: 'error', rationale: 'the credential-change probe recorded no result', findings: [] };
    const findings: Finding[] = [...restoreFindings(f)];
    const r = factOf(g.result, RestartPersistenceFact);
    const took = f.interfaces.filter((i) => i.changed?.new.result === 'accepted');
    if (!r) {
      if (!input.device.restart && !input.device.power)
        return { verdict: 'not-tested', rationale: 'no restart action or bench power controller declared: the device was not restarted', findings };
      if (took.length === 0)
        return {
          verdict: 'inconclusive',
          rationale: 'the credential change did not take effect on any interface, so whether a changed value survives a restart could not be tested',
          findings,
        };
      return { verdict: 'inconclusive', rationale: 'the restart did not run (the probe stopped before it)', findings };
    }
    const why = RestartPersistenceFact.unknown?.(r);
    if (why)
      return {
        verdict: 'inconclusive',
        rationale: `${why} (${r.restart.request}${r.restart.ok ? '' : `: ${r.restart.error ?? `status ${r.restart.status ?? '?'}`}`})`,
        findings,
      };
    const how =
      r.bootSeen === true
        ? 'a boot was seen on the UART'
        : `it stopped answering after ${Math.round((r.returned.awayAfterMs ?? 0) / 1000)} s (${r.returned.missedPolls ?? 1} polls missed)`;
    const fails: string[] = [];
    const unsure: string[] = [];
    if (r.versionBefore !== undefined && r.versionAfter !== undefined && r.versionBefore !== r.versionAfter)
      fails.push(`the firmware version was ${r.versionBefore} before the restart and ${r.versionAfter} after it`);
    else if (r.versionBefore === undefined || r.versionAfter === undefined)
      unsure.push(
        `the firmware version could not be compared (${r.versionHow}: before ${r.versionBefore ?? 'not read'}, after ${r.versionAfter ?? 'not read'})`,
      );
    for (const i of took) {
      if (!i.restarted) {
        unsure.push(`${i.where}: not tried after the restart`);
        continue;
      }
      const { new: nu, old } = i.restarted;
      if (nu.result === 'refused')
        fails.push(`${i.where} refuses the value set before the restart${old.result === 'accepted' ? ': it went back to the previous value' : ''}`);
      else if (old.result === 'accepted') fails.push(`${i.where} accepts the previous value again after the restart`);
      if (nu.result === 'unknown') unsure.push(`${i.where}: the value set before the restart could not be judged (${nu.detail})`);
      if (old.result === 'unknown') unsure.push(`${i.where}: the previous value could not be judged (${old.detail})`);
    }
    for (const m of fails) findings.push({ severity: 'high', message: m });
    if (fails.length) return { verdict: 'fail', rationale: `after the restart (${how}): ${fails.join('; ')}`, findings };
    if (unsure.length) return { verdict: 'inconclusive', rationale: `after the restart (${how}) no failure seen, but ${unsure.join('; ')}`, findings };
    return {
      verdict: 'pass',
      rationale: `restarted (${r.restart.request}; ${how}, back after ${Math.round(r.returned.afterMs / 1000)} s): the changed value still logs in and the old one is refused on ${took
        .map((i) => i.where)
        .join(', ')}; firmware ${r.versionAfter} as before`,
      findings,
      basis: [{ probe: PROBE, kind: RestartPersistenceFact.kind }, ...basisParts(PROBE, CredentialChangeFact, ['control', 'change', 'restart'])],
    };
  },
};
