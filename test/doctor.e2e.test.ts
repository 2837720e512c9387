/** `starbench doctor`: one line per fact, exit 0/1, against a device that answers and one that does not. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { starbench } from './helpers/cli';

function deviceFile(dir: string, name: string, body: object): string {
  const f = path.join(dir, `${name}.yaml`);
  writeFileSync(f, stringify(body));
  return f;
}

describe('starbench doctor', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-doctor-'));
  let server: net.Server;
  let open: number;
  let closed: number;

  beforeAll(async () => {
    server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end('SSH-2.0-x\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open = (server.address() as net.AddressInfo).port;
    const spare = net.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    closed = (spare.address() as net.AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('names node, nmap, root and the bench tools, one line each, marked ok / -- / no', async () => {
    const r = await starbench(['doctor']);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ok {2}node v\d+\.\d+\.\d+ \(starbench needs 20 or newer\)$/);
    expect(lines.some((l) => /^(ok {2}nmap .*nmap -sT|-- {2}nmap not found: the built-in connect scanner)/.test(l))).toBe(true);
    expect(lines.some((l) => /^(ok|--) {2}(root|not root):/.test(l))).toBe(true);
    for (const l of lines) expect(l).toMatch(/^(ok |-- |no ) \S/);
    expect(r.stderr).toBe('');
  });

  // CI installs with `npm ci`, which builds dist/: every CLI test there runs the build a user runs.
  it('runs the compiled build exactly when it is newer than its sources (always after npm ci), else the sources', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { distStale } = require('../bin/dist.js') as { distStale(): string | null };
    const fresh = distStale() === null;
    if (process.env.CI) expect({ ci: true, stale: distStale() }).toEqual({ ci: true, stale: null });
    const lines = (await starbench(['doctor'])).stdout.split('\n');
    expect(lines[1]).toMatch(fresh ? /^ok {2}running the compiled build \(dist\// : /^-- {2}running the TypeScript sources through tsx/);
    const sources = (await starbench(['doctor'], { env: { STARBENCH_FROM_SOURCES: '1' } })).stdout.split('\n');
    expect(sources[1]).toMatch(/^-- {2}running the TypeScript sources through tsx/);
  });

  it('a device file whose target answers: exit 0 and the ports that answered', async () => {
    const f = deviceFile(dir, 'up', { device: { name: 'up' }, target: { host: '127.0.0.1' }, services: [{ port: open, protocol: 'ssh' }] });
    const r = await starbench(['doctor', f]);
    expect(r.stdout).toContain(`ok  target 127.0.0.1: 1 of 1 declared TCP ports answer (${open})`);
    expect(r.stdout).toContain(`ok  device file ${f}: valid`);
    expect(r.code).toBe(0);
  });

  it('a target that refuses every declared port, a missing UART and TODOs left: exit 1, each said', async () => {
    const f = deviceFile(dir, 'down', {
      device: { name: 'TODO: the name' },
      target: { host: '127.0.0.1', serial: { path: '/dev/ttyUSB-starbench-none' } },
      services: [{ port: closed, protocol: 'http' }],
    });
    const r = await starbench(['doctor', f]);
    expect(r.stdout).toContain(`no  target 127.0.0.1: up (it refused connections on ${closed}), but none of 1 declared TCP ports is open`);
    expect(r.stdout).toContain('no  serial /dev/ttyUSB-starbench-none: no such device');
    expect(r.stdout).toMatch(/no {2}device file .*down\.yaml: 1 TODO value\(s\) left/);
    expect(r.code).toBe(1);
  });

  it('a device file outside the scope rule or broken is a fact, not a stack trace', async () => {
    const f = path.join(dir, 'broken.yaml');
    writeFileSync(f, 'device: [\n');
    const r = await starbench(['doctor', f]);
    expect(r.stdout).toMatch(/no {2}device file: .*broken\.yaml:\d+: not valid YAML/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(1);
  });
});
