/**
 * device.model-identification against real peers on loopback: the model on
 * a page behind a redirect, in a login prompt's realm, only after login, in
 * an SSH banner, in the SNMP system group, in a UPnP description the device
 * points at from SSDP. And the devices that must not pass: one that answers
 * 200 with a generic page to everything, one that names a look-alike model,
 * one whose UPnP LOCATION points at another host (not fetched), one that
 * never answers (unknown, not "not seen").
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { assess, verdicts } from './audit-helpers';
import { listenOn, snmpAgent, type Running } from './helpers/servers';

const ID = 'device.model-identification';
const LAB = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

const web = (port: number, extra: Partial<DeviceFileInput> = {}): DeviceFileInput => ({
  device: { name: 'cam', model: 'SB-CAM-X', firmware: '4.0.1' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port), udp: '1' },
  services: [{ port, protocol: 'http' }],
  ...extra,
});

async function judged(input: DeviceFileInput) {
  const { report } = await assess(input, [ID]);
  const c = report.checks.find((x) => x.id === ID)!;
  const obs = report.observations['identification']?.observations ?? [];
  return { verdict: verdicts(report)[ID], rationale: c.rationale, text: `${c.rationale}\n${c.findings.map((f) => f.message).join('\n')}`, obs };
}

async function httpDevice(handler: http.RequestListener): Promise<Running> {
  return listenOn(http.createServer(handler));
}

/** A UDP responder on loopback that answers every datagram with `answer(port)`. */
async function udpResponder(answer: () => string): Promise<Running> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (_m, rinfo) => sock.send(answer(), rinfo.port, rinfo.address));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

