/**
 * `starbench init` against the demo device, end to end through the real CLI:
 * the draft validates, declares what the device runs and the logins it
 * shows, `run` refuses it while a TODO is left, and once every TODO is filled
 * with the demo's own declaration it gives the same verdicts as the demo's
 * device file (each run on a fresh demo device: a run installs and resets).
 */
import { checksForProfile } from '../harness/judge';
import { DEFAULT_PROFILE, loadProfile } from '../harness/profile';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { parseDeviceFile } from '../harness/device-file/load';
import type { DeviceFileInput } from '../harness/device-file/schema';
import type { Report } from '../harness/report';
import { startDemoDevice, type DemoDevice } from '../fixtures/demo-device';
import { starbench } from './helpers/cli';

const demos: DemoDevice[] = [];
afterAll(async () => {
  await Promise.all(demos.map((d) => d.stop()));
});

async function demo(): Promise<{ d: DemoDevice; dir: string; file: string }> {
  const d = await startDemoDevice();
  demos.push(d);
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-init-'));
  return { d, dir, file: d.writeDeviceFile(dir) };
}

function verdicts(out: string): Record<string, string> {
  const runDir = readdirSync(out, { withFileTypes: true }).find((e) => e.isDirectory() && e.name !== 'demo-images');
  if (!runDir) throw new Error(`no run folder in ${out}`);
  const report = JSON.parse(readFileSync(path.join(out, runDir.name, 'report.json'), 'utf8')) as Report;
  return Object.fromEntries(report.checks.map((c) => [c.id, c.verdict]));
}

const isTodoText = (v: unknown): boolean => typeof v === 'string' && v.startsWith('TODO');

/** Replace every TODO value of the draft with what the demo's own device file declares (or drop it where the demo declares nothing). */
function fill(doc: Document, demoFile: DeviceFileInput): void {
  const set = (p: Array<string | number>, value: unknown): void => {
    if (value === undefined) doc.deleteIn(p);
    else doc.setIn(p, doc.createNode(value));
  };
  for (const k of ['name', 'model', 'firmware', 'vendor'] as const) set(['device', k], demoFile.device[k]);
  // services: the maker documents some of what init saw; the rest is dropped from the declaration
  const services = doc.getIn(['services']);
  if (isSeq(services)) {
    for (let i = services.items.length - 1; i >= 0; i--) {
      const port = Number((services.items[i] as YAMLMap).get('port'));
      const declared = demoFile.services?.find((s) => s.port === port);
      if (declared) set(['services', i, 'description'], declared.description);
      else services.items.splice(i, 1);
    }
  }
  set(['credentials'], demoFile.credentials);
  const auth = doc.getIn(['auth']);
  if (isSeq(auth)) {
    auth.items.forEach((item, i) => {
      const m = item as YAMLMap;
      const declared = demoFile.auth?.find((a) => a.port === Number(m.get('port')));
      if (isTodoText(m.get('credential'))) set(['auth', i, 'credential'], declared?.credential);
    });
  }
  set(['update', 'version'], demoFile.update?.version);
  set(['update', 'install'], demoFile.update?.install);
  set(['update', 'images', 'genuine'], demoFile.update?.images?.genuine);
  set(['update', 'images', 'older'], demoFile.update?.images?.older);
  set(['reset'], demoFile.reset);
  set(['personalData'], demoFile.personalData);
  // the lab's vulnerability feed is the lab's, not something init can see on the device
  set(['vulnerabilities'], demoFile.vulnerabilities);
  for (const k of ['vulnerabilityDisclosure', 'supportPeriodEnd', 'privacyNotice'] as const) set(['documentation', k], demoFile.documentation?.[k]);
}

function todosLeft(node: unknown): number {
  if (isScalar(node)) return isTodoText(node.value) ? 1 : 0;
  if (isMap(node)) return node.items.reduce((n, p) => n + todosLeft(p.value), 0);
  if (isSeq(node)) return node.items.reduce((n: number, x) => n + todosLeft(x), 0);
  return 0;
}

