/**
 * exposure.known-vulnerabilities: version order, what services announce,
 * the feeds (NVD CVE JSON 2.0 plain and gzipped, OSV files, arrays and
 * folders) and the imported reports (Greenbone XML, nuclei JSONL) — every
 * malformed or cut-off one an error naming the file, never an empty feed —
 * then the check on loopback web servers and the CLI's exit 2.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { readFeed, type FeedEntry } from '../probes/vulnerabilities/feeds';
import { readReport } from '../probes/vulnerabilities/imports';
import { identifyProduct } from '../probes/vulnerabilities/products';
import { compareVersions, inRange, tooCoarse, upstream } from '../probes/vulnerabilities/versions';
import { assess, verdicts } from './audit-helpers';
import { starbench } from './helpers/cli';
import { listenOn } from './helpers/servers';
import { nmapPath, parseNmapServices } from '../probes/ports/nmap';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'vulnerabilities');
const NVD = path.join(FIXTURES, 'sample-nvd.json');
const OSV = path.join(FIXTURES, 'osv');
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'sb-vuln-'));

async function entries(file: string): Promise<FeedEntry[]> {
  const out: FeedEntry[] = [];
  await readFeed(file, (e) => out.push(e));
  return out;
}

describe('versions', () => {
  it('orders versions as releases do', () => {
    const ordered = ['1.4.9', '1.4.35', '1.4.69', '1.10.0', '2016.74', '2022.83', '7.7', '7.7p1', '8.0rc1', '8.0', '8.4p1'];
    const byFamily = (v: string): number => (v.startsWith('20') ? 2 : v.startsWith('1.') ? 0 : 1);
    for (let i = 0; i < ordered.length - 1; i++) {
      const [a, b] = [ordered[i], ordered[i + 1]];
      if (byFamily(a) === byFamily(b)) expect({ a, b, older: compareVersions(a, b) < 0 }).toEqual({ a, b, older: true });
    }
    expect(compareVersions('1.4.35', '1.4.35')).toBe(0);
    expect(upstream('1:2022.83-1+deb12u1')).toBe('2022.83');
    expect(upstream('1.4.15-1')).toBe('1.4.15');
  });
  it('ranges: bounds included or excluded, an exact version, never "every version"', () => {
    expect(inRange('1.4.35', { endExcluding: '1.4.36' })).toBe(true);
    expect(inRange('1.4.36', { endExcluding: '1.4.36' })).toBe(false);
    expect(inRange('7.7', { endIncluding: '7.7' })).toBe(true);
    expect(inRange('7.7p1', { endIncluding: '7.7' })).toBe(false);
    expect(inRange('2.0.11', { startIncluding: '2.0.0', endExcluding: '2.0.16' })).toBe(true);
    expect(inRange('1.9.9', { startIncluding: '2.0.0', endExcluding: '2.0.16' })).toBe(false);
    expect(inRange('8.4p1', { exact: '8.4p1' })).toBe(true);
    expect(inRange('1.0', {})).toBe(false);
    // fixed in a distribution revision: the upstream version a banner shows is that version, patched or not
    expect(inRange('2019.78', { endExcluding: '2019.78-2+deb10u1' })).toBe(true);
    expect(inRange('1.36.1', { endExcluding: '1.36.1-r5' })).toBe(true);
    expect(inRange('2019.79', { endExcluding: '2019.78-2+deb10u1' })).toBe(false);
    expect(tooCoarse('2')).toBe(true);
    expect(tooCoarse('2.4')).toBe(false);
  });
});

describe('what services announce', () => {
  it.each([
    ['SSH-2.0-dropbear_2022.83', 'Dropbear SSH', '2022.83'],
    ['SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3', 'OpenSSH', '8.4p1'],
    ['lighttpd/1.4.35', 'lighttpd', '1.4.35'],
    ['nginx/1.18.0 (Ubuntu)', 'nginx', '1.18.0'],
    ['GoAhead-Webs/2.5.0', 'GoAhead', '2.5.0'],
    ['mosquitto version 2.0.11', 'Mosquitto', '2.0.11'],
    ['220 (vsFTPd 2.3.4)', 'vsftpd', '2.3.4'],
  ])('%s → %s %s', (said, product, version) => expect(identifyProduct(said)).toMatchObject({ product: { name: product }, version }));
  it('no version, or a product it does not know: nothing', () => {
    expect(identifyProduct('lighttpd')).toBeUndefined();
    expect(identifyProduct('SSH-2.0-ROSSSH')).toBeUndefined();
    expect(identifyProduct('Server: httpd')).toBeUndefined();
  });
});

describe('feeds', () => {
  it('NVD CVE JSON 2.0: every record, with its CPE ranges and the best CVSS', async () => {
    const all = await entries(NVD);
    expect(all.map((e) => e.id)).toEqual(['CVE-2015-3200', 'CVE-2016-7406', 'CVE-2017-7651', 'CVE-2018-15473', 'CVE-2017-17562']);
    expect(all[0]).toMatchObject({ cvss: { version: '2.0', score: 5 }, affects: [{ cpe: 'lighttpd:lighttpd', range: { endExcluding: '1.4.36' } }] });
    expect(all[3].cvss).toMatchObject({ version: '3.1', score: 5.3 });
  });
  it('a gzipped NVD feed reads the same', async () => {
    const gz = path.join(tmp(), 'nvdcve-2.0-2015.json.gz');
    writeFileSync(gz, gzipSync(readFileSync(NVD)));
    expect((await entries(gz)).length).toBe(5);
  });
  it('a feed cut off half-way, a JSON file that is no feed, a record with no id: errors naming the file, never an empty feed', async () => {
    const dir = tmp();
    const cut = path.join(dir, 'cut.json');
    const text = readFileSync(NVD, 'utf8');
    writeFileSync(cut, text.slice(0, Math.floor(text.length * 0.6)));
    await expect(entries(cut)).rejects.toThrow(new RegExp(`${cut}: is truncated or not valid JSON`));
    const other = path.join(dir, 'other.json');
    writeFileSync(other, '{"hello": "world"}');
    await expect(entries(other)).rejects.toThrow(/is neither an NVD CVE JSON 2.0 feed .* nor OSV records/);
    const noId = path.join(dir, 'noid.json');
    writeFileSync(noId, JSON.stringify({ format: 'NVD_CVE', vulnerabilities: [{ cve: { descriptions: [] } }] }));
    await expect(entries(noId)).rejects.toThrow(/vulnerabilities\[0\] has no cve.id/);
    const gone = path.join(dir, 'missing.json');
    await expect(entries(gone)).rejects.toThrow(/missing.json: no such file or folder/);
    const binary = path.join(dir, 'feed.json');
    writeFileSync(binary, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]));
    await expect(entries(binary)).rejects.toThrow(/is not JSON/);
  });
  it('OSV: a folder of records, an array, ranges from events (introduced/fixed, last_affected), Debian revisions as upstream versions', async () => {
    const folder = await entries(OSV);
    expect(folder).toMatchObject([
      { id: 'DEBIAN-CVE-2017-7651', aliases: ['CVE-2017-7651'], affects: [{ package: 'mosquitto', range: { endExcluding: '1.4.15-1' } }] },
    ]);
    const arr = path.join(tmp(), 'osv.json');
    writeFileSync(
      arr,
      JSON.stringify([
        {
          id: 'OSV-A',
          affected: [
            {
              package: { name: 'lighttpd', ecosystem: 'Alpine:v3.2' },
              ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.4.0' }, { last_affected: '1.4.35' }] }],
            },
          ],
        },
        {
          id: 'OSV-B',
          affected: [{ package: { name: 'x' }, ranges: [{ type: 'GIT', events: [{ introduced: 'abc' }, { fixed: 'def' }] }], versions: ['1.0'] }],
        },
      ]),
    );
    const two = await entries(arr);
    expect(two[0].affects).toEqual([{ package: 'lighttpd', range: { startIncluding: '1.4.0', endIncluding: '1.4.35' } }]);
    expect(two[1].affects).toEqual([{ package: 'x', range: { exact: '1.0' } }]);
    const bad = path.join(tmp(), 'bad.json');
    writeFileSync(bad, JSON.stringify({ schema_version: '1.6.0', affected: [] }));
    await expect(entries(bad)).rejects.toThrow(/an OSV record has no "id"/);
    // hostile records: a null in a list, numbers where text goes — the feed's error, never a crash
    writeFileSync(bad, JSON.stringify({ id: 'X-1', affected: [null] }));
    await expect(entries(bad)).rejects.toThrow(/holds a record that is not what its format says/);
    writeFileSync(
      bad,
      JSON.stringify({
        id: 'X-2',
        summary: 7,
        affected: [{ package: { name: 'p' }, ranges: [{ type: 'SEMVER', events: [{ introduced: 0 }, { fixed: 2 }] }] }],
      }),
    );
    expect((await entries(bad))[0]).toMatchObject({ summary: '7', affects: [{ package: 'p', range: { endExcluding: '2' } }] });
  });
});

const GREENBONE = (host: string, extra = '') => `<?xml version="1.0"?>
<get_reports_response status="200"><report id="r1"><report id="r1"><results>
<result id="a"><host>${host}</host><port>443/tcp</port><threat>Medium</threat><severity>5.0</severity>
<nvt oid="1.3.6.1.4.1.25623.1.0.1"><name>lighttpd mod_auth log injection</name><cvss_base>5.0</cvss_base><refs><ref type="cve" id="CVE-2015-3200"/><ref type="url" id="https://example.com"/></refs></nvt></result>
<result id="b"><host>${host}</host><port>general/tcp</port><threat>Log</threat><severity>0.0</severity><nvt oid="x"><name>OS detection</name></nvt></result>
</results>${extra}<host><ip>${host}</ip></host></report></report></get_reports_response>`;

describe('imported scan reports', () => {
  it('Greenbone: results on the target with their CVEs and CVSS; log results are not findings; other hosts are ignored', () => {
    const f = path.join(tmp(), 'gvm.xml');
    writeFileSync(f, GREENBONE('198.18.1.2'));
    expect(readReport(f, ['198.18.1.2'])).toMatchObject({
      format: 'greenbone-xml',
      results: 2,
      coversTarget: true,
      findings: [{ port: 443, severity: 'medium', cves: ['CVE-2015-3200'], cvss: 5 }],
    });
    expect(readReport(f, ['198.18.9.9'])).toMatchObject({ coversTarget: false, findings: [] });
    // a scan that was stopped does not show the target clean
    writeFileSync(f, GREENBONE('198.18.1.2', '<scan_run_status>Stopped</scan_run_status>'));
    expect(readReport(f, ['198.18.1.2']).coversTarget).toBe(false);
  });
  it('Greenbone: cut-off XML names the line; XML that is no report says so', () => {
    const f = path.join(tmp(), 'gvm.xml');
    writeFileSync(f, GREENBONE('198.18.1.2').slice(0, 400));
    expect(() => readReport(f, ['198.18.1.2'])).toThrow(/gvm.xml: is not well-formed XML at line \d+/);
    writeFileSync(f, '<html><body>login</body></html>');
    expect(() => readReport(f, ['198.18.1.2'])).toThrow(/not a Greenbone\/OpenVAS report/);
  });
  it('nuclei JSONL: matches on the target; a cut-off last line or a line that is no result is named with its line number', () => {
    const f = path.join(tmp(), 'nuclei.jsonl');
    const line = (host: string, sev: string) =>
      JSON.stringify({
        'template-id': 'CVE-2021-36260',
        info: { name: 'Hikvision RCE', severity: sev, classification: { 'cve-id': ['cve-2021-36260'], 'cvss-score': 9.8 } },
        host: `http://${host}`,
        'matched-at': `http://${host}:80/SDK/webLanguage`,
        ip: host,
        port: '80',
      });
    writeFileSync(f, [line('198.18.1.2', 'critical'), line('198.18.7.7', 'critical'), line('198.18.1.2', 'info')].join('\n') + '\n');
    expect(readReport(f, ['198.18.1.2'])).toMatchObject({
      format: 'nuclei-jsonl',
      results: 3,
      coversTarget: false,
      findings: [{ severity: 'critical', port: 80, cves: ['CVE-2021-36260'], cvss: 9.8 }],
    });
    writeFileSync(f, `${line('198.18.1.2', 'high')}\n${line('198.18.1.2', 'high').slice(0, 40)}`);
    expect(() => readReport(f, ['198.18.1.2'])).toThrow(/nuclei.jsonl:2: the last line is cut off/);
    writeFileSync(f, '{"hello":1}\n');
    expect(() => readReport(f, ['198.18.1.2'])).toThrow(/nuclei.jsonl:1: is not a nuclei result/);
    writeFileSync(f, `${line('198.18.1.2', 'high')}\nnull\n`);
    expect(() => readReport(f, ['198.18.1.2'])).toThrow(/nuclei.jsonl:2: is not a nuclei result/);
  });
});

/** A web server on loopback that answers with this Server header (none when undefined). */
async function webServer(server?: string) {
  return listenOn(
    http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html', ...(server ? { Server: server } : {}) }).end('<h1>cam</h1>')),
  );
}
const ID = 'exposure.known-vulnerabilities';
const device = (port: number, vulnerabilities?: DeviceFileInput['vulnerabilities']): DeviceFileInput => ({
  device: { name: 'cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'http' }],
  ...(vulnerabilities ? { vulnerabilities } : {}),
});
async function judged(input: DeviceFileInput) {
  const { report } = await assess(input, [ID]);
  const c = report.checks.find((x) => x.id === ID)!;
  return { verdict: verdicts(report)[ID], rationale: c.rationale, text: `${c.rationale}\n${c.findings.map((f) => `${f.severity}: ${f.message}`).join('\n')}` };
}

describe('exposure.known-vulnerabilities on loopback web servers', () => {
  it('fail: a web server announcing lighttpd/1.4.35, with the CVE, its CVSS and the service', async () => {
    const web = await webServer('lighttpd/1.4.35');
    try {
      const r = await judged(device(web.port, { feeds: [NVD, OSV] }));
      expect(r.verdict).toBe('fail');
      expect(r.text).toMatch(
        new RegExp(`medium: CVE-2015-3200, CVSS 2\\.0 5: lighttpd 1\\.4\\.35 on http ${web.port} \\(feed sample-nvd\\.json: lighttpd:lighttpd < 1\\.4\\.36\\)`),
      );
    } finally {
      await web.close();
    }
  }, 60_000);

  it('pass: a version the feeds do not list, naming what was matched against how many records', async () => {
    const web = await webServer('lighttpd/1.4.69');
    try {
      const r = await judged(device(web.port, { feeds: [NVD, OSV] }));
      expect(r).toMatchObject({
        verdict: 'pass',
        rationale: expect.stringMatching(/lighttpd 1\.4\.69 \(http \d+\) match nothing in 2 feed\(s\) of 6 records/),
      });
    } finally {
      await web.close();
    }
  }, 60_000);

  it('inconclusive: a feed that lists nothing at all for the product cannot clear it; a major version alone is too coarse', async () => {
    const web = await webServer('nginx/1.18.0');
    try {
      expect(await judged(device(web.port, { feeds: [NVD] }))).toMatchObject({
        verdict: 'inconclusive',
        rationale: expect.stringContaining('list nothing at all for nginx'),
      });
    } finally {
      await web.close();
    }
    const coarse = await webServer('lighttpd/1');
    try {
      const r = await judged(device(coarse.port, { feeds: [NVD] }));
      expect(r.verdict).toBe('inconclusive');
      expect(r.text).toMatch(/names only a major version \(1\): too coarse to match/);
    } finally {
      await coarse.close();
    }
  }, 120_000);

  it('inconclusive: no service announces a version (nothing the feed could match)', async () => {
    const web = await webServer();
    try {
      const r = await judged(device(web.port, { feeds: [NVD] }));
      expect(r).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringContaining('no service announced a version') });
    } finally {
      await web.close();
    }
  }, 60_000);

  it('pass on an imported Greenbone report that scanned the target and found nothing; fail on one that found something', async () => {
    const web = await webServer();
    try {
      const dir = tmp();
      const clean = path.join(dir, 'clean.xml');
      writeFileSync(clean, GREENBONE('127.0.0.1').replace(/<result id="a">[\s\S]*?<\/result>/, ''));
      expect((await judged(device(web.port, { reports: [clean] }))).verdict).toBe('pass');
      const found = path.join(dir, 'found.xml');
      writeFileSync(found, GREENBONE('127.0.0.1'));
      const r = await judged(device(web.port, { reports: [found] }));
      expect(r.verdict).toBe('fail');
      expect(r.text).toMatch(/greenbone-xml \(found\.xml\) medium: lighttpd mod_auth log injection — CVE-2015-3200, CVSS 5/);
    } finally {
      await web.close();
    }
  }, 60_000);

  it('not-tested with the reason when no feed or report is given', async () => {
    const web = await webServer('lighttpd/1.4.35');
    try {
      expect(await judged(device(web.port))).toMatchObject({
        verdict: 'not-tested',
        rationale: expect.stringContaining('no vulnerability feed or scan report given'),
      });
    } finally {
      await web.close();
    }
  }, 60_000);
});

