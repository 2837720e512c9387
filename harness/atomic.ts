import { renameSync, writeFileSync } from 'node:fs';

/** Write via a temp file and rename, so a crash never leaves half a report. */
export function writeFileAtomic(file: string, content: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}
