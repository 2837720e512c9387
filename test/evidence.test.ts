/**
 * What a lab files and a surveillance officer compares: HTML in both
 * languages, Markdown, label data, signed bundles that name every changed
 * file, and the diff between a certified run and a later one. Built from
 * saved runs of the reference lab (fixtures/runs), no device needed.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import type { Report } from '../harness/report';
import { bundleRun, MANIFEST, SIGNATURE, signRun, verifyBundle, verifyRunDir, type Manifest } from '../reports/bundle';
import { findingKey, type RunDiff } from '../reports/diff';
import { LANGS, MESSAGES } from '../reports/i18n';
import { mdCell } from '../reports/markdown';
import { starbench } from './helpers/cli';

const RUNS = path.resolve(__dirname, '..', 'fixtures', 'runs');
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'sb-ev-'));
const readReport = (dir: string): Report => JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;

/** A run folder with every report file, judged from a saved lab run. */
async function runFolder(name: string, extra: string[] = []): Promise<string> {
  const dir = path.join(tmp(), `run-${name}`);
  cpSync(path.join(RUNS, name), dir, { recursive: true });
  const r = await starbench(['report', dir, '--format', 'html,json,junit,md,checklist-csv', '--quiet', ...extra]);
  expect(r.stderr).toBe('');
  return dir;
}

const keys = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};
const pem = (k: { export(o: object): string | Buffer }, type: string): string => k.export({ type, format: 'pem' }) as string;

describe('report.html in English and Japanese', () => {
  it('both languages have every label; the Japanese page is Japanese, the English page English', async () => {
    expect(Object.keys(MESSAGES.ja).sort()).toEqual(Object.keys(MESSAGES.en).sort());
    for (const lang of LANGS) {
      const dir = await runFolder('lab-weak', ['--lang', lang]);
      const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
      const report = readReport(dir);
      expect(html).toContain(`<html lang="${lang}">`);
      for (const r of report.requirements) expect(html).toContain(`<code>${r.id}</code>`);
      expect(html).not.toMatch(/<script|<link|src="http|href="http/);
      if (lang === 'ja') {
        for (const word of ['総合判定', '要求事項', '不適合', '未試験', '修正方法', 'ラベル情報', '実行の範囲']) expect(html).toContain(word);
        expect(html).not.toContain('Overall verdict');
        expect(html).toContain('IPを介した他の機器');
      } else {
        expect(html).toContain('Overall verdict');
        expect(html).not.toContain('総合判定');
      }
    }
  });

  it('shows the observed firmware and the label block with the digest of report.json', async () => {
    const dir = await runFolder('lab-mixed');
    const report = readReport(dir);
    expect(report.device.firmware).toEqual({ declared: '1.4.0', observed: '1.4.0' });
    const label = JSON.parse(readFileSync(path.join(dir, 'label.json'), 'utf8')) as Record<string, string>;
    expect(label).toMatchObject({ model: 'SB-PLUG-M', evaluatedFirmware: '1.4.0', scheme: 'JC-STAR', profile: 'jc-star-1', verdict: 'fail' });
    expect(label.reportDigest).toBe(
      `sha256:${createHash('sha256')
        .update(readFileSync(path.join(dir, 'report.json')))
        .digest('hex')}`,
    );
    expect(readFileSync(path.join(dir, 'label.svg'), 'utf8')).toMatch(/^<svg[^>]*viewBox/);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain(label.reportDigest);
  });
});

