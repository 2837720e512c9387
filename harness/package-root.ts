/**
 * The package's own folder (the one holding package.json), found from the
 * sources and from the compiled `dist/` alike: profiles, credential lists and
 * the demo's feed are read from there, never copied into the build.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = findRoot(__dirname);
