/** exposure.undeclared-services — EN 303 645 5.6-1/5.6-2: every reachable service is one the maker declared. */
import type { Check, Finding } from '../../harness/types';
import type { PortRecord } from '../../probes/ports';
import { gate } from '../../harness/gate';

export const undeclaredServicesCheck: Check = {
  id: 'exposure.undeclared-services',
  title: 'No reachable service beyond those declared',
  failsWhen: 'a reachable TCP/UDP service is not in the device file',
  probes: ['tcp-ports'],
  implemented: true,
  fix: 'Disable every network service the product does not need (debug shells, factory test ports), or declare it and secure it.',
  judge(input) {
    const g = gate(input, 'tcp-ports');
    if (!g.ok) return g.judgement;
    const ports = g.result.observations.filter((o) => o.kind === 'tcp-port').map((o) => o.data as unknown as PortRecord);
    const scan = g.result.observations.find((o) => o.kind === 'tcp-scan');
    const scanData = (scan?.data ?? {}) as { aborted?: string; planned?: number; scanned?: number; spec?: string };
    const declared = ports.filter((p) => p.declared);
    const open = ports.filter((p) => p.state === 'open');
    const findings: Finding[] = [];
    if (scanData.aborted || (declared.length > 0 && !declared.some((p) => p.state === 'open') && open.length === 0)) {
      return {
        verdict: 'inconclusive',
        rationale: scanData.aborted ?? `none of the ${declared.length} declared TCP services answered, so an empty scan says nothing about undeclared ones`,
        findings,
      };
    }
    const undeclared = open.filter((p) => !p.declared);
    for (const p of undeclared) {
      findings.push({
        severity: p.service === 'shell' || p.service === 'telnet' ? 'high' : 'medium',
        port: p.port,
        protocol: p.service,
        message: `TCP ${p.port} is open and not declared${p.service ? ` — identified as ${p.service} by ${p.identifiedBy}` : ' — it sent no banner'}`,
      });
    }
    for (const p of declared.filter((d) => d.state !== 'open')) {
      findings.push({ severity: 'info', port: p.port, message: `declared TCP ${p.port} is ${p.state}` });
    }
    findings.push({ severity: 'info', message: 'UDP services were not probed by this version of starbench; only TCP is covered by this verdict' });
    const scope = `${scanData.scanned ?? ports.length} TCP ports scanned (${scanData.spec ?? 'declared + common IoT ports'})`;
    if (undeclared.length > 0) {
      return { verdict: 'fail', rationale: `${undeclared.length} undeclared TCP service(s) reachable: ${undeclared.map((p) => p.port).join(', ')}; ${scope}`, findings };
    }
    return { verdict: 'pass', rationale: `every open TCP port (${open.map((p) => p.port).join(', ')}) is declared; ${scope}`, findings };
  },
};