describe('device.model-identification on loopback devices', () => {
  it('pass: the model on the landing page a redirect leads to, with where; the firmware beside it', async () => {
    const d = await httpDevice((req, res) => {
      if (req.url === '/') return void res.writeHead(302, { Location: '/ui/index.html' }).end();
      if (req.url === '/ui/index.html')
        return void res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end('<html><title>Camera</title><body><footer>SB-CAM-X &middot; v4.0.1</footer></body></html>');
      res.writeHead(404).end();
    });
    try {
      const r = await judged(web(d.port));
      expect(r.verdict).toBe('pass');
      expect(r.rationale).toMatch(/shown in http \d+ \/ui\/index\.html \(HTTP 200\); firmware 4\.0\.1 shown too/);
    } finally {
      await d.close();
    }
  }, 60_000);

  it("pass: the model only in the login prompt's realm", async () => {
    const d = await httpDevice((_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="SB-CAM-X"' }).end('authentication required'));
    try {
      expect((await judged(web(d.port))).verdict).toBe('pass');
    } finally {
      await d.close();
    }
  }, 60_000);

  it('pass: the model only on the admin page behind the lab credential', async () => {
    const d = await httpDevice((req, res) => {
      if (req.url === '/admin' && req.headers.authorization === LAB)
        return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>sb cam x settings</h1>');
      if (req.url === '/admin') return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="camera"' }).end();
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>Welcome</h1>');
    });
    try {
      const r = await judged(
        web(d.port, {
          credentials: { admin: { username: 'admin', password: 'lab-pass-8c1e' } },
          auth: [{ port: d.port, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin' }],
        }),
      );
      expect(r.verdict).toBe('pass');
      expect(r.rationale).toMatch(/\/admin \(lab credential "admin"\)/);
      expect(r.text).not.toContain('lab-pass-8c1e');
    } finally {
      await d.close();
    }
  }, 60_000);

  it('pass: the model in an SSH banner', async () => {
    const d = await listenOn(net.createServer((s) => s.write('SSH-2.0-SB-CAM-X_sshd\r\n')));
    try {
      const r = await judged({ ...web(d.port), services: [{ port: d.port, protocol: 'ssh' }] });
      expect(r.verdict).toBe('pass');
      expect(r.rationale).toMatch(/ssh \d+ banner/);
    } finally {
      await d.close();
    }
  }, 60_000);

  it('pass: the model in SNMP sysDescr, read with the lab community', async () => {
    const agent = await snmpAgent(['lab-c0mm'], { sysDescr: 'SB-CAM-X IP camera, firmware 4.0.1', sysContact: 'owner@example.jp' });
    try {
      const r = await judged({
        device: { name: 'cam', model: 'SB-CAM-X' },
        target: { host: '127.0.0.1' },
        scan: { tcp: '1', udp: String(agent.port) },
        services: [{ port: agent.port, protocol: 'snmp', transport: 'udp' }],
        credentials: { snmp: { username: 'snmp', password: 'lab-c0mm' } },
        auth: [{ port: agent.port, protocol: 'snmp', scheme: 'password', credential: 'snmp' }],
      });
      expect(r.verdict).toBe('pass');
      expect(r.rationale).toMatch(/snmp udp\/\d+ system group \(community "lab"\)/);
      // sysContact is the owner's, not the device's: not searched, not shown.
      expect(JSON.stringify(r.obs)).not.toContain('owner@example.jp');
    } finally {
      await agent.close();
    }
  }, 60_000);

  it('pass: the model in the UPnP device description SSDP points at; a LOCATION on another host is not fetched', async () => {
    const desc = await httpDevice((req, res) => {
      if (req.url === '/desc.xml')
        return void res
          .writeHead(200, { 'Content-Type': 'text/xml' })
          .end(
            '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><friendlyName>Living room</friendlyName><manufacturer>Lab</manufacturer><modelName>SB-CAM-X</modelName></device></root>',
          );
      res.writeHead(404).end();
    });
    let location = `http://127.0.0.1:${desc.port}/desc.xml`;
    const ssdp = await udpResponder(
      () => `HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: ${location}\r\nST: upnp:rootdevice\r\nSERVER: Linux UPnP/1.0\r\n\r\n`,
    );
    const input: DeviceFileInput = {
      device: { name: 'cam', model: 'SB-CAM-X' },
      target: { host: '127.0.0.1' },
      scan: { tcp: String(desc.port), udp: String(ssdp.port) },
      services: [
        { port: desc.port, protocol: 'http' },
        { port: ssdp.port, protocol: 'ssdp', transport: 'udp' },
      ],
    };
    try {
      const r = await judged(input);
      expect(r.verdict).toBe('pass');
      expect(r.rationale).toMatch(/UPnP description \/desc\.xml/);
      location = `http://198.18.200.9:${desc.port}/desc.xml`;
      const elsewhere = await judged(input);
      expect(elsewhere.verdict).toBe('inconclusive');
      expect(elsewhere.text).toMatch(/LOCATION names another host: not fetched \(scope\)/);
    } finally {
      await ssdp.close();
      await desc.close();
    }
  }, 90_000);

  it('not-tested: 200 with a generic page to every request, and a look-alike model, are not the model', async () => {
    const d = await httpDevice((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'text/html', Server: 'httpd' }).end('<h1>IP Camera</h1><p>Model SB-CAM-X2, firmware 4.0.10</p>'),
    );
    try {
      const r = await judged(web(d.port));
      expect(r.verdict).toBe('not-tested');
      expect(r.rationale).toMatch(/label of the device or its packaging/);
      expect(r.obs.filter((o) => o.kind === 'identity-seen')).toEqual([]);
    } finally {
      await d.close();
    }
  }, 60_000);

  it('inconclusive: a web UI that accepts the connection and never answers is not "not seen"', async () => {
    const d = await listenOn(net.createServer(() => undefined));
    try {
      const r = await judged({ ...web(d.port), services: [{ port: d.port, protocol: 'http' }] });
      expect(r.verdict).toBe('inconclusive');
    } finally {
      await d.close();
    }
  }, 90_000);
});
