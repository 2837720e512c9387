/** Where an executable is on PATH, as a shell's `command -v` would find it. */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export function findOnPath(bin: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
