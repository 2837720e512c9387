/**
 * bin/dist.js: the compiled CLI is used only while it is newer than every
 * source it was built from; anything else (no build, an edited or deleted
 * source, a stamp that lists nothing) sends bin/starbench.js to the sources.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { distStale } = require('../../bin/dist.js') as { distStale(root: string): string | null };

function tree(files: Record<string, number>, stampAt: number, listed = Object.keys(files), startedAt?: number): string {
  const root = mkdtempSync(path.join(tmpdir(), 'sb-dist-'));
  mkdirSync(path.join(root, 'dist'));
  for (const [f, at] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), '');
    utimesSync(path.join(root, f), at, at);
  }
  writeFileSync(
    path.join(root, 'dist', 'build.json'),
    JSON.stringify({ files: listed, ...(startedAt !== undefined ? { startedAtMs: startedAt * 1000 } : {}) }),
  );
  utimesSync(path.join(root, 'dist', 'build.json'), stampAt, stampAt);
  return root;
}

describe('distStale', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  const make = (...a: Parameters<typeof tree>) => {
    const r = tree(...a);
    roots.push(r);
    return r;
  };

  it('a build newer than every source it lists is used', () => {
    expect(distStale(make({ 'cli/index.ts': 1000, 'harness/a.ts': 1500 }, 2000))).toBeNull();
  });
  it('one source edited after the build: the sources', () => {
    expect(distStale(make({ 'cli/index.ts': 1000, 'harness/a.ts': 2500 }, 2000))).toBe('harness/a.ts changed since the build');
  });
  it('a source saved while tsc ran (after the build started, before its stamp): the sources', () => {
    expect(distStale(make({ 'cli/index.ts': 1000, 'harness/a.ts': 1800 }, 2000, undefined, 1500))).toBe('harness/a.ts changed since the build');
    expect(distStale(make({ 'cli/index.ts': 1000, 'harness/a.ts': 1400 }, 2000, undefined, 1500))).toBeNull();
  });
  it('a source deleted since the build: the sources', () => {
    expect(distStale(make({ 'cli/index.ts': 1000 }, 2000, ['cli/index.ts', 'harness/gone.ts']))).toBe('harness/gone.ts is gone since the build');
  });
  it('no build at all, or one whose stamp lists nothing or does not parse: the sources', () => {
    const none = mkdtempSync(path.join(tmpdir(), 'sb-dist-'));
    roots.push(none);
    expect(distStale(none)).toBe('no build (npm run build)');
    expect(distStale(make({ 'cli/index.ts': 1000 }, 2000, []))).toBe('the build lists no source file');
    const garbled = make({ 'cli/index.ts': 1000 }, 2000);
    writeFileSync(path.join(garbled, 'dist', 'build.json'), '{not json');
    expect(distStale(garbled)).toBe('no build (npm run build)');
  });
});
