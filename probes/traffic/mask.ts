/**
 * The capture is evidence, and it holds what the device sent in clear: the
 * canaries, secrets and lab passwords the dissection looked for. Once tshark
 * has read it, each of those values (in every form the search knows) is
 * overwritten with '*' in the file itself, byte for byte, so that the pcap
 * still opens and every frame keeps its length; `--reveal` keeps it raw.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { canaryForms } from '../util/canaries';

const CHUNK = 4 * 1024 * 1024;

/** Every form of every value, as the bytes a capture would hold. */
export function maskForms(values: string[]): Buffer[] {
  const forms = new Map<string, Buffer>();
  for (const v of values) for (const f of canaryForms(v)) if (f.length >= 4) forms.set(f, Buffer.from(f, 'latin1'));
  return [...forms.values()].sort((a, b) => b.length - a.length);
}

/** Overwrite every occurrence in place; returns how many were masked. */
export function maskFile(file: string, forms: Buffer[]): number {
  if (forms.length === 0) return 0;
  const longest = Math.max(...forms.map((f) => f.length));
  const fd = openSync(file, 'r+');
  let masked = 0;
  try {
    const size = fstatSync(fd).size;
    // Windows overlap by the longest form, so a value across a chunk boundary is seen whole.
    for (let pos = 0; pos < size; pos += CHUNK) {
      const len = Math.min(CHUNK + longest - 1, size - pos);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      let changed = false;
      for (const f of forms) {
        for (let i = buf.indexOf(f); i >= 0; i = buf.indexOf(f, i + f.length)) {
          buf.fill(0x2a, i, i + f.length);
          masked += 1;
          changed = true;
        }
      }
      if (changed) writeSync(fd, buf, 0, len, pos);
    }
  } finally {
    closeSync(fd);
  }
  return masked;
}
