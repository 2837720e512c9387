/**
 * What the device sends on its own: a real capture (dumpcap or tcpdump) on loopback, dissected by tshark, of a
 * "device" at 127.0.0.2 that phones home to a "cloud" at 127.0.0.3; and the verdicts of the four traffic checks on
 * every way the capture or the MITM test can come out.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import net from 'node:net';
import tls from 'node:tls';
import { probeContext } from '../cli/standalone';
import { judgeCheck } from '../harness/judge';
import type { DeviceFileInput } from '../harness/device-file/schema';
import {
  declares,
  destinationTable,
  TrafficCaptureFact,
  TrafficDestinationFact,
  TrafficMitmFact,
  type TrafficCapture,
  type TrafficDestination,
  type TrafficMitm,
} from '../harness/traffic';
import type { Observation, ProbeResult } from '../harness/types';
import type { DestinationRow } from '../harness/destination-row';
import type { Report } from '../harness/report';
import { diffRuns, renderDiffHtml, renderDiffText } from '../reports/diff';
import { removeLeftoverRedirect } from '../probes/traffic/mitm';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { trafficProbe } from '../probes/traffic';
import { missingCaptureTools, trafficTools } from '../probes/traffic/tools';
import { deviceFrom } from './helpers/device';

const CANARY = 'hanako.traffic.canary@example.jp';
const TRAFFIC_CHECKS = ['comms.outbound-plaintext', 'comms.outbound-tls', 'comms.certificate-validation', 'privacy.destinations'];

function completed(observations: Observation[]): ProbeResult {
  return { probe: 'traffic', status: 'completed', startedAt: new Date().toISOString(), durationMs: 1, observations, evidence: [] };
}

function judgeAll(
  device: ReturnType<typeof deviceFrom>,
  result: ProbeResult,
): Record<string, { verdict: string; rationale: string; findings: Array<{ message: string }> }> {
  const out: Record<string, { verdict: string; rationale: string; findings: Array<{ message: string }> }> = {};
  for (const id of TRAFFIC_CHECKS) out[id] = judgeCheck(id, { device, checks: CHECKS, probes: PROBES, results: new Map([['traffic', result]]), reveal: false });
  return out;
}

const base: DeviceFileInput = {
  device: { name: 'phone-home' },
  target: { host: '127.0.0.2' },
  services: [{ port: 1, protocol: 'other' }],
  personalData: { declared: ['email'], canaries: { email: CANARY } },
};

describe('a real capture on loopback, dissected by tshark', () => {
  const tools = trafficTools();
  it('the bench has the capture tools (CI installs tshark and tcpdump)', () => {
    expect(missingCaptureTools(tools)).toBeNull();
  });

  it('a device that posts its owner e-mail with a Basic password in clear and offers TLS 1.1: fails plaintext, TLS and destinations, with the frames named', async () => {
    const control = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => control.listen(0, '127.0.0.2', r));
    const cloud = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => cloud.listen(0, '127.0.0.3', r));
    const sink = net.createServer((s) => {
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 300);
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.3', r));
    const httpPort = (cloud.address() as net.AddressInfo).port;
    const tlsPort = (sink.address() as net.AddressInfo).port;
    let timer: NodeJS.Timeout | undefined;
    const phoneHome = (): void => {
      const body = JSON.stringify({ owner: CANARY });
      http
        .request(
          {
            host: '127.0.0.3',
            port: httpPort,
            localAddress: '127.0.0.2',
            method: 'POST',
            path: '/api/upload',
            headers: {
              Authorization: `Basic ${Buffer.from('cam:cloud-pass-1234').toString('base64')}`,
              Host: 'cloud.example',
              'Content-Type': 'application/json',
            },
            agent: false,
          },
          (res) => res.resume(),
        )
        .on('error', () => undefined)
        .end(body);
      const raw = net.connect({ host: '127.0.0.3', port: tlsPort, localAddress: '127.0.0.2' });
      raw.on('error', () => undefined);
      const c = tls.connect({ socket: raw, servername: 'old.cloud.example', maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
      c.on('error', () => undefined);
      c.setTimeout(1000, () => c.destroy());
      timer = setTimeout(phoneHome, 700);
    };
    try {
      const device = deviceFrom({
        ...base,
        services: [{ port: (control.address() as net.AddressInfo).port, protocol: 'other' }],
        traffic: { interface: 'lo', seconds: 3, declaredDestinations: [`127.0.0.3:${httpPort}`], secrets: { 'cloud-password': 'cloud-pass-1234' } },
      });
      const ctx = await probeContext(device);
      const run = trafficProbe.run(ctx);
      setTimeout(phoneHome, 800);
      const out = completed((await run).observations);
      clearTimeout(timer);
      const cap = out.observations.find((o) => o.kind === 'traffic-capture')!.data as TrafficCapture;
      expect(cap.control.seen).toBe(true);
      expect(cap.deviceFlows).toBeGreaterThan(0);
      const v = judgeAll(device, out);
      expect(v['comms.outbound-plaintext'].verdict).toBe('fail');
      const plain = v['comms.outbound-plaintext'].findings.map((f) => f.message).join('\n');
      expect(plain).toMatch(/personal-data email sent in clear to .*127\.0\.0\.3.*frame \d+/);
      expect(plain).toMatch(/secret cloud-password sent in clear/);
      expect(plain).toMatch(/HTTP Basic password of "cam"/);
      expect(plain).not.toContain('cloud-pass-1234');
      expect(v['comms.outbound-tls'].verdict).toBe('fail');
      expect(v['comms.outbound-tls'].findings.map((f) => f.message).join('\n')).toMatch(/offers TLSv1\.1 to old\.cloud\.example/);
      expect(v['privacy.destinations'].verdict).toBe('fail');
      expect(v['privacy.destinations'].rationale).toContain(`old.cloud.example (127.0.0.3:${tlsPort}/tcp)`);
      expect(v['privacy.destinations'].rationale).not.toContain(`:${httpPort}/`);
      expect(v['comms.certificate-validation'].verdict).toBe('not-tested');
    } finally {
      clearTimeout(timer);
      for (const s of [control, cloud, sink]) await new Promise<void>((r) => s.close(() => r()));
    }
  }, 30_000);

  it('a canary in a gzip-compressed, chunked HTTP body is still found in clear (tshark rebuilds the body)', async () => {
    const control = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => control.listen(0, '127.0.0.2', r));
    const cloud = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => cloud.listen(0, '127.0.0.3', r));
    const port = (cloud.address() as net.AddressInfo).port;
    let timer: NodeJS.Timeout | undefined;
    const send = (): void => {
      const req = http.request(
        {
          host: '127.0.0.3',
          port,
          localAddress: '127.0.0.2',
          method: 'POST',
          path: '/telemetry',
          headers: { 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' },
          agent: false,
        },
        (res) => res.resume(),
      );
      req.on('error', () => undefined);
      const gz = gzipSync(JSON.stringify({ pad: 'x'.repeat(50), where: '35.6812,139.7671' }));
      req.write(gz.subarray(0, 20));
      setTimeout(() => req.end(gz.subarray(20)), 50);
      timer = setTimeout(send, 600);
    };
    try {
      const device = deviceFrom({
        ...base,
        personalData: { declared: ['email', 'location'], canaries: { email: CANARY, location: '35.6812,139.7671' } },
        services: [{ port: (control.address() as net.AddressInfo).port, protocol: 'other' }],
        traffic: { interface: 'lo', seconds: 3, declaredDestinations: [`127.0.0.3:${port}`] },
      });
      const run = trafficProbe.run(await probeContext(device));
      setTimeout(send, 800);
      const out = completed((await run).observations);
      clearTimeout(timer);
      const v = judgeAll(device, out);
      expect(v['comms.outbound-plaintext'].verdict).toBe('fail');
      expect(v['comms.outbound-plaintext'].rationale).toContain('personal-data location');
      expect(v['privacy.destinations'].verdict).toBe('pass');
    } finally {
      clearTimeout(timer);
      for (const s of [control, cloud]) await new Promise<void>((r) => s.close(() => r()));
    }
  }, 30_000);

  it('a device that sends nothing: every traffic check is inconclusive (or not-tested for the opt-in MITM), never pass', async () => {
    const control = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => control.listen(0, '127.0.0.2', r));
    try {
      const device = deviceFrom({
        ...base,
        services: [{ port: (control.address() as net.AddressInfo).port, protocol: 'other' }],
        traffic: { interface: 'lo', seconds: 2, declaredDestinations: [] },
      });
      const out = completed((await trafficProbe.run(await probeContext(device))).observations);
      const v = judgeAll(device, out);
      expect(v['comms.outbound-plaintext'].verdict).toBe('inconclusive');
      expect(v['comms.outbound-plaintext'].rationale).toMatch(/opened no connection of its own/);
      expect(v['comms.outbound-tls'].verdict).toBe('inconclusive');
      expect(v['privacy.destinations'].verdict).toBe('inconclusive');
      expect(v['comms.certificate-validation'].verdict).toBe('not-tested');
    } finally {
      await new Promise<void>((r) => control.close(() => r()));
    }
  }, 30_000);

  it('an interface that does not exist fails the probe with its name', async () => {
    const device = deviceFrom({ ...base, traffic: { interface: 'nosuch0', seconds: 2 } });
    await expect(trafficProbe.run(await probeContext(device))).rejects.toThrow(/traffic\.interface nosuch0 is not an interface of this bench/);
  });

  it('without tshark or a capture tool the probe skips naming the Debian packages, and the checks are not-tested', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const device = deviceFrom({ ...base, traffic: { interface: 'lo', mitm: true } });
      const why = trafficProbe.skipReason!(device, { interactive: false });
      expect(why).toMatch(/tshark/);
      expect(why).toMatch(/tcpdump/);
      const skipped: ProbeResult = { probe: 'traffic', status: 'skipped', reason: why!, durationMs: 0, observations: [], evidence: [] };
      for (const [, r] of Object.entries(judgeAll(device, skipped))) {
        expect(r.verdict).toBe('not-tested');
        expect(r.rationale).toMatch(/tshark/);
      }
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('verdicts from the facts', () => {
  const capture = (o: Partial<TrafficCapture> = {}): Observation => ({
    kind: TrafficCaptureFact.kind,
    summary: 'c',
    data: {
      phase: 'watch',
      interface: 'eth1',
      tool: 'dumpcap',
      filter: 'host 198.18.1.2',
      pcap: 'evidence/traffic-watch.pcap',
      seconds: 10,
      packets: 40,
      bytes: 4000,
      truncated: false,
      control: { seen: true, detail: 'seen' },
      deviceFlows: 3,
      dnsQueries: [],
      provoked: [],
      ...o,
    } satisfies TrafficCapture,
  });
  const dest = (o: Partial<TrafficDestination> = {}): Observation => ({
    kind: TrafficDestinationFact.kind,
    summary: 'd',
    data: {
      phase: 'watch',
      address: '198.18.9.2',
      port: 8883,
      transport: 'tcp',
      protocol: 'tls',
      names: ['strong.cloud.example'],
      resolvedNames: ['strong.cloud.example'],
      claimedNames: ['strong.cloud.example'],
      payloadBytes: 2000,
      opaque: [],
      tlsUnparsed: false,
      sshKex: false,
      local: false,
      flows: 3,
      packetsOut: 30,
      bytesOut: 3000,
      bytesIn: 5000,
      firstFrame: 4,
      tls: {
        sni: ['strong.cloud.example'],
        versions: ['TLSv1.2', 'TLSv1.3'],
        maxOffered: 'TLSv1.3',
        suites: [0x1301, 0xc02f],
        weakSuites: [],
        ja3: [],
        frames: [4],
      },
      clear: [],
      firmware: [],
      ...o,
    } satisfies TrafficDestination,
  });
  const mitm = (o: Partial<TrafficMitm> = {}): Observation => ({
    kind: TrafficMitmFact.kind,
    summary: 'm',
    data: {
      interface: 'eth1',
      responder: '198.18.1.1',
      seconds: 10,
      rules: ['r'],
      removed: true,
      targets: [{ address: '198.18.9.2', port: 8883, names: ['strong.cloud.example'] }],
      attempts: [],
      alertsInCapture: [],
      ...o,
    } satisfies TrafficMitm,
  });
  const attempt = (outcome: TrafficMitm['attempts'][number]['outcome'], detail: string = outcome) => ({
    target: '198.18.9.2:8883',
    sni: 'strong.cloud.example',
    outcome,
    detail,
    appBytes: outcome === 'application-data' ? 120 : 0,
    categories: outcome === 'application-data' ? ['email'] : [],
    at: '2026-12-05T00:00:00Z',
  });
  const device = deviceFrom({
    ...base,
    target: { host: '198.18.1.2' },
    traffic: { interface: 'eth1', mitm: true, declaredDestinations: ['*.cloud.example:8883'] },
  });

  it('a well-built device: TLS 1.2+ to its declared cloud, the untrusted certificate refused with an alert: all four pass', () => {
    const v = judgeAll(
      device,
      completed([capture(), dest(), mitm({ attempts: [attempt('alert', 'TLS alert unknown_ca (48)'), attempt('alert', 'TLS alert unknown_ca (48)')] })]),
    );
    for (const id of TRAFFIC_CHECKS) expect({ id, verdict: v[id].verdict }).toEqual({ id, verdict: 'pass' });
    expect(v['comms.certificate-validation'].rationale).toContain('unknown_ca');
  });

  it('the control connection not in the capture: every check inconclusive (the device may be behind another interface)', () => {
    const v = judgeAll(device, completed([capture({ control: { seen: false, detail: 'no SYN' } }), dest(), mitm({ attempts: [attempt('alert')] })]));
    for (const id of TRAFFIC_CHECKS) expect({ id, verdict: v[id].verdict }).toEqual({ id, verdict: 'inconclusive' });
  });

  it('a capture that failed or dropped packets is not evidence', () => {
    expect(judgeAll(device, completed([capture({ error: 'permission denied' })]))['comms.outbound-plaintext'].verdict).toBe('inconclusive');
    expect(judgeAll(device, completed([capture({ dropped: 12 }), dest()]))['comms.outbound-tls'].verdict).toBe('inconclusive');
  });

  it('MITM: application data or a completed handshake fails; closing without an alert on every attempt passes and says so; nothing is inconclusive', () => {
    const run = (m: Observation) => judgeAll(device, completed([capture(), dest(), m]))['comms.certificate-validation'];
    expect(run(mitm({ attempts: [attempt('alert'), attempt('application-data')] })).verdict).toBe('fail');
    expect(run(mitm({ attempts: [attempt('application-data')] })).rationale).toMatch(/sent application data/);
    expect(run(mitm({ attempts: [attempt('handshake-only')] })).verdict).toBe('fail');
    const closed = run(mitm({ attempts: [attempt('closed'), attempt('closed')] }));
    expect(closed.verdict).toBe('pass');
    expect(closed.rationale).toMatch(/closed without a TLS alert/);
    expect(run(mitm({ attempts: [] })).verdict).toBe('inconclusive');
    expect(run(mitm({ attempts: [attempt('error', 'handshake timeout')] })).verdict).toBe('inconclusive');
    // A second TLS destination never seen refusing keeps it open.
    const two = mitm({ targets: [...(mitm().data as TrafficMitm).targets, { address: '198.18.9.3', port: 443, names: [] }], attempts: [attempt('alert')] });
    expect(run(two).verdict).toBe('inconclusive');
    const noNft = run(mitm({ error: 'nft is not installed', missingPackage: 'nftables' }));
    expect(noNft.verdict).toBe('not-tested');
    expect(noNft.rationale).toContain('nft');
    expect(run(mitm({ error: 'the device opened no TLS connection during the 10 s watch' })).verdict).toBe('inconclusive');
  });

  it('MITM off: certificate-validation not-tested, saying it is opt-in', () => {
    const off = deviceFrom({ ...base, target: { host: '198.18.1.2' }, traffic: { interface: 'eth1' } });
    const r = judgeAll(off, completed([capture(), dest()]))['comms.certificate-validation'];
    expect(r.verdict).toBe('not-tested');
    expect(r.rationale).toMatch(/opt-in/);
  });

  it('firmware over plain HTTP is judged with update.integrity: unknown integrity is inconclusive, never pass', () => {
    const fw = dest({
      port: 80,
      protocol: 'http',
      tls: undefined,
      names: ['fw.cloud.example'],
      resolvedNames: ['fw.cloud.example'],
      claimedNames: [],
      firmware: [{ uri: '/fw/latest.bin', frame: 9 }],
    });
    const r = judgeAll(device, completed([capture(), fw]))['comms.outbound-plaintext'];
    expect(r.verdict).toBe('inconclusive');
    expect(r.findings.map((f) => f.message).join()).toMatch(/firmware fetched over plain HTTP.*\/fw\/latest\.bin \(frame 9\)/);
  });

  it('clear bytes with nothing enrolled to look for are inconclusive; TLS-only traffic with canaries enrolled passes', () => {
    const none = deviceFrom({ device: { name: 'x' }, target: { host: '198.18.1.2' }, traffic: { interface: 'eth1' } });
    const plain = dest({ port: 80, protocol: 'http', tls: undefined });
    expect(judgeAll(none, completed([capture(), plain]))['comms.outbound-plaintext'].verdict).toBe('inconclusive');
    expect(judgeAll(device, completed([capture(), plain]))['comms.outbound-plaintext'].verdict).toBe('pass');
    expect(judgeAll(device, completed([capture(), dest()]))['comms.outbound-plaintext'].verdict).toBe('pass');
  });

  it('outbound TLS: a broken suite fails; CBC-SHA1 among AEAD suites is noted, not failed', () => {
    const broken = dest({
      tls: {
        sni: [],
        versions: ['TLSv1.2'],
        maxOffered: 'TLSv1.2',
        suites: [5],
        weakSuites: [{ code: 5, name: 'TLS_RSA_WITH_RC4_128_SHA', why: 'RC4' }],
        ja3: [],
        frames: [4],
      },
    });
    expect(judgeAll(device, completed([capture(), broken]))['comms.outbound-tls'].verdict).toBe('fail');
    const soft = dest({
      tls: {
        sni: [],
        versions: ['TLSv1.2'],
        maxOffered: 'TLSv1.2',
        suites: [0x1301, 0xc013],
        weakSuites: [{ code: 0xc013, name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', why: 'CBC with SHA-1' }],
        ja3: [],
        frames: [4],
      },
    });
    const r = judgeAll(device, completed([capture(), soft]))['comms.outbound-tls'];
    expect(r.verdict).toBe('pass');
    expect(r.findings.map((f) => f.message).join()).toMatch(/also offers TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA/);
    // Nothing better offered: CBC-SHA1 is all it has, and that fails.
    const only = dest({
      tls: {
        sni: [],
        versions: ['TLSv1.2'],
        maxOffered: 'TLSv1.2',
        suites: [0xc013],
        weakSuites: [{ code: 0xc013, name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', why: 'CBC with SHA-1' }],
        ja3: [],
        frames: [4],
      },
    });
    expect(judgeAll(device, completed([capture(), only]))['comms.outbound-tls'].verdict).toBe('fail');
    // GREASE and TLS_EMPTY_RENEGOTIATION_INFO_SCSV beside it are not a stronger suite.
    const pseudo = dest({ tls: { ...(only.data as TrafficDestination).tls!, suites: [0x0a0a, 0x00ff, 0xc013] } });
    expect(judgeAll(device, completed([capture(), pseudo]))['comms.outbound-tls'].verdict).toBe('fail');
  });

  it('undeclared destinations fail, with the personal data each received; no declared list means none is declared', () => {
    const tracker = dest({
      address: '198.18.9.3',
      port: 80,
      protocol: 'http',
      tls: undefined,
      names: ['metrics.tracker.example'],
      clear: [{ kind: 'personal-data', name: 'location', how: 'as is', frame: 12 }],
    });
    const r = judgeAll(device, completed([capture(), dest(), tracker]))['privacy.destinations'];
    expect(r.verdict).toBe('fail');
    expect(r.rationale).toContain('metrics.tracker.example (198.18.9.3:80/tcp) (received location)');
    const undeclaredAll = deviceFrom({ ...base, target: { host: '198.18.1.2' }, traffic: { interface: 'eth1' } });
    expect(judgeAll(undeclaredAll, completed([capture(), dest()]))['privacy.destinations'].rationale).toMatch(/no traffic\.declaredDestinations/);
  });

  it('declared destinations: names with a *. wildcard, addresses, CIDR blocks, ports', () => {
    const d = { address: '198.18.9.2', port: 443, names: ['eu.api.vendor.example'] };
    expect(declares('*.vendor.example', d)).toBe(true);
    expect(declares('*.vendor.example:443', d)).toBe(true);
    expect(declares('*.vendor.example:8883', d)).toBe(false);
    expect(declares('vendor.example', d)).toBe(false);
    expect(declares('198.18.9.2', d)).toBe(true);
    expect(declares('198.18.9.0/24:443', d)).toBe(true);
    expect(declares('198.18.8.0/24', d)).toBe(false);
    expect(declares('[2001:2::1]:443', { address: '2001:2::1', port: 443, names: [] })).toBe(true);
  });
});

describe('the destinations table in the diff and the report', () => {
  const row = (names: string[], address: string, port: number, personalData: string[] = []): DestinationRow => ({
    names,
    address,
    port,
    transport: 'tcp',
    protocol: port === 80 ? 'http' : 'tls',
    tls: port === 80 ? null : 'TLSv1.3',
    personalData,
    inClear: [],
    declared: true,
    local: false,
    bytesOut: 100,
    firstFrame: 1,
  });
  const report = (id: string, destinations?: DestinationRow[]): Report =>
    ({
      run: { id },
      device: { name: id, firmware: { declared: '1.0.0', observed: '1.0.0' } },
      profile: { id: 'jc-star-1' },
      observations: {},
      checks: [],
      ...(destinations ? { destinations } : {}),
    }) as unknown as Report;

  it('a destination the shop unit contacts and the certified one did not is worse; a cloud that moved address is the same destination', () => {
    const certified = report('certified', [row(['api.vendor.example'], '198.18.9.2', 443)]);
    const shop = report('shop', [row(['api.vendor.example'], '198.18.9.7', 443), row(['metrics.tracker.example'], '198.18.9.3', 80, ['location'])]);
    const d = diffRuns(certified, shop);
    expect(d.worse).toBe(true);
    expect(d.destinations?.added.map((x) => x.names[0])).toEqual(['metrics.tracker.example']);
    expect(d.destinations?.removed).toEqual([]);
    expect(renderDiffText(d)).toContain('destinations added: metrics.tracker.example 198.18.9.3:80/tcp http (personal data: location)');
    expect(renderDiffHtml(d)).toContain('metrics.tracker.example');
    expect(diffRuns(certified, certified).worse).toBe(false);
  });

  it('one run without a traffic watch: destinations are not compared, and the diff says so', () => {
    const d = diffRuns(report('a'), report('b', [row(['x.example'], '198.18.9.2', 443)]));
    expect(d.destinations).toBeUndefined();
    expect(d.worse).toBe(false);
    expect(renderDiffText(d)).toContain('destinations: not compared');
  });

  it('destinationTable marks undeclared rows and carries the personal data each received, also from the MITM responder', () => {
    const obs = (kind: string, data: unknown): Observation => ({ kind, summary: '', data: data as Record<string, unknown> });
    const d = {
      phase: 'watch',
      address: '198.18.9.2',
      port: 443,
      transport: 'tcp',
      protocol: 'tls',
      names: ['mixed.cloud.example'],
      local: false,
      flows: 1,
      packetsOut: 1,
      bytesOut: 10,
      bytesIn: 10,
      firstFrame: 3,
      tls: { sni: [], versions: ['TLSv1.3'], maxOffered: 'TLSv1.3', suites: [], weakSuites: [], ja3: [], frames: [3] },
      clear: [],
      firmware: [],
    };
    const m = {
      interface: 'eth1',
      seconds: 5,
      rules: [],
      removed: true,
      targets: [],
      alertsInCapture: [],
      attempts: [{ target: '198.18.9.2:443', outcome: 'application-data', detail: '', appBytes: 9, categories: ['email'], at: '' }],
    };
    const rows = destinationTable(completed([obs('traffic-destination', d), obs('traffic-mitm', m)]), ['*.other.example']);
    expect(rows).toEqual([expect.objectContaining({ names: ['mixed.cloud.example'], tls: 'TLSv1.3', personalData: ['email'], declared: false })]);
    expect(destinationTable(completed([obs('traffic-destination', d)]), undefined)[0].declared).toBeNull();
  });
});

describe('a redirect the run could not remove', () => {
  const ns = `sbnft${process.pid % 100000}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-redirect-'));
  const wrapper = path.join(dir, 'nft-in-ns');
  beforeAll(() => {
    // In a namespace of the test's own: the host's rules are never touched.
    execFileSync('ip', ['netns', 'add', ns]);
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} nft "$@"\n`, { mode: 0o755 });
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is removed by name from the run folder note (resume), and the note goes with it', () => {
    execFileSync(wrapper, ['add', 'table', 'ip', 'starbench_leftover1']);
    writeFileSync(path.join(dir, 'traffic-redirect.json'), JSON.stringify({ table: 'starbench_leftover1' }));
    expect(removeLeftoverRedirect(dir, wrapper)).toMatch(/removed the redirect table starbench_leftover1/);
    expect(execFileSync(wrapper, ['list', 'tables']).toString()).not.toContain('starbench_leftover1');
    expect(existsSync(path.join(dir, 'traffic-redirect.json'))).toBe(false);
    expect(removeLeftoverRedirect(dir, wrapper)).toBeUndefined();
  });

  it('a note that names anything but a starbench table is left alone', () => {
    writeFileSync(path.join(dir, 'traffic-redirect.json'), JSON.stringify({ table: 'filter' }));
    expect(removeLeftoverRedirect(dir, wrapper)).toMatch(/names no starbench table/);
    rmSync(path.join(dir, 'traffic-redirect.json'));
  });
});