describe('report.md', () => {
  it('one row per requirement, failures with fixes, table cells escaped', async () => {
    const dir = await runFolder('lab-weak');
    const md = readFileSync(path.join(dir, 'report.md'), 'utf8');
    const report = readReport(dir);
    for (const r of report.requirements) expect(md).toContain(`| \`${r.id}\` |`);
    expect(md).toMatch(/### What to fix/);
    expect(md).toContain('**`auth.default-credentials`** ❌ fail');
    expect(mdCell('a|b\nc <script>')).toBe('a\\|b c &lt;script&gt;');
  });
});

describe('signing, bundles and verification', () => {
  it('an untouched signed bundle verifies; one changed byte in any file fails and names that file', async () => {
    const dir = await runFolder('lab-strong');
    // A credential change that could not be undone leaves secrets.json: never signed, never bundled.
    writeFileSync(path.join(dir, 'secrets.json'), '{"new":"SbNeverBundled123-45"}', { mode: 0o600 });
    signRun(dir, pem(keys.rsa.privateKey, 'pkcs8'));
    const { file } = await bundleRun(dir);
    const listed: string[] = [];
    await tar.t({ file, onReadEntry: (e) => listed.push(e.path) });
    expect(listed.some((p) => p.endsWith('/report.json'))).toBe(true);
    expect(listed.some((p) => p.endsWith('secrets.json'))).toBe(false);
    const clean = await verifyBundle(file, pem(keys.rsa.publicKey, 'spki'));
    expect(clean).toMatchObject({ ok: true, signed: true, pinned: true, algorithm: 'RSASSA-PSS-SHA256' });
    const cli = await starbench(['verify', file]);
    expect(cli.code).toBe(0);

    const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
    const every = [...manifest.files.map((f) => f.path), MANIFEST, SIGNATURE];
    expect(every).toEqual(expect.arrayContaining(['report.json', 'report.html', 'journal.jsonl', 'junit.xml', 'label.json', 'evidence/update-steps.json']));
    for (const victim of every) {
      const work = tmp();
      await tar.x({ file, cwd: work });
      const root = path.join(work, path.basename(dir));
      const p = path.join(root, victim);
      const bytes = readFileSync(p);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      writeFileSync(p, bytes);
      const tampered = path.join(work, 'tampered.tar.gz');
      await tar.c({ gzip: true, file: tampered, cwd: work, portable: true }, [path.basename(dir)]);
      const r = await verifyBundle(tampered);
      expect({ victim, ok: r.ok, named: r.problems.map((x) => x.file).includes(victim) }).toEqual({ victim, ok: false, named: true });
    }
    // and the CLI says so, with exit 1
    const work = tmp();
    await tar.x({ file, cwd: work });
    writeFileSync(
      path.join(work, path.basename(dir), 'junit.xml'),
      readFileSync(path.join(work, path.basename(dir), 'junit.xml'), 'utf8').replace('<testsuites', '<testsuitez'),
    );
    const bad = await starbench(['verify', path.join(work, path.basename(dir))]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('CHANGED junit.xml: changed (SHA-256 differs from the manifest)');
  });

  it('the RSA-PSS signature checks out with openssl, not only with our own verifier', async () => {
    const dir = await runFolder('lab-weak');
    const sig = signRun(dir, pem(keys.rsa.privateKey, 'pkcs8'));
    const work = tmp();
    writeFileSync(path.join(work, 'sig.bin'), Buffer.from(sig.signature, 'base64'));
    writeFileSync(path.join(work, 'pub.pem'), sig.publicKey);
    const out = execFileSync(
      'openssl',
      [
        'dgst',
        '-sha256',
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sigopt',
        'rsa_pss_saltlen:32',
        '-sigopt',
        'rsa_mgf1_md:sha256',
        '-verify',
        path.join(work, 'pub.pem'),
        '-signature',
        path.join(work, 'sig.bin'),
        path.join(dir, MANIFEST),
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('Verified OK');
  });

  it('ECDSA keys sign too; another key given to verify is refused; an added file and an unsigned folder are reported', async () => {
    const dir = await runFolder('lab-mixed');
    signRun(dir, pem(keys.ec.privateKey, 'pkcs8'));
    expect(verifyRunDir(dir, pem(keys.ec.publicKey, 'spki'))).toMatchObject({ ok: true, algorithm: 'ECDSA-SHA256', pinned: true });
    expect(verifyRunDir(dir, pem(keys.rsa.publicKey, 'spki')).problems).toEqual([
      { file: SIGNATURE, problem: 'signed with a different key than the one given with --key' },
    ]);
    writeFileSync(path.join(dir, 'evidence', 'extra.txt'), 'slipped in');
    expect(verifyRunDir(dir).problems).toEqual([{ file: 'evidence/extra.txt', problem: 'not in the manifest (added after it was written)' }]);
    await expect(bundleRun(dir)).rejects.toThrow(/changed since it was signed: evidence\/extra.txt/);

    const unsigned = await runFolder('lab-weak');
    const { file } = await bundleRun(unsigned);
    const r = await starbench(['verify', file]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/files match the manifest, but it is not signed/);
  });

  it('a file that is not a bundle, or a key that is not a key, is a clear error (exit 2)', async () => {
    const work = tmp();
    writeFileSync(path.join(work, 'junk.tar.gz'), 'not a tarball');
    const r = await starbench(['verify', path.join(work, 'junk.tar.gz')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read .*junk\.tar\.gz as a starbench bundle/);
    writeFileSync(path.join(work, 'key.pem'), 'nope');
    const dir = await runFolder('lab-weak');
    const s = await starbench(['sign', dir, '--key', path.join(work, 'key.pem')]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/cannot read the signing key/);
    expect(s.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('surveillance diff', () => {
  it('strong (certified) vs mixed (bought later): the added telnet port, every changed verdict, exit 1', async () => {
    const out = tmp();
    const strong = await runFolder('lab-strong');
    const mixed = await runFolder('lab-mixed');
    const r = await starbench(['diff', strong, mixed, '--out', out]);
    expect(r.code).toBe(1);
    const d = JSON.parse(readFileSync(path.join(out, 'diff.json'), 'utf8')) as RunDiff;
    expect(d.services.added).toEqual([{ transport: 'tcp', port: 2323, service: 'telnet' }]);
    expect(d.services.removed).toEqual([]);
    const a = new Map(readReport(strong).checks.map((c) => [c.id, c.verdict]));
    const changed = readReport(mixed)
      .checks.filter((c) => a.get(c.id) !== c.verdict)
      .map((c) => c.id)
      .sort();
    expect(changed.length).toBeGreaterThan(3);
    expect(d.checks.map((c) => c.id).sort()).toEqual(changed);
    expect(d.firmware).toMatchObject({ declared: ['2.0.1', '1.4.0'], observed: ['2.0.1', '1.4.0'], changed: true });
    expect(r.stdout).toContain('services added: TCP 2323 (telnet)');
    for (const id of changed) expect(r.stdout).toContain(id);
    expect(readFileSync(path.join(out, 'diff.html'), 'utf8')).toContain('WORSE than certified');
    expect(readdirSync(out).sort()).toEqual(['diff.html', 'diff.json', 'diff.txt']);
  });

  it('a run against itself: nothing got worse, exit 0; measurements are not new findings', async () => {
    const weak = await runFolder('lab-weak');
    const r = await starbench(['diff', weak, weak]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing got worse');
    expect(findingKey('ssh 22: all 20 wrong passwords refused at a steady ~416 ms')).toBe(
      findingKey('ssh 22: all 20 wrong passwords refused at a steady ~423 ms'),
    );
  });
});

describe('document review: starbench report --answers', () => {
  it('records each answer as a declaration with its reference, beside the device evidence; a failed check still fails the row', async () => {
    const answers = path.join(tmp(), 'answers.yaml');
    writeFileSync(
      answers,
      [
        'answers:',
        '  - { profile: jc-star-1, requirement: S1.1-05, result: met, reference: "https://example.invalid/psirt (policy v3)", reviewer: A. Sato }',
        '  - { profile: jc-star-1, requirement: S1.1-02, result: met, reference: "manual §2.1: unique password per unit" }',
        '  - { profile: etsi-en-303-645, requirement: "5.1-1", result: met, reference: "not this profile" }',
      ].join('\n'),
    );
    const dir = await runFolder('lab-weak', ['--profile', 'jc-star-1', '--answers', answers]);
    const report = readReport(dir);
    const row = (id: string) => report.requirements.find((r) => r.id === id)!;
    expect(row('S1.1-05')).toMatchObject({ verdict: 'pass', declarations: [expect.objectContaining({ source: 'reviewer', reviewer: 'A. Sato' })] });
    // The weak device accepts a default password: the reviewer's "met" does not rescue the row.
    expect(row('S1.1-02')).toMatchObject({ verdict: 'fail', deviceVerdict: 'fail', declarations: [expect.objectContaining({ result: 'met' })] });
    expect(readFileSync(path.join(dir, 'report.md'), 'utf8')).toMatch(/Declarations[\s\S]*S1.1-02.*reviewer.*manual §2.1.*device test/);
    expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('manual §2.1: unique password per unit');
    expect(readFileSync(path.join(dir, 'checklist.csv'), 'utf8')).toContain('review: met (manual §2.1: unique password per unit)');
  });

  it('a malformed answers file, or an answer naming no requirement of the profile, is a clear error (exit 2) and writes nothing', async () => {
    const dir = path.join(tmp(), 'run');
    cpSync(path.join(RUNS, 'lab-weak'), dir, { recursive: true });
    const bad = path.join(tmp(), 'bad.yaml');
    writeFileSync(bad, 'answers:\n  - { profile: jc-star-1, requirement: S1.1-05, result: yes, reference: x }\n');
    let r = await starbench(['report', dir, '--profile', 'jc-star-1', '--answers', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:2: answers\[0\]\.result/);
    writeFileSync(bad, 'answers:\n  - { profile: jc-star-1, requirement: S1.1-5, result: met, reference: x }\n');
    r = await starbench(['report', dir, '--profile', 'jc-star-1', '--answers', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"S1.1-5" is not a requirement of jc-star-1/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir)).not.toContain('report.json');
  });
});
