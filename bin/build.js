#!/usr/bin/env node
'use strict';
// npm run build (and npm install, through `prepare`): compiles the CLI into
// dist/ with tsc, then lists the sources it compiled in dist/build.json, the
// stamp bin/starbench.js checks. A failed build never fails the install: the
// CLI then runs from the sources through tsx, as it would without a build.
// The build goes to a folder of its own and replaces dist/ only when complete:
// a run already going (its modules load lazily) never finds dist/ half-written.
const { execFileSync } = require('node:child_process');
const { renameSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { ROOT, DIST, STAMP } = require('./dist');

function main() {
  const next = `${DIST}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  // A source saved while tsc runs may or may not be in the build: the build counts from its start, not its end.
  const startedAtMs = Date.now();
  let listed;
  try {
    listed = execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', next, '--listEmittedFiles'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // No build at all rather than an older one: bin/starbench.js then runs the sources.
    rmSync(next, { recursive: true, force: true });
    rmSync(DIST, { recursive: true, force: true });
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(0, 5).join('\n');
    process.stderr.write(`starbench build: not built, the CLI will run from its sources (tsx): ${out || err.message}\n`);
    return;
  }
  // "TSFILE: /abs/dist/harness/x.js" per emitted file; the source is the same path under ROOT, .ts (or .json).
  const files = listed
    .split('\n')
    .filter((l) => l.startsWith('TSFILE: '))
    .map((l) => path.relative(next, l.slice('TSFILE: '.length).trim()))
    .map((rel) => (rel.endsWith('.js') ? rel.replace(/\.js$/, '.ts') : rel));
  writeFileSync(path.join(next, path.basename(STAMP)), JSON.stringify({ builtAt: new Date().toISOString(), startedAtMs, files }, null, 1));
  const old = `${DIST}.old-${process.pid}`;
  try {
    renameSync(DIST, old);
  } catch {
    // no earlier build
  }
  renameSync(next, DIST);
  rmSync(old, { recursive: true, force: true });
  process.stdout.write(`starbench build: ${files.length} files compiled into dist/\n`);
}

main();
