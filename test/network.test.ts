/** Network probes against in-process peers on loopback: scanners, identification, UDP, TLS, SSH, plaintext, connection limit. */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { createBroker } from 'aedes';
import { Server as SshServer } from 'ssh2';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { nmapPath, parseNmapXml } from '../probes/ports/nmap';
import { selfSignedCert } from '../fixtures/util/cert';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { listenOn, type Running } from './helpers/servers';
import { sshKeyPair } from '../fixtures/util/ssh-key';

const servers: Running[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function assess(input: Partial<DeviceFileInput> & { services: DeviceFileInput['services'] }, checks: string[], tcp: number[], udp?: number[]) {
  const d = deviceFrom({
    device: { name: 'net test' },
    target: { host: '127.0.0.1' },
    scan: { tcp: tcp.join(','), udp: (udp ?? [tcp[0]]).join(','), scanner: 'builtin', bannerWaitMs: 200 },
    ...input,
  });
  return runWith({ device: d, profile: profileOf(checks.map((c) => ({ id: c, checks: [c] }))), probes: [...PROBES.values()], checks: [...CHECKS.values()] });
}
const verdictOf = (report: { checks: Array<{ id: string; verdict: string }> }, id: string) => report.checks.find((c) => c.id === id)?.verdict;

describe('nmap XML', () => {
  it('reads open ports and the closed/filtered counts', () => {
    const xml = `<?xml version="1.0"?><nmaprun><host><ports><extraports state="closed" count="65530"/><port protocol="tcp" portid="22"><state state="open"/></port><port protocol="tcp" portid="23"><state state="filtered"/></port><port protocol="tcp" portid="80"><state state="open"/></port></ports></host></nmaprun>`;
    expect(parseNmapXml(xml)).toEqual({ open: [22, 80], closed: 65530, filtered: 1 });
    expect(() => parseNmapXml('<html>not nmap</html>')).toThrow(/no <nmaprun>/);
  });
});

describe('service identification', () => {
  it('names silent TLS, HTTP and MQTT ports by what they answer', async () => {
    const cert = selfSignedCert();
    const tlsServer = await listenOn(tls.createServer(cert, (s) => s.end()));
    const web = await listenOn(http.createServer((_q, r) => r.writeHead(204).end()));
    const broker = createBroker();
    const mq = await listenOn(net.createServer(broker.handle));
    servers.push(tlsServer, web, mq);
    const { report } = await assess({ services: [] }, ['exposure.undeclared-services'], [tlsServer.port, web.port, mq.port]);
    const found = report.observations['tcp-ports'].observations.filter((o) => o.kind === 'tcp-port').map((o) => [o.port, o.data.service]);
    expect(found).toEqual(
      expect.arrayContaining([
        [tlsServer.port, 'tls'],
        [web.port, 'http'],
        [mq.port, 'mqtt'],
      ]),
    );
    expect(verdictOf(report, 'exposure.undeclared-services')).toBe('fail');
    await new Promise<void>((r) => broker.close(() => r()));
  });

  // nmap is a real peer here: installed by .ci/run (fixtures/lab/lab install); without it this test fails.
  it('nmap and the built-in scanner find the same open ports', async () => {
    expect(nmapPath()).toBeDefined();
    const a = await listenOn(net.createServer((s) => s.end()));
    const b = await listenOn(net.createServer((s) => s.end()));
    servers.push(a, b);
    const closed = await listenOn(net.createServer());
    await closed.close();
    const spec = [a.port, b.port, closed.port];
    const runWithScanner = async (scanner: 'nmap' | 'builtin') => {
      const d = deviceFrom({
        device: { name: 'x' },
        target: { host: '127.0.0.1' },
        services: [{ port: a.port, protocol: 'other' }],
        scan: { tcp: spec.join(','), udp: String(a.port), scanner },
      });
      const { report } = await runWith({
        device: d,
        profile: profileOf([{ id: 'R', checks: ['exposure.undeclared-services'] }]),
        probes: [...PROBES.values()],
        checks: [...CHECKS.values()],
      });
      return report.observations['tcp-ports'].observations.find((o) => o.kind === 'tcp-scan')!.data;
    };
    const viaNmap = await runWithScanner('nmap');
    const builtin = await runWithScanner('builtin');
    expect(viaNmap.scanner).toBe('nmap -sT');
    expect(builtin.scanner).toBe('built-in connect scan');
    expect(viaNmap.open).toEqual(builtin.open);
    expect(builtin.open).toEqual([a.port, b.port].sort((x, y) => x - y));
  });
});

describe('udp-services', () => {
  it('an undeclared UDP service that answers fails exposure; a declared one passes', async () => {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => sock.send(Buffer.concat([Buffer.from('reply:'), msg.subarray(0, 8)]), rinfo.port, rinfo.address));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    const tcp = await listenOn(net.createServer((s) => s.end()));
    servers.push(tcp, { port, close: () => new Promise<void>((r) => sock.close(() => r())) });
    const undeclared = await assess({ services: [{ port: tcp.port, protocol: 'other' }] }, ['exposure.undeclared-services'], [tcp.port], [port]);
    expect(verdictOf(undeclared.report, 'exposure.undeclared-services')).toBe('fail');
    expect(undeclared.report.checks[0].findings[0].message).toMatch(new RegExp(`UDP ${port} answered`));
    const declared = await assess(
      {
        services: [
          { port: tcp.port, protocol: 'other' },
          { port, protocol: 'snmp', transport: 'udp' },
        ],
      },
      ['exposure.undeclared-services'],
      [tcp.port],
      [port],
    );
    expect(verdictOf(declared.report, 'exposure.undeclared-services')).toBe('pass');
  });

  it('a CoAP service that answers only a CoAP request (never an empty datagram) is found on its well-known port', async () => {
    const sock = dgram.createSocket('udp4');
    const asked: number[] = [];
    sock.on('message', (msg, rinfo) => {
      asked.push(msg.length);
      // Version 1, confirmable GET (RFC 7252 §3): anything else is dropped, as a CoAP server does.
      if (msg.length < 4 || msg[0] >> 6 !== 1 || msg[1] !== 0x01) return;
      const ack = Buffer.concat([
        Buffer.from([0x60 | (msg[0] & 0x0f), 0x45, msg[2], msg[3]]),
        msg.subarray(4, 4 + (msg[0] & 0x0f)),
        Buffer.from([0xff]),
        Buffer.from('</sensors/temp>;rt="temperature"'),
      ]);
      sock.send(ack, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(5683, '127.0.0.1', r));
    const tcp = await listenOn(net.createServer((s) => s.end()));
    servers.push(tcp, { port: 5683, close: () => new Promise<void>((r) => sock.close(() => r())) });
    const { report } = await assess({ services: [{ port: tcp.port, protocol: 'other' }] }, ['exposure.undeclared-services'], [tcp.port], [5683]);
    expect(asked.length).toBeGreaterThan(0);
    expect(verdictOf(report, 'exposure.undeclared-services')).toBe('fail');
    expect(report.checks[0].findings.map((f) => f.message).join('\n')).toMatch(/UDP 5683 answered/);
    const coap = report.observations['udp-services'].observations.find((o) => o.port === 5683);
    expect(coap?.data.decoded).toMatch(/CoAP 2\.05: <\/sensors\/temp>;rt="temperature"/);
  });

  it("an mDNS responder that answers only a DNS query is found, its records decoded, and the owner's name in a TXT record is personal data on the network", async () => {
    const owner = 'Hanako-mdns-canary';
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      let q;
      try {
        q = dnsPacket.decode(msg);
      } catch {
        return; // not DNS: dropped
      }
      if (q.type !== 'query' || !q.questions?.length) return;
      const answer = dnsPacket.encode({
        type: 'response',
        id: q.id,
        flags: dnsPacket.AUTHORITATIVE_ANSWER,
        questions: q.questions,
        answers: [
          { type: 'PTR', name: '_services._dns-sd._udp.local', data: '_http._tcp.local' },
          { type: 'TXT', name: 'cam._http._tcp.local', data: [`owner=${owner}`, 'model=CAM1'] },
        ],
      });
      sock.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(5353, '127.0.0.1', r));
    const tcp = await listenOn(net.createServer((s) => s.end()));
    servers.push(tcp, { port: 5353, close: () => new Promise<void>((r) => sock.close(() => r())) });
    const { report } = await assess(
      { services: [{ port: tcp.port, protocol: 'other' }], personalData: { declared: ['name'], canaries: { name: owner } } },
      ['exposure.undeclared-services', 'privacy.personal-data-exposure'],
      [tcp.port],
      [5353],
    );
    const mdns = report.observations['udp-services'].observations.find((o) => o.port === 5353);
    expect(mdns?.data.decoded).toMatch(/PTR _services\._dns-sd\._udp\.local _http\._tcp\.local/);
    expect(verdictOf(report, 'exposure.undeclared-services')).toBe('fail');
    expect(verdictOf(report, 'privacy.personal-data-exposure')).toBe('fail');
    expect(JSON.stringify(report.checks)).not.toContain(owner);
  });

  it('a closed UDP port is closed (ICMP), a silent one is only open|filtered', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const closedSock = dgram.createSocket('udp4');
    await new Promise<void>((r) => closedSock.bind(0, '127.0.0.1', r));
    const closedPort = closedSock.address().port;
    await new Promise<void>((r) => closedSock.close(() => r()));
    const tcp = await listenOn(net.createServer((s) => s.end()));
    servers.push(tcp, { port: 0, close: () => new Promise<void>((r) => silent.close(() => r())) });
    const { report } = await assess(
      {
        services: [
          { port: tcp.port, protocol: 'other' },
          { port: closedPort, protocol: 'coap', transport: 'udp' },
        ],
      },
      ['exposure.undeclared-services'],
      [tcp.port],
      [silent.address().port, closedPort],
    );
    const udp = Object.fromEntries(report.observations['udp-services'].observations.filter((o) => o.kind === 'udp-port').map((o) => [o.port, o.data.state]));
    expect(udp[silent.address().port]).toBe('open|filtered');
    expect(udp[closedPort]).toBe('closed');
    expect(verdictOf(report, 'exposure.undeclared-services')).toBe('pass');
  });
});