describe('nmap -sV for what a service does not say itself', () => {
  it('reads product, version and CPE from nmap XML; a guess ("or later") is no version', () => {
    const xml = `<?xml version="1.0"?><nmaprun><host><ports>
      <port protocol="tcp" portid="80"><state state="open"/><service name="http" product="Apache Tomcat/Coyote JSP engine" version="1.1" method="probed" conf="10"><cpe>cpe:/a:apache:coyote_http_connector:1.1</cpe></service></port>
      <port protocol="tcp" portid="23"><state state="open"/><service name="telnet" product="BusyBox telnetd" version="1.14.0 or later" method="probed" conf="10"><cpe>cpe:/a:busybox:busybox</cpe></service></port>
      <port protocol="tcp" portid="22"><state state="closed"/></port></ports></host></nmaprun>`;
    expect(parseNmapServices(xml)).toEqual([
      { port: 80, name: 'http', product: 'Apache Tomcat/Coyote JSP engine', version: '1.1', cpe: ['cpe:/a:apache:coyote_http_connector:1.1'] },
      { port: 23, name: 'telnet', product: 'BusyBox telnetd', version: '1.14.0 or later', cpe: ['cpe:/a:busybox:busybox'] },
    ]);
  });

  // nmap is a real peer here, installed by .ci/run: without it this test fails.
  it('a Server header starbench does not know, named by nmap -sV, is matched by its CPE (fail), with nmap named as the source', async () => {
    expect(nmapPath()).toBeDefined();
    const web = await webServer('Apache-Coyote/1.1');
    try {
      const feed = path.join(tmp(), 'feed.json');
      const synthetic = JSON.parse(readFileSync(NVD, 'utf8')) as { vulnerabilities: Array<{ cve: Record<string, unknown> }> };
      synthetic.vulnerabilities = [
        {
          cve: {
            id: 'CVE-2000-0001',
            descriptions: [{ lang: 'en', value: 'Synthetic record for this test: Coyote HTTP connector through 1.1.' }],
            metrics: {},
            configurations: [
              {
                nodes: [
                  {
                    operator: 'OR',
                    cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:a:apache:coyote_http_connector:*:*:*:*:*:*:*:*', versionEndIncluding: '1.1' }],
                  },
                ],
              },
            ],
          },
        },
      ];
      writeFileSync(feed, JSON.stringify(synthetic));
      const r = await judged(device(web.port, { feeds: [feed] }));
      expect(r.verdict).toBe('fail');
      expect(r.text).toMatch(/CVE-2000-0001: Apache Tomcat\/Coyote JSP engine 1\.1 on http \d+/);
    } finally {
      await web.close();
    }
  }, 120_000);
});

