/**
 * Network probes vs the tools labs run by hand, on the reference lab:
 *   full TCP scan: built-in scanner vs `nmap -p- -T4` (target ≤ 1.5×)
 *   TLS per port: tls probe vs `testssl` (target ≤ 5 s per port)
 *   SSH per port: ssh probe vs `ssh-audit`
 * Run: npm run bench:network   (root; brings the lab up if needed)
 */
import { loadDeviceFile } from '../harness/device-file/load';
import { probeContext } from '../cli/standalone';
import type { ProbeContext } from '../harness/types';
import { tcpPortsProbe } from '../probes/ports';
import { probeSshService } from '../probes/ssh';
import { probeTlsService } from '../probes/tls';
import { ensureLab, fmt, hasTool, table, time, timeTool } from './util';

async function main(): Promise<void> {
  const lab = await ensureLab();
  const rows = [['device', 'what', 'starbench', 'by hand', 'ratio', 'same findings']];
  for (const d of lab.devices) {
    const device = loadDeviceFile(d.deviceFile);
    const builtin = { ...device, scan: { bannerWaitMs: 500, versionDetection: true, ...device.scan, scanner: 'builtin' as const } };
    const ctx: ProbeContext = await probeContext(builtin);
    const scan = await time(() => tcpPortsProbe.run(ctx));
    const ours = (scan.value.observations.find((o) => o.kind === 'tcp-scan')?.data.open as number[]).join(',');
    const nmap = timeTool('nmap', ['-p-', '-T4', '-n', '-Pn', '-oX', '-', d.address]);
    const nmapOpen = [...nmap.stdout.matchAll(/portid="(\d+)"><state state="open"/g)].map((m) => m[1]).join(',');
    rows.push([
      d.name,
      'full TCP scan + identification',
      fmt(scan.ms),
      `${fmt(nmap.ms)} (nmap -p- -T4)`,
      `${(scan.ms / nmap.ms).toFixed(2)}×`,
      ours === nmapOpen ? `yes (${ours})` : `no: ours ${ours} / nmap ${nmapOpen}`,
    ]);

    for (const port of device.services.filter((s) => ['https', 'mqtts'].includes(s.protocol)).map((s) => s.port)) {
      const t = await time(() => probeTlsService(ctx, port));
      const weak = t.value.weakSuites.length;
      if (hasTool('testssl')) {
        const ts = timeTool('testssl', ['--quiet', '--color', '0', '--warnings', 'off', '-p', '-e', '-S', `${d.address}:${port}`]);
        rows.push([
          d.name,
          `TLS ${port}`,
          fmt(t.ms),
          `${fmt(ts.ms)} (testssl -p -e -S)`,
          `1/${(ts.ms / t.ms).toFixed(0)}`,
          `${weak} weak suites, ${t.value.handshakes} handshakes`,
        ]);
      } else rows.push([d.name, `TLS ${port}`, fmt(t.ms), 'testssl not installed', '-', `${weak} weak suites`]);
    }
    const ssh = await time(() => probeSshService(ctx, 22));
    const audit = timeTool('ssh-audit', ['-j', d.address]);
    const theirs = JSON.parse(audit.stdout.split('\n')[0] || '{}') as { kex?: Array<{ algorithm: string }> };
    const same = JSON.stringify(theirs.kex?.map((k) => k.algorithm)) === JSON.stringify(ssh.value.kexinit?.kex);
    rows.push([
      d.name,
      'SSH 22',
      fmt(ssh.ms),
      `${fmt(audit.ms)} (ssh-audit)`,
      `${(ssh.ms / audit.ms).toFixed(2)}×`,
      same ? 'same kex list' : 'kex lists differ',
    ]);
  }
  process.stdout.write(table(rows) + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
