/** A declared HTTP port that accepts and never answers is not "nothing in clear" (an audit found it passed). */
import net from 'node:net';
import { probeContext } from '../cli/standalone';
import { judgeCheck } from '../harness/judge';
import type { ProbeResult } from '../harness/types';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { tcpPortsProbe } from '../probes/ports';
import { plaintextProbe } from '../probes/plaintext';
import { deviceFrom } from './helpers/device';

it('a declared HTTP port that accepts, says nothing and hangs up: comms.plaintext is inconclusive, never pass', async () => {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    setTimeout(() => s.destroy(), 200);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    const device = deviceFrom({
      device: { name: 'silent' },
      target: { host: '127.0.0.1' },
      services: [{ port, protocol: 'http' }],
      scan: { tcp: String(port), scanner: 'builtin' },
    });
    const done = (probe: string, o: { observations: ProbeResult['observations'] }): ProbeResult => ({
      probe,
      status: 'completed',
      startedAt: new Date().toISOString(),
      durationMs: 1,
      observations: o.observations,
      evidence: [],
    });
    const tcp = done('tcp-ports', await tcpPortsProbe.run(await probeContext(device)));
    const pt = done('plaintext', await plaintextProbe.run(await probeContext(device, { 'tcp-ports': tcp })));
    expect(pt.observations.find((o) => o.kind === 'plaintext-service')?.data).toMatchObject({ carries: 'unknown', how: expect.stringMatching(/^no answer/) });
    const r = judgeCheck('comms.plaintext', {
      device,
      checks: CHECKS,
      probes: PROBES,
      results: new Map([
        ['tcp-ports', tcp],
        ['plaintext', pt],
      ]),
      reveal: false,
    });
    expect(r.verdict).toBe('inconclusive');
  } finally {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((r) => srv.close(() => r()));
  }
});