describe('nmap -sV within its budget', () => {
  // nmap is a real peer here, installed by .ci/run: without it this test fails.
  it('a telnet-like daemon that greets with option negotiation and then says nothing keeps nmap guessing: it stops at scan.versionSeconds, named in the evidence, and the version stays unknown (never a pass)', async () => {
    expect(nmapPath()).toBeDefined();
    const server = net.createServer((sock) => {
      sock.on('error', () => undefined);
      // IAC WILL ECHO, IAC WILL SUPPRESS-GO-AHEAD: nmap soft-matches telnet on this and sends probe after probe.
      sock.write(Buffer.from([255, 251, 1, 255, 251, 3]));
      sock.on('data', () => undefined);
    });
    const telnet = await listenOn(server);
    try {
      const input: DeviceFileInput = {
        device: { name: 'cam' },
        target: { host: '127.0.0.1' },
        scan: { tcp: String(telnet.port), versionSeconds: 2, versionProbeWaitMs: 1000 },
        services: [{ port: telnet.port, protocol: 'telnet' }],
        vulnerabilities: { feeds: [NVD] },
      };
      const { report, results, runDir } = await assess(input, [ID]);
      const version = results.get('known-vulnerabilities')!.observations.find((o) => o.kind === 'service-version')!;
      expect(version.data.how).toMatch(/nmap -sV did not name it within 2 s \(scan\.versionSeconds\)/);
      expect(version.data.version).toBeUndefined();
      expect(version.data.versionCutShort).toBe(2);
      const xml = readFileSync(path.join(runDir, `evidence/known-vulnerabilities-nmap-sv-${telnet.port}.xml`), 'utf8');
      expect(xml).toMatch(/timedout="true"/);
      // nmap ran with its probes paced for the bench, from a data directory of its own.
      expect(xml).toMatch(/-(?:-|&#45;)datadir \S*starbench-nmap-/);
      expect(verdicts(report)[ID]).not.toBe('pass');
    } finally {
      await telnet.close();
    }
  }, 120_000);

  it('beside a service that matches nothing, a port nmap did not finish keeps the check from passing: its version is unknown, not absent', async () => {
    const server = net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.write(Buffer.from([255, 251, 1, 255, 251, 3]));
      sock.on('data', () => undefined);
    });
    const telnet = await listenOn(server);
    const web = await webServer('lighttpd/1.4.69');
    try {
      const input: DeviceFileInput = {
        device: { name: 'cam' },
        target: { host: '127.0.0.1' },
        scan: { tcp: `${telnet.port},${web.port}`, versionSeconds: 2, versionProbeWaitMs: 1000 },
        services: [
          { port: telnet.port, protocol: 'telnet' },
          { port: web.port, protocol: 'http' },
        ],
        vulnerabilities: { feeds: [NVD] },
      };
      const { report } = await assess(input, [ID]);
      const c = report.checks.find((x) => x.id === ID)!;
      expect(c.verdict).toBe('inconclusive');
      expect(c.rationale).toMatch(new RegExp(`nmap -sV was stopped at its budget before it finished on telnet ${telnet.port} \\(2 s\\)`));
    } finally {
      await web.close();
      await telnet.close();
    }
  }, 120_000);
});

describe('the CLI and a broken feed', () => {
  it('a cut-off feed stops the run before it starts: exit 2, the file named, no stack trace', async () => {
    const dir = tmp();
    const cut = path.join(dir, 'nvdcve-2.0-2024.json');
    const text = readFileSync(NVD, 'utf8');
    writeFileSync(cut, text.slice(0, text.length - 200));
    const file = path.join(dir, 'device.yaml');
    writeFileSync(file, stringify({ device: { name: 'cam' }, target: { host: '127.0.0.1' }, services: [{ port: 1, protocol: 'http' }] }));
    const r = await starbench(['run', file, '--vuln-feed', cut, '--out', dir, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${cut}: is truncated or not valid JSON`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // A run that will not match against the feed (--only without the check) does not read it.
    const other = await starbench(['run', file, '--vuln-feed', cut, '--only', 'comms.ssh', '--out', dir, '--quiet']);
    expect(other.code).not.toBe(2);
    expect(other.stderr).not.toContain(cut);
  }, 60_000);
});
