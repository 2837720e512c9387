import net from 'node:net';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { identifyBanner } from '../probes/util/banner';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { listenOn, type Running } from './helpers/servers';

const saying = (text: Buffer | string) =>
  listenOn(
    net.createServer((s) => {
      s.on('error', () => undefined);
      s.write(text);
    }),
  );

async function closedPort(): Promise<number> {
  const r = await listenOn(net.createServer());
  await r.close();
  return r.port;
}

describe('banner identification', () => {
  it.each([
    ['SSH-2.0-dropbear_2022.83\r\n', 'ssh'],
    [Buffer.from([0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20]), 'telnet'],
    ['220 ProFTPD Server ready\r\n', 'ftp'],
    ['\r\nBusyBox v1.36.1 built-in shell (ash)\r\n# ', 'shell'],
    ['cam login: ', 'telnet'],
    ['\x00\x01garbage', 'unknown'],
  ])('%j is %s', (banner, service) => {
    expect(identifyBanner(Buffer.from(banner))?.service).toBe(service);
  });
  it('silence identifies nothing', () => expect(identifyBanner(Buffer.alloc(0))).toBeUndefined());
});

describe('tcp-ports probe and exposure.undeclared-services', () => {
  const servers: Running[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function assess(declared: number[], scan: number[]) {
    const d = deviceFrom({
      device: { name: 'scan test' },
      target: { host: '127.0.0.1' },
      services: declared.map((port) => ({ port, protocol: 'other' as const })),
      scan: { tcp: scan.join(','), udp: String(scan[0]) },
    });
    return runWith({
      device: d,
      profile: profileOf([{ id: 'R', checks: ['exposure.undeclared-services'] }]),
      probes: [...PROBES.values()],
      checks: [...CHECKS.values()],
    });
  }

  it('fails on an undeclared shell and says how it was identified', async () => {
    const ssh = await saying('SSH-2.0-dropbear_2022.83\r\n');
    const shell = await saying('BusyBox v1.36.1 built-in shell (ash)\n# ');
    servers.push(ssh, shell);
    const { report } = await assess([ssh.port], [ssh.port, shell.port]);
    const c = report.checks[0];
    expect(c.verdict).toBe('fail');
    expect(c.findings[0]).toMatchObject({ severity: 'high', port: shell.port, protocol: 'shell' });
    expect(c.findings[0].message).toMatch(/not declared — identified as shell by shell prompt with no login/);
  });

  it('passes when every open port is declared, naming the scope it covered', async () => {
    const ssh = await saying('SSH-2.0-dropbear_2022.83\r\n');
    servers.push(ssh);
    const closed = await closedPort();
    const { report } = await assess([ssh.port], [ssh.port, closed]);
    expect(report.checks[0].verdict).toBe('pass');
    expect(report.checks[0].rationale).toMatch(/every reachable service is declared; 2 TCP ports \(.*\) and 1 UDP ports/);
  });

  it('is inconclusive when no declared service answers', async () => {
    const a = await closedPort();
    const b = await closedPort();
    const { report } = await assess([a], [a, b]);
    expect(report.checks[0].verdict).toBe('inconclusive');
    expect(report.checks[0].rationale).toMatch(/none of the 1 declared TCP services answered/);
  });
});
