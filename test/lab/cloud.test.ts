/**
 * The lab devices phone home to the lab's fake cloud (fixtures/lab/cloud.ts):
 * what each sends on its own crosses the host side of its veth, where a
 * capture sees it, and the host routes a device's packets to the lab only.
 * Route look-ups only: no packet is ever sent outside 198.18.0.0/15.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { CLOUD_NAMES, cloudNet } from '../../fixtures/lab/cloud';
import { deviceNet, labConfig } from '../../fixtures/lab/config';
import { canariesFor } from '../../fixtures/lab/devices';
import { labDevice } from './lab-state';

const cfg = labConfig();
const cloud = cloudNet(cfg);
const CAPTURE_SECONDS = 8;

/** tcpdump on a host-side veth for `seconds`, bounded by a packet count and a kill; resolves with the pcap. */
function capture(iface: string, seconds: number, dir: string): Promise<string> {
  const file = path.join(dir, `${iface}.pcap`);
  return new Promise((resolve, reject) => {
    const p = spawn('tcpdump', ['-i', iface, '-n', '-U', '-s', '0', '-c', '3000', '-Z', 'root', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let stopped = false;
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const stop = setTimeout(() => {
      stopped = true;
      p.kill('SIGINT');
    }, seconds * 1000);
    const hard = setTimeout(() => p.kill('SIGKILL'), (seconds + 5) * 1000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(stop);
      clearTimeout(hard);
      if (code !== 0 && !stopped) reject(new Error(`tcpdump on ${iface} exited ${code}: ${stderr.trim()}`));
      else resolve(file);
    });
  });
}

/** tshark's fields of the frames that match a display filter, one array per frame. */
function frames(pcap: string, filter: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', pcap, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.split('\t'));
}

function deviceFile(name: 'weak' | 'strong' | 'mixed'): { traffic: { interface: string; secrets?: Record<string, string> } } {
  return parse(readFileSync(labDevice(name).deviceFile, 'utf8')) as { traffic: { interface: string; secrets?: Record<string, string> } };
}

describe('the lab devices phone home to the lab cloud', () => {
  let dir: string;
  const pcaps: Record<'weak' | 'strong' | 'mixed', string> = { weak: '', strong: '', mixed: '' };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sb-cloud-'));
    const names = ['weak', 'strong', 'mixed'] as const;
    // Each device's own veth, as its device file names it: the three captures run side by side.
    const files = await Promise.all(names.map((n) => capture(deviceFile(n).traffic.interface, CAPTURE_SECONDS, dir)));
    names.forEach((n, i) => (pcaps[n] = files[i]));
  }, 40_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the device files point the capture at the host side of each device veth', () => {
    for (const n of ['weak', 'strong', 'mixed'] as const) expect(deviceFile(n).traffic.interface).toBe(deviceNet(cfg, n).hostIf);
  });

  it("weak resolves its cloud through the lab DNS and sends the owner's e-mail in clear to weak.cloud.example, with its cloud password", () => {
    const pcap = pcaps.weak;
    expect(frames(pcap, `dns.flags.response == 1 && dns.qry.name == "${CLOUD_NAMES.weak}" && dns.a`, ['ip.src', 'dns.a'])).toContainEqual([
      cloud.dns,
      cloud.services,
    ]);
    const email = canariesFor('weak').email;
    const uploads = frames(pcap, `ip.dst == ${cloud.services} && tcp.dstport == 80 && frame contains "${email}"`, [
      'http.request.method',
      'http.host',
      'http.request.uri',
      'http.authorization',
    ]);
    expect(uploads.length).toBeGreaterThan(0);
    const [method, host, uri, auth] = uploads[0];
    expect([method, host, uri]).toEqual(['POST', CLOUD_NAMES.weak, '/api/upload']);
    const password = deviceFile('weak').traffic.secrets?.['cloud-password'];
    expect(password).toBeTruthy();
    expect(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()).toBe(`cam-w:${password}`);
    // A firmware check over plain HTTP, and the location to a tracker its device file does not declare.
    expect(frames(pcap, `http.request.uri == "/fw/SB-CAM-W/latest.bin"`, ['http.host'])).toContainEqual([CLOUD_NAMES.weak]);
    expect(frames(pcap, `ip.dst == ${cloud.tracker} && frame contains "${canariesFor('weak').location}"`, ['http.host'])).toContainEqual([CLOUD_NAMES.tracker]);
  });

  it('strong publishes over TLS to strong.cloud.example:8883: no canary, password or MQTT in clear', () => {
    const pcap = pcaps.strong;
    expect(frames(pcap, 'tcp.dstport == 8883 && tls.handshake.type == 1', ['tls.handshake.extensions_server_name'])).toContainEqual([CLOUD_NAMES.strong]);
    // TLS 1.2 or later, and the handshake completes: application data flows to the broker.
    const hello = frames(pcap, 'tcp.srcport == 8883 && tls.handshake.type == 2', ['tls.handshake.version', 'tls.handshake.extensions.supported_version']);
    expect(hello.length).toBeGreaterThan(0);
    for (const versions of hello) expect(Math.max(...versions.filter(Boolean).map((v) => Number(v)))).toBeGreaterThanOrEqual(0x0303);
    expect(frames(pcap, 'tcp.dstport == 8883 && tls.app_data', ['frame.number']).length).toBeGreaterThan(0);
    expect(frames(pcap, 'mqtt', ['frame.number'])).toEqual([]);
    const raw = readFileSync(pcap);
    const password = deviceFile('strong').traffic.secrets?.['cloud-password'];
    expect(password).toBeTruthy();
    for (const secret of [password!, canariesFor('strong').email, 'hub/telemetry']) expect(raw.includes(Buffer.from(secret))).toBe(false);
  });

  it('mixed uploads over TLS to mixed.cloud.example:443: the e-mail is not in clear', () => {
    const pcap = pcaps.mixed;
    expect(frames(pcap, 'tcp.dstport == 443 && tls.handshake.type == 1', ['ip.dst', 'tls.handshake.extensions_server_name'])).toContainEqual([
      cloud.services,
      CLOUD_NAMES.mixed,
    ]);
    expect(frames(pcap, 'tcp.dstport == 443 && tls.app_data', ['frame.number']).length).toBeGreaterThan(0);
    expect(readFileSync(pcap).includes(Buffer.from(canariesFor('mixed').email))).toBe(false);
  });

  it('the host routes a lab device only to the lab: anything else is unreachable, and forwarding stays off globally', () => {
    const weak = deviceNet(cfg, 'weak');
    labDevice('weak');
    const lookup = (...args: string[]): string => execFileSync('ip', ['route', 'get', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    // Route look-ups only: nothing is sent.
    expect(() => lookup('8.8.8.8', 'from', weak.address, 'iif', weak.hostIf)).toThrow(/unreachable|No route/);
    expect(() => lookup('8.8.8.8', 'from', cloud.services, 'iif', cloud.hostIf)).toThrow(/unreachable|No route/);
    expect(lookup(cloud.services, 'from', weak.address, 'iif', weak.hostIf)).toContain(`dev ${cloud.hostIf}`);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('0');
    expect(readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').trim()).toBe('0');
    // The device itself has a route to the cloud's /24 and no default route.
    const routes = execFileSync('ip', ['netns', 'exec', weak.ns, 'ip', 'route'], { encoding: 'utf8' });
    expect(routes).toContain(`${cloud.subnet} via ${weak.hostAddress}`);
    expect(routes).not.toMatch(/^default/m);
  });
});
