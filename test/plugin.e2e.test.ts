/**
 * A lab's own probe, check and catalog from outside the tree: a plugin module
 * and a catalog file in a temp folder, loaded with --plugin and --profile,
 * registered and validated the way the built-ins are; the saved run is
 * re-judged with the same plugin; a broken plugin is a clear exit 2.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Report } from '../harness/report';
import { starbench } from './helpers/cli';

/** A probe that reads a device's banner (one bounded connect through the connector) and a check that wants "SAFE" in it. */
const PLUGIN = `
exports.register = ({ addProbe, addCheck, defineFact, basis, factsOf, gate, z }) => {
  const Banner = defineFact('lab-banner', z.object({ port: z.number().int(), text: z.string() }), (b) => (b.text === '' ? 'port ' + b.port + ' said nothing' : null));
  addProbe({
    id: 'lab.banner',
    title: 'Our lab banner grab',
    needs: ['host'],
    facts: [Banner],
    async run(ctx) {
      const port = ctx.device.services[0].port;
      const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
      const text = await new Promise((resolve) => {
        let got = '';
        const done = () => { clearTimeout(t); sock.destroy(); resolve(got.trim()); };
        const t = setTimeout(done, 1500);
        sock.on('data', (c) => { got += c; if (got.includes('\\n')) done(); });
        sock.on('error', done);
        sock.on('close', done);
      });
      return { observations: [{ kind: 'lab-banner', port, summary: 'banner: ' + text, data: { port, text } }] };
    },
  });
  addCheck({
    id: 'lab.banner-safe',
    title: 'The banner says SAFE',
    failsWhen: 'the banner does not say SAFE',
    probes: ['lab.banner'],
    implemented: true,
    judge(input) {
      const g = gate(input, 'lab.banner');
      if (!g.ok) return g.judgement;
      const b = factsOf(g.result, Banner)[0];
      if (b && b.text.includes('SAFE')) return { verdict: 'pass', rationale: 'the banner says SAFE', findings: [], basis: basis(['lab.banner', Banner]) };
      return { verdict: 'fail', rationale: 'no SAFE in the banner', findings: [] };
    },
  });
};
`;

const CATALOG = {
  id: 'our-lab',
  title: 'Our lab catalog',
  scheme: 'in-house',
  requirements: [
    { id: 'OUR-1', title: { en: 'Banner says SAFE' }, level: 'mandatory', assessedBy: 'device', checks: ['lab.banner-safe'], confidence: 'confirmed' },
  ],
};

