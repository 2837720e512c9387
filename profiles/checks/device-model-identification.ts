/**
 * device.model-identification — JC-STAR S1.1-10, EN 303 645 5.3-15/16: the
 * user can see which model (and firmware) the device is. Seen where a
 * person reads it → pass, with where. Not seen is never a failure on its own:
 * the label on the device or its packaging counts too, and that is a
 * document item (not-tested with the prompt).
 */
import { basis, factOf, factsOf } from '../../harness/facts';
import { gate } from '../../harness/gate';
import type { Check, Finding } from '../../harness/types';
import { IdentityScanFact, IdentitySeenFact, IdentitySourceFact, MIN_MODEL_CHARS, modelPattern } from '../../probes/identification';

const LABEL_PROMPT = 'look for the model number on the label of the device or its packaging (a document item)';

export const modelIdentificationCheck: Check = {
  id: 'device.model-identification',
  title: 'The device shows the user its model (and firmware version)',
  failsWhen: 'never on absence alone: not seen on the device gives not-tested with the label prompt',
  probes: ['identification'],
  implemented: true,
  fix: 'Show the model number (and the firmware version) where the user looks: the web UI or app, and the label on the device and its packaging.',
  judge(input) {
    const g = gate(input, 'identification');
    if (!g.ok) return g.judgement;
    const model = input.device.device.model;
    if (!model)
      return { verdict: 'not-tested', rationale: `the device file declares no device.model, so there is nothing to look for: ${LABEL_PROMPT}`, findings: [] };
    if (!modelPattern(model))
      return {
        verdict: 'not-tested',
        rationale: `the declared model "${model}" has fewer than ${MIN_MODEL_CHARS} letters or digits: too short to look for reliably; ${LABEL_PROMPT}`,
        findings: [],
      };
    const seen = factsOf(g.result, IdentitySeenFact);
    const sources = factsOf(g.result, IdentitySourceFact);
    const unread = sources.filter((s) => !s.read);
    const scan = factOf(g.result, IdentityScanFact);
    const findings: Finding[] = seen.map((s) => ({ severity: 'info', message: `${s.what} seen in ${s.where}: ${s.context}` }));
    for (const s of unread) findings.push({ severity: 'info', message: `could not read ${s.where}: ${s.error ?? ''}` });
    const models = seen.filter((s) => s.what === 'model');
    if (models.length) {
      const firmware = input.device.device.firmware;
      const fw = seen.some((s) => s.what === 'firmware')
        ? `; firmware ${firmware} shown too`
        : firmware
          ? `; the firmware version ${firmware} was not seen with it`
          : '';
      return {
        verdict: 'pass',
        rationale: `model "${model}" shown in ${[...new Set(models.map((s) => s.where))].join('; ')}${fw}`,
        findings,
        basis: basis(['identification', IdentitySeenFact]),
      };
    }
    const looked = scan?.read ?? sources.filter((s) => s.read).length;
    if (unread.length)
      return {
        verdict: 'inconclusive',
        rationale: `model "${model}" not seen in the ${looked} place(s) read, and ${unread.length} could not be read (${unread
          .map((s) => s.where)
          .slice(0, 4)
          .join('; ')}); otherwise ${LABEL_PROMPT}`,
        findings,
      };
    return {
      verdict: 'not-tested',
      rationale:
        looked > 0
          ? `model "${model}" not seen in the ${looked} place(s) the device shows a user over the network (web UI, banners, SNMP, UPnP, mDNS): ${LABEL_PROMPT}`
          : `the device offers no web UI, banner, SNMP, UPnP or mDNS where a model could be shown: ${LABEL_PROMPT}`,
      findings,
    };
  },
};
