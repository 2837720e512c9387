/**
 * The layering rule of .dependency-cruiser.cjs (run by `npm run lint`) on a
 * small tree: a core module importing a probe, a probe importing a check, and
 * an import cycle are each refused; the allowed direction is not.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const DEPCRUISE = path.resolve(__dirname, '..', 'node_modules', '.bin', 'depcruise');
const CONFIG = path.resolve(__dirname, '..', '.dependency-cruiser.cjs');

/** Violations depcruise finds in a small tree, with the project's own rules (its CLI: the package is ESM-only). */
function violations(files: Record<string, string>): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-layers-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowJs: true }, include: ['**/*.js'] }));
  let out: string;
  try {
    out = execFileSync(DEPCRUISE, ['harness', 'probes', 'profiles', 'cli', '--config', CONFIG, '--output-type', 'json'], { cwd: dir, encoding: 'utf8' });
  } catch (err) {
    // depcruise exits non-zero when it finds violations; the JSON is still on stdout.
    out = (err as { stdout: string }).stdout;
  }
  const r = JSON.parse(out) as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> } };
  return r.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('layering (dependency-cruiser rules)', () => {
  it('refuses a core module that imports a probe, a probe that imports a check, and a cycle', () => {
    const v = violations({
      'harness/verdict.js': "require('../probes/tls');\n",
      'probes/tls.js': "require('../profiles/checks');\n",
      'profiles/checks.js': "require('../harness/verdict');\n",
      'cli/index.js': "require('../profiles/checks');\n",
    });
    expect(v).toEqual(
      expect.arrayContaining([
        'core-imports-no-layer-above: harness/verdict.js → probes/tls.js',
        'probes-below-checks-and-cli: probes/tls.js → profiles/checks.js',
      ]),
    );
    expect(v.some((x) => x.startsWith('no-circular:'))).toBe(true);
  });

  it('accepts the allowed direction: cli → profiles → probes → harness', () => {
    expect(
      violations({
        'harness/verdict.js': 'module.exports = {};\n',
        'probes/tls.js': "require('../harness/verdict');\n",
        'profiles/checks.js': "require('../probes/tls');\n",
        'cli/index.js': "require('../profiles/checks');\n",
      }),
    ).toEqual([]);
  });
});