describe('plugins and catalog files from outside the tree', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-plugin-'));
  let server: net.Server;
  let port: number;

  beforeAll(async () => {
    server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end('hello SAFE device\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    writeFileSync(path.join(dir, 'plugin.js'), PLUGIN);
    writeFileSync(path.join(dir, 'catalog.yaml'), stringify(CATALOG));
    writeFileSync(
      path.join(dir, 'device.yaml'),
      stringify({ device: { name: 'plugin device' }, target: { host: '127.0.0.1' }, services: [{ port, protocol: 'other' }] }),
    );
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('runs the plugin probe and check under the catalog file, cites the basis, and re-judges the saved run with the plugin', async () => {
    const out = path.join(dir, 'runs');
    const r = await starbench([
      'run',
      path.join(dir, 'device.yaml'),
      '--plugin',
      path.join(dir, 'plugin.js'),
      '--profile',
      path.join(dir, 'catalog.yaml'),
      '--out',
      out,
      '--quiet',
      '--format',
      'json',
    ]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const runDir = path.join(out, readdirSync(out)[0]);
    const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as Report;
    expect(report.profile.id).toBe('our-lab');
    expect(report.checks).toEqual([expect.objectContaining({ id: 'lab.banner-safe', verdict: 'pass', basis: [{ probe: 'lab.banner', kind: 'lab-banner' }] })]);
    expect(report.observations['lab.banner'].observations[0].data).toEqual({ port, text: 'hello SAFE device' });

    const again = path.join(dir, 'rejudged');
    const rj = await starbench(['report', runDir, '--plugin', path.join(dir, 'plugin.js'), '--format', 'json', '--out', again, '--quiet']);
    expect(rj.code).toBe(0);
    expect((JSON.parse(readFileSync(path.join(again, 'report.json'), 'utf8')) as Report).checks[0].verdict).toBe('pass');

    // Without the plugin the catalog names a check nobody has: an error, never a pass.
    const bare = await starbench(['report', runDir, '--format', 'json', '--out', path.join(dir, 'bare'), '--quiet']);
    expect((JSON.parse(readFileSync(path.join(dir, 'bare', 'report.json'), 'utf8')) as Report).checks[0].verdict).toBe('error');
    expect(bare.code).toBe(3);
  });

  it.each([
    [
      'a probe without declared facts',
      "exports.register = ({ addProbe }) => addProbe({ id: 'x.p', title: 'p', needs: [], run: async () => ({ observations: [] }) });",
      /probe x\.p: facts .*must declare at least one fact kind/,
    ],
    [
      'a check reading a probe nobody registers',
      "exports.register = ({ addCheck }) => addCheck({ id: 'x.c', title: 'c', failsWhen: '', probes: ['nobody'], implemented: true, judge: () => ({ verdict: 'fail', rationale: '', findings: [] }) });",
      /check x\.c reads probe "nobody", which no built-in or plugin registers/,
    ],
    [
      'an id a built-in already has',
      "exports.register = ({ addCheck }) => addCheck({ id: 'comms.tls', title: 'c', failsWhen: '', probes: ['tls'], implemented: true, judge: () => ({ verdict: 'pass', rationale: '', findings: [] }) });",
      /check id "comms\.tls" is already registered by built-in/,
    ],
    ['no register function', 'exports.nothing = 1;', /exports no register\(api\) function/],
    ['a syntax error', 'exports.register = (', /could not be loaded/],
  ])('refuses %s with exit 2 and one clear line', async (_what, text, message) => {
    const file = path.join(dir, `bad-${Math.random().toString(16).slice(2)}.js`);
    writeFileSync(file, text);
    const r = await starbench(['run', path.join(dir, 'device.yaml'), '--plugin', file, '--out', path.join(dir, 'never'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  // The compiled build (dist/) has no tsx loaded until a TypeScript plugin asks for it; the sources run under tsx already.
  it.each([
    ['the compiled build when it is fresh', {}],
    ['the sources through tsx', { STARBENCH_FROM_SOURCES: '1' }],
  ])('a TypeScript plugin (type annotations and all) loads from %s', async (_how, env) => {
    const ts = path.join(dir, 'typed-plugin.ts');
    writeFileSync(
      ts,
      [
        "import type { PluginApi } from '" + path.resolve(__dirname, '..', 'cli', 'plugins') + "';",
        'interface Named { id: string }',
        "const ids: Named[] = [{ id: 'typed.c' }];",
        'export function register({ addCheck }: PluginApi): void {',
        "  for (const n of ids) addCheck({ id: n.id, title: 'typed', failsWhen: 'never', probes: ['tcp-ports'], implemented: true, judge: () => ({ verdict: 'fail' as const, rationale: 'typed', findings: [] }) });",
        '}',
      ].join('\n'),
    );
    const r = await starbench(['list', 'checks', '--plugin', ts], { env });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('typed.c');
  });

  it('a catalog file that does not validate is exit 2 naming the field', async () => {
    const bad = path.join(dir, 'bad-catalog.yaml');
    writeFileSync(bad, stringify({ ...CATALOG, requirements: [{ id: 'X' }] }));
    const r = await starbench(['run', path.join(dir, 'device.yaml'), '--profile', bad, '--out', path.join(dir, 'never'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-catalog\.yaml: requirements\[0\]\.title/);
  });
});