describe('starbench init (end to end, demo device)', () => {
  let reference: Record<string, string>;
  let draftText: string;
  let draftFile: string;
  let initStderr: string;
  let target: { d: DemoDevice; dir: string; file: string };

  beforeAll(async () => {
    const ref = await demo();
    target = await demo();
    const refRun = await starbench(['run', ref.file, '--out', ref.dir, '--quiet', '--non-interactive'], { timeoutMs: 90_000 });
    expect(refRun.code).toBe(1);
    reference = verdicts(ref.dir);
    // the reference is the demo's full picture: every check of its catalog (JC-STAR ★1 maps every stable check but the
    // two only EN 18031 maps), some failing on purpose
    expect(Object.keys(reference)).toHaveLength(checksForProfile(loadProfile(DEFAULT_PROFILE)).length);
    expect(Object.values(reference)).toContain('fail');
    const scan = target.d.deviceFile.scan!;
    draftFile = path.join(target.dir, 'draft.yaml');
    const init = await starbench(['init', '127.0.0.1', '--ports', scan.tcp!, '--udp-ports', scan.udp!, '--out', draftFile], { timeoutMs: 60_000 });
    initStderr = init.stderr;
    expect({ code: init.code, stdout: init.stdout }).toEqual({ code: 0, stdout: expect.stringContaining(`draft: ${draftFile}`) });
    draftText = readFileSync(draftFile, 'utf8');
  }, 180_000);

  it('declares every service the demo runs, the undeclared shell included, each with what was seen', () => {
    const draft = parseDeviceFile(draftText, draftFile, undefined, { allowTodo: true });
    const p = target.d.ports;
    expect(draft.services.map((s) => [s.port, s.protocol])).toEqual([
      [p.ssh, 'ssh'],
      [p.http, 'http'],
      [p.https, 'https'],
      [p.mqtt, 'mqtt'],
      [p.debugShell, 'other'],
    ]);
    expect(draftText).toMatch(/# seen: banner "SSH-2\.0-DemoCam_1\.0"; SSH methods: password/);
    expect(draftText).toMatch(new RegExp(`Seen: port ${p.debugShell} gives a shell prompt with no login`));
    expect(draftText).toMatch(new RegExp(`Seen: port ${p.mqtt}: the MQTT broker accepts anonymous clients`));
    expect(initStderr).toContain(`tcp/${p.http} http`);
  });

  it('declares the logins it saw: SSH password, Basic realm on the admin page over HTTP and HTTPS', () => {
    const draft = parseDeviceFile(draftText, draftFile, undefined, { allowTodo: true });
    const p = target.d.ports;
    expect(draft.auth.map((a) => [a.port, a.scheme, a.path])).toEqual([
      [p.ssh, 'password', undefined],
      [p.http, 'basic', '/cgi-bin/admin'],
      [p.https, 'basic', '/cgi-bin/admin'],
    ]);
    expect(draftText).toContain('basic realm "Demo Camera"');
  });

  it('starbench run refuses the draft, naming each TODO with file:line, and assumes nothing', async () => {
    const r = await starbench(['run', draftFile, '--out', target.dir, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`${draftFile.replace(/[.]/g, '\\.')}:\\d+: credentials\\.admin\\.password is still a placeholder: TODO: the lab account's password`),
    );
    expect(r.stderr).toMatch(/device\.name is still a placeholder/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(target.dir).filter((f) => f.startsWith('starbench-'))).toEqual([]);
  });

  it("filled with the demo's own values, gives the same verdicts as the demo's device file", async () => {
    const doc = parseDocument(draftText);
    fill(doc, target.d.deviceFile);
    expect(todosLeft(doc.contents)).toBe(0);
    const filled = path.join(target.dir, 'filled.yaml');
    writeFileSync(filled, doc.toString());
    const out = mkdtempSync(path.join(tmpdir(), 'sb-init-run-'));
    const r = await starbench(['run', filled, '--out', out, '--quiet', '--non-interactive'], { timeoutMs: 120_000 });
    expect(r.stderr).not.toMatch(/placeholder/);
    expect(verdicts(out)).toEqual(reference);
    expect(r.code).toBe(1);
  }, 150_000);

  it('refuses to overwrite a file, a bad port list and a second host, with exit 2', async () => {
    expect((await starbench(['init', '127.0.0.1', '--out', draftFile])).stderr).toMatch(/exists; choose another --out or pass --force/);
    expect((await starbench(['init', '127.0.0.1', '--ports', '70000', '--out', path.join(target.dir, 'x.yaml')])).code).toBe(2);
    expect((await starbench(['init', '127.0.0.1', '127.0.0.2'])).code).toBe(2);
  });
});
