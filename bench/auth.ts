/**
 * Default-credential guessing vs hydra on the lab's weak device:
 *   hydra -C mirai.txt -t 4 -f on ssh, telnet and http-get (sequentially)
 *   vs starbench's credentials probe (SSH, telnet, HTTP Basic, MQTT) plus
 *   its unauthenticated-access probe, in one run.
 * Target: starbench ≤ 2× hydra's total while also covering MQTT and
 * unauthenticated access. Run: npm run bench:auth   (root; uses the lab)
 */
import { loadDeviceFile } from '../harness/device-file/load';
import { probeContext } from '../cli/standalone';
import type { ProbeResult } from '../harness/types';
import { credentialsProbe } from '../probes/credentials';
import { tcpPortsProbe } from '../probes/ports';
import { unauthenticatedProbe } from '../probes/unauthenticated';
import { ensureLab, fmt, hasTool, table, time, timeTool, hydraCredentialList } from './util';

async function main(): Promise<void> {
  const lab = await ensureLab();
  const weak = lab.devices.find((d) => d.name === 'weak');
  if (!weak) throw new Error('the weak lab device is not up');
  if (!hasTool('hydra')) throw new Error('hydra is not installed (apt-get install hydra)');
  // hydra -C takes login:pass lines only.
  const list = hydraCredentialList();
  const rows = [['what', 'time', 'found']];
  let hydraTotal = 0;
  for (const [svc, extra] of [
    ['ssh', []],
    ['telnet', []],
    ['http-get', ['/cgi-bin/admin']],
  ] as Array<[string, string[]]>) {
    const r = timeTool('hydra', ['-C', list, '-t', '4', '-f', '-I', weak.address, svc, ...extra]);
    hydraTotal += r.ms;
    const hit = r.stdout.match(/login: (\S+)\s+password: (\S*)/);
    rows.push([`hydra ${svc}`, fmt(r.ms), hit ? `login ${hit[1]}` : `nothing (exit ${r.code})`]);
  }
  rows.push(['hydra total (3 services)', fmt(hydraTotal), '']);

  const ctx = await probeContext(loadDeviceFile(weak.deviceFile));
  const results = new Map<string, ProbeResult>();
  const deps = (id: string): ProbeResult | undefined => results.get(id);
  const asResult = (probe: string, observations: ProbeResult['observations']): ProbeResult => ({
    probe,
    status: 'completed',
    durationMs: 0,
    observations,
    evidence: [],
  });
  const total = await time(async () => {
    const scan = await time(() => tcpPortsProbe.run({ ...ctx, dependency: deps }));
    results.set('tcp-ports', asResult('tcp-ports', scan.value.observations));
    rows.push([
      'starbench service discovery (full TCP range)',
      fmt(scan.ms),
      `${(scan.value.observations.find((o) => o.kind === 'tcp-scan')?.data.open as number[]).length} open ports`,
    ]);
    const [creds, unauth] = await Promise.all([
      time(() => credentialsProbe.run({ ...ctx, dependency: deps })),
      time(() => unauthenticatedProbe.run({ ...ctx, dependency: deps })),
    ]);
    const accepted = creds.value.observations.filter(
      (o) => o.kind === 'login-attempts' && ((o.data.accepted as unknown[]).length || o.data.stopReason === 'accepts-anything'),
    );
    rows.push(['starbench credentials (ssh, telnet x2, http, mqtt)', fmt(creds.ms), accepted.map((o) => `${o.protocol} ${o.port}`).join(', ')]);
    rows.push([
      'starbench unauthenticated access',
      fmt(unauth.ms),
      `${unauth.value.observations.filter((o) => o.kind === 'unauthenticated').length} exposures`,
    ]);
  });
  rows.push(['starbench total (discovery + both probes)', fmt(total.ms), `ratio to hydra: ${(total.ms / hydraTotal).toFixed(2)}×`]);
  process.stdout.write(table(rows) + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
