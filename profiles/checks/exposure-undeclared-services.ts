/** exposure.undeclared-services — EN 303 645 5.6-1/5.6-2: every reachable service is one the maker declared. */
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';
import { factOf, factsOf, basis } from '../../harness/facts';
import { TcpPortFact, TcpScanFact } from '../../probes/ports';
import { UdpPortFact, UdpScanFact } from '../../probes/udp';
import { worst, type Verdict } from '../../harness/verdict';

export const undeclaredServicesCheck: Check = {
  id: 'exposure.undeclared-services',
  title: 'No reachable service beyond those declared',
  failsWhen: 'a reachable TCP/UDP service is not in the device file',
  probes: ['tcp-ports', 'udp-services'],
  implemented: true,
  fix: 'Disable every network service the product does not need (debug shells, factory test ports), or declare it and secure it.',
  judge(input) {
    const tcpGate = gate(input, 'tcp-ports');
    const udpGate = gate(input, 'udp-services');
    const findings: Finding[] = [];
    const undeclared: string[] = [];
    // Why the result cannot be trusted, each with the verdict it leaves: a probe that did not complete its gate's, a scan that cannot vouch inconclusive.
    const unsure: Array<{ why: string; verdict: Verdict }> = [];
    let scope = '';
    if (tcpGate.ok) {
      const ports = factsOf(tcpGate.result, TcpPortFact);
      const scan = factOf(tcpGate.result, TcpScanFact);
      const declared = ports.filter((p) => p.declared);
      const open = ports.filter((p) => p.state === 'open');
      if (!scan) unsure.push({ why: 'the TCP scan recorded no summary of what it scanned, so an empty result says nothing', verdict: 'inconclusive' });
      else if (scan.aborted || (declared.length > 0 && open.length === 0)) {
        unsure.push({
          why: scan.aborted ?? `none of the ${declared.length} declared TCP services answered, so an empty scan says nothing about undeclared ones`,
          verdict: 'inconclusive',
        });
      }
      for (const p of open.filter((x) => !x.declared)) {
        const only = p.families?.length === 1 ? ` on ${p.families[0] === 'ipv6' ? 'IPv6' : 'IPv4'} only` : '';
        undeclared.push(`TCP ${p.port}${only}`);
        findings.push({
          severity: p.service === 'shell' || p.service === 'telnet' ? 'high' : 'medium',
          port: p.port,
          protocol: p.service,
          message: `TCP ${p.port} is open${only} and not declared${p.service && p.service !== 'unknown' ? ` — identified as ${p.service} by ${p.identifiedBy}` : ` — ${p.identifiedBy ?? 'unidentified'}`}`,
        });
      }
      for (const p of declared.filter((d) => d.state !== 'open'))
        findings.push({ severity: 'info', port: p.port, message: `declared TCP ${p.port} is ${p.state}` });
      scope = scan ? `${scan.scanned} TCP ports (${scan.spec}, ${scan.scanner})` : `${ports.length} TCP ports`;
    } else unsure.push({ why: tcpGate.judgement.rationale, verdict: tcpGate.judgement.verdict });
    if (udpGate.ok) {
      const udp = factsOf(udpGate.result, UdpPortFact);
      for (const u of udp.filter((x) => !x.declared && x.state === 'open')) {
        undeclared.push(`UDP ${u.port}`);
        findings.push({ severity: 'medium', port: u.port, protocol: u.service, message: `UDP ${u.port} answered a ${u.service} request and is not declared` });
      }
      for (const u of udp.filter((x) => !x.declared && x.state === 'open|filtered')) {
        findings.push({ severity: 'info', port: u.port, message: `UDP ${u.port} did not answer; UDP cannot tell a silent service from a filter` });
      }
      for (const u of udp.filter((x) => x.declared && x.state !== 'open'))
        findings.push({ severity: 'info', port: u.port, message: `declared UDP ${u.port} is ${u.state}` });
      const scan = factOf(udpGate.result, UdpScanFact);
      scope += `${scope ? ' and ' : ''}${scan?.ports?.length ?? udp.length} UDP ports`;
    } else unsure.push({ why: udpGate.judgement.rationale, verdict: udpGate.judgement.verdict });

    if (undeclared.length > 0)
      return { verdict: 'fail', rationale: `${undeclared.length} undeclared service(s) reachable: ${undeclared.join(', ')}; ${scope}`, findings };
    if (unsure.length > 0) return { verdict: worst(unsure.map((u) => u.verdict)), rationale: unsure.map((u) => u.why).join('; '), findings };
    return {
      verdict: 'pass',
      rationale: `every reachable service is declared; ${scope}`,
      findings,
      basis: basis(['tcp-ports', TcpScanFact], ['tcp-ports', TcpPortFact], ['udp-services', UdpScanFact]),
    };
  },
};
