'use strict';
// The compiled CLI in dist/ (written by `npm run build`, which `npm install`
// runs) is used only while it is newer than every source file it was built
// from; otherwise bin/starbench.js runs the TypeScript sources through tsx.
const { readFileSync, statSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** Written last by the build: the source files it compiled (relative to ROOT). */
const STAMP = path.join(DIST, 'build.json');

/** Why the build in `dist` cannot be used (missing, or a source newer than it), or null when it can. */
function distStale(root = ROOT) {
  const stamp = path.join(root, 'dist', 'build.json');
  let built;
  let files;
  try {
    const s = JSON.parse(readFileSync(stamp, 'utf8'));
    files = s.files;
    // A source saved during the build may be missing from it: what counts is when tsc started reading them.
    built = Math.min(statSync(stamp).mtimeMs, typeof s.startedAtMs === 'number' ? s.startedAtMs : Infinity);
  } catch {
    return 'no build (npm run build)';
  }
  if (!Array.isArray(files) || files.length === 0) return 'the build lists no source file';
  for (const f of files) {
    let m;
    try {
      m = statSync(path.join(root, f)).mtimeMs;
    } catch {
      return `${f} is gone since the build`;
    }
    if (m > built) return `${f} changed since the build`;
  }
  return null;
}

module.exports = { ROOT, DIST, STAMP, distStale };