describe('comms.tls', () => {
  it('a TLS 1.2+ server with a 2048-bit SHA-256 certificate passes; self-signed is only informational', async () => {
    const s = await listenOn(
      tls.createServer({ ...selfSignedCert(), minVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384' }, (c) => c.end()),
    );
    servers.push(s);
    const { report } = await assess({ services: [{ port: s.port, protocol: 'tls' }] }, ['comms.tls'], [s.port]);
    const c = report.checks.find((x) => x.id === 'comms.tls')!;
    expect(c.verdict).toBe('pass');
    expect(c.findings.map((f) => f.severity)).toEqual(['info']);
  });

  it('TLS 1.0, a 1024-bit key, SHA-1 and an expired certificate each fail', async () => {
    const cert = selfSignedCert({ bits: 1024, hash: 'sha1', notAfterDays: -2, notBeforeDays: -30 });
    const s = await listenOn(tls.createServer({ ...cert, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' }, (c) => c.end()));
    servers.push(s);
    const { report } = await assess({ services: [{ port: s.port, protocol: 'https' }] }, ['comms.tls'], [s.port]);
    const c = report.checks.find((x) => x.id === 'comms.tls')!;
    expect(c.verdict).toBe('fail');
    const messages = c.findings.map((f) => f.message).join('\n');
    expect(messages).toMatch(/accepts TLSv1\b/);
    expect(messages).toMatch(/RSA 1024 bit/);
    expect(messages).toMatch(/signed with sha1WithRSAEncryption/);
    expect(messages).toMatch(/expired on/);
    expect(messages).toMatch(/CBC with SHA-1 suites/);
  });

  it('a port that is not TLS at all is inconclusive, not pass', async () => {
    const s = await listenOn(
      net.createServer((c) => {
        c.on('error', () => undefined);
        c.end('220 hello\r\n');
      }),
    );
    servers.push(s);
    const { report } = await assess({ services: [{ port: s.port, protocol: 'https' }] }, ['comms.tls'], [s.port]);
    expect(verdictOf(report, 'comms.tls')).toBe('inconclusive');
  });
});

describe('comms.ssh', () => {
  async function sshWith(hostKey: string | Buffer) {
    const server = new SshServer({ hostKeys: [hostKey] }, (c) => {
      c.on('authentication', (ctx) => ctx.reject(['publickey']));
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push({ port: 0, close: () => new Promise<void>((r) => server.close(() => r())) });
    return (server.address() as net.AddressInfo).port;
  }

  it('an Ed25519 host key passes', async () => {
    const port = await sshWith(sshKeyPair('ed25519').private);
    const { report } = await assess({ services: [{ port, protocol: 'ssh' }] }, ['comms.ssh'], [port]);
    expect(verdictOf(report, 'comms.ssh')).toBe('pass');
  });

  it('a 1024-bit RSA host key fails, with the size measured', async () => {
    const port = await sshWith(sshKeyPair('rsa', 1024).private);
    const { report } = await assess({ services: [{ port, protocol: 'ssh' }] }, ['comms.ssh'], [port]);
    const c = report.checks.find((x) => x.id === 'comms.ssh')!;
    expect(c.verdict).toBe('fail');
    expect(c.findings.find((f) => f.severity === 'high')?.message).toBe(`SSH ${port}: RSA host key of 1024 bit (minimum 2048)`);
  });

  it('a garbage banner is inconclusive, never pass', async () => {
    const s = await listenOn(
      net.createServer((c) => {
        c.on('error', () => undefined);
        c.end(Buffer.from('SSH-2.0-x\r\n\x00\x00\x00\x05\x00\xff\xff\xff\xff'));
      }),
    );
    servers.push(s);
    const { report } = await assess({ services: [{ port: s.port, protocol: 'ssh' }] }, ['comms.ssh'], [s.port]);
    expect(verdictOf(report, 'comms.ssh')).toBe('inconclusive');
  });
});

describe('comms.plaintext', () => {
  it('HTTP Basic on plain HTTP fails; a port-80 that only redirects to HTTPS passes', async () => {
    const basic = await listenOn(http.createServer((_q, r) => r.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }).end()));
    const redirect = await listenOn(http.createServer((q, r) => r.writeHead(301, { Location: `https://127.0.0.1${q.url}` }).end()));
    servers.push(basic, redirect);
    const bad = await assess({ services: [{ port: basic.port, protocol: 'http' }] }, ['comms.plaintext'], [basic.port]);
    expect(verdictOf(bad.report, 'comms.plaintext')).toBe('fail');
    const good = await assess({ services: [{ port: redirect.port, protocol: 'http' }] }, ['comms.plaintext'], [redirect.port]);
    expect(verdictOf(good.report, 'comms.plaintext')).toBe('pass');
  });

  it('a password form served over HTTP fails', async () => {
    const form = await listenOn(
      http.createServer((_q, r) => r.writeHead(200, { 'Content-Type': 'text/html' }).end('<form><input name=u><input type="password" name=p></form>')),
    );
    const secure = await listenOn(https.createServer(selfSignedCert(), (_q, r) => r.end('ok')));
    servers.push(form, secure);
    const { report } = await assess(
      {
        services: [
          { port: form.port, protocol: 'http' },
          { port: secure.port, protocol: 'https' },
        ],
      },
      ['comms.plaintext'],
      [form.port, secure.port],
    );
    const c = report.checks.find((x) => x.id === 'comms.plaintext')!;
    expect(c.verdict).toBe('fail');
    expect(c.findings.find((f) => f.severity === 'high')?.message).toMatch(/password form served over plain HTTP/);
  });
});

describe('connection limit', () => {
  /**
   * A plain TCP proxy in front of a server, counting connections as the device
   * would: from accept until either side closes. It forwards each FIN only
   * after counting, so the harness cannot release a slot before the count drops.
   */
  async function countingProxy(target: number, tally: { open: number; peak: number }): Promise<Running> {
    const proxy = net.createServer({ allowHalfOpen: true }, (client) => {
      tally.open += 1;
      tally.peak = Math.max(tally.peak, tally.open);
      let counted = true;
      const gone = (): void => {
        if (counted) tally.open -= 1;
        counted = false;
      };
      const upstream = net.connect({ host: '127.0.0.1', port: target, allowHalfOpen: true });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('end', () => {
        gone();
        upstream.end();
      });
      client.on('close', () => {
        gone();
        upstream.destroy();
      });
      // The device closed it first: it holds nothing any more.
      upstream.on('end', () => {
        gone();
        client.end();
      });
      upstream.on('close', () => client.destroy());
      client.pipe(upstream, { end: false });
      upstream.pipe(client, { end: false });
    });
    return listenOn(proxy);
  }

  it('no probe ever has more connections open to the device than its limit', async () => {
    const tally = { open: 0, peak: 0 };
    const sshServer = new SshServer({ hostKeys: [sshKeyPair('ed25519').private] }, (c) => {
      c.on('authentication', (ctx) => ctx.reject(['password']));
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => sshServer.listen(0, '127.0.0.1', r));
    const web = await listenOn(http.createServer((_q, r) => setTimeout(() => r.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }).end(), 5)));
    const tlsServer = await listenOn(tls.createServer(selfSignedCert(), (c) => c.end()));
    servers.push(web, tlsServer, { port: 0, close: () => new Promise<void>((r) => sshServer.close(() => r())) });
    const sshProxy = await countingProxy((sshServer.address() as net.AddressInfo).port, tally);
    const webProxy = await countingProxy(web.port, tally);
    const tlsProxy = await countingProxy(tlsServer.port, tally);
    servers.push(sshProxy, webProxy, tlsProxy);
    const { peakConnections } = await assess(
      {
        services: [
          { port: sshProxy.port, protocol: 'ssh' },
          { port: webProxy.port, protocol: 'http' },
          { port: tlsProxy.port, protocol: 'https' },
        ],
        auth: [{ port: webProxy.port, protocol: 'http', path: '/', scheme: 'basic' }],
        limits: { connections: 2, connectTimeoutMs: 1000, probeTimeoutSeconds: 60, deadlineSeconds: 120, credentialBudget: 20 },
      },
      ['exposure.undeclared-services', 'auth.default-credentials', 'comms.tls', 'comms.ssh', 'comms.plaintext'],
      [sshProxy.port, webProxy.port, tlsProxy.port],
    );
    expect(peakConnections).toBe(2);
    expect(tally.peak).toBeGreaterThan(0);
    expect(tally.peak).toBeLessThanOrEqual(2);
  }, 60_000);
});
