/**
 * audit19live: hostile loopback web servers and feeds against exposure.known-vulnerabilities and
 * device.model-identification. Each test asserts the CORRECT behaviour.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { assess, verdicts } from './audit-helpers';
import { listenOn } from './helpers/servers';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'sb-a19v-'));
const web = (headers: Record<string, string>, body = '<h1>cam</h1>') =>
  listenOn(http.createServer((_q, res) => res.writeHead(200, { 'Content-Type': 'text/html', ...headers }).end(body)));

async function judged(input: DeviceFileInput, id: string) {
  const { report } = await assess(input, [id]);
  const c = report.checks.find((x) => x.id === id)!;
  return { verdict: verdicts(report)[id], text: `${c.verdict}: ${c.rationale}\n${c.findings.map((f) => f.message).join('\n')}` };
}
const VID = 'exposure.known-vulnerabilities';
const vdev = (port: number, feeds: string[]): DeviceFileInput => ({
  device: { name: 'cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port), versionDetection: false },
  services: [{ port, protocol: 'http' }],
  vulnerabilities: { feeds },
});
const osv = (id: string, pkg: string, events: Array<Record<string, string>>) => ({
  schema_version: '1.6.0',
  id,
  modified: '2024-01-01T00:00:00Z',
  summary: id,
  affected: [{ package: { name: pkg, ecosystem: 'Debian' }, ranges: [{ type: 'ECOSYSTEM', events }] }],
});

describe('audit19live: known vulnerabilities', () => {
  it('OSV record still unfixed (events: introduced only) must match lighttpd 1.4.35', async () => {
    // Feed: an old lighttpd bug fixed in 1.4.20 (so the feed "covers" lighttpd), and an open one: introduced 1.4.0,
    // no fixed / last_affected yet (OSV's way of saying "every version since"). Device announces lighttpd/1.4.35.
    const dir = tmp();
    const file = path.join(dir, 'osv.json');
    writeFileSync(
      file,
      JSON.stringify([osv('OSV-OLD-1', 'lighttpd', [{ introduced: '0' }, { fixed: '1.4.20' }]), osv('OSV-OPEN-2', 'lighttpd', [{ introduced: '1.4.0' }])]),
    );
    const d = await web({ Server: 'lighttpd/1.4.35' });
    try {
      const r = await judged(vdev(d.port, [file]), VID);
      expect(r.verdict).toBe('fail');
    } finally {
      await d.close();
    }
  }, 60_000);

  it('control: an NVD range that starts above the device version does not match (pass is right)', async () => {
    const dir = tmp();
    const file = path.join(dir, 'nvd.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'NVD_CVE',
        vulnerabilities: [
          {
            cve: {
              id: 'CVE-2099-0001',
              configurations: [
                {
                  nodes: [
                    {
                      cpeMatch: [
                        {
                          vulnerable: true,
                          criteria: 'cpe:2.3:a:lighttpd:lighttpd:*:*:*:*:*:*:*:*',
                          versionStartIncluding: '1.4.50',
                          versionEndExcluding: '1.4.60',
                        },
                      ],
                    },
                  ],
                },
              ],
            },
          },
        ],
      }),
    );
    const d = await web({ Server: 'lighttpd/1.4.35' });
    try {
      const r = await judged(vdev(d.port, [file]), VID);
      expect(r.verdict).toBe('pass');
    } finally {
      await d.close();
    }
  }, 60_000);
});

const IID = 'device.model-identification';
const idev = (port: number): DeviceFileInput => ({
  device: { name: 'cam', model: 'SB-CAM-X', firmware: '4.0.1' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port), udp: '1' },
  services: [{ port, protocol: 'http' }],
});

describe('audit19live: model identification', () => {
  it('a page naming a different model whose name starts with the declared one ("SB-CAM-X-Pro") is not the model', async () => {
    // Device: declared SB-CAM-X, but the UI shows "Model: SB-CAM-X-Pro" (another product of the line).
    const d = await web({}, '<h1>IP Camera</h1><p>Model: SB-CAM-X-Pro</p>');
    try {
      const r = await judged(idev(d.port), IID);
      expect(r.verdict).not.toBe('pass');
    } finally {
      await d.close();
    }
  }, 60_000);
});
