/**
 * The capture is evidence, and it holds what the device sent in clear: the
 * canaries, secrets and lab passwords the dissection looked for. Once tshark
 * has read it, each of those values (in every form the search knows) is
 * overwritten with '*' in the file itself, byte for byte, so that the pcap
 * still opens and every frame keeps its length; and the payload of every
 * frame that carried a part of one (a value split over segments, inside a
 * compressed body, in another character set) is overwritten whole, found by
 * walking the classic pcap records (tcpdump's format, and dumpcap's with -P).
 * `--reveal-secrets` keeps it raw.
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

/** The classic pcap header: its magic says the byte order (and micro- or nanosecond stamps, the same layout). */
function recordReader(head: Buffer): ((b: Buffer, at: number) => number) | null {
  const magic = head.readUInt32LE(0);
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) return (b, at) => b.readUInt32LE(at);
  if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) return (b, at) => b.readUInt32BE(at);
  return null;
}

/**
 * Overwrite, in the frames named (1-based, as tshark numbers them), each payload given with '*'. Returns how many
 * payloads were masked; throws when the file is not a classic pcap (the caller says the capture is not masked).
 */
export function maskFrames(file: string, frames: ReadonlyMap<number, readonly Buffer[]>): number {
  if (frames.size === 0) return 0;
  const fd = openSync(file, 'r+');
  let masked = 0;
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(24);
    readSync(fd, head, 0, 24, 0);
    const u32 = recordReader(head);
    if (!u32) throw new Error('not a classic pcap file');
    const last = Math.max(...frames.keys());
    const rec = Buffer.alloc(16);
    let pos = 24;
    for (let n = 1; n <= last && pos + 16 <= size; n++) {
      readSync(fd, rec, 0, 16, pos);
      const incl = u32(rec, 8);
      const start = pos + 16;
      pos = start + incl;
      const payloads = frames.get(n);
      if (!payloads) continue;
      const data = Buffer.alloc(incl);
      readSync(fd, data, 0, incl, start);
      for (const p of payloads) {
        if (p.length === 0) continue;
        // The payload ends the frame, before any Ethernet padding: its last occurrence.
        const at = data.lastIndexOf(p);
        if (at < 0) continue;
        data.fill(0x2a, at, at + p.length);
        masked += 1;
      }
      writeSync(fd, data, 0, incl, start);
    }
  } finally {
    closeSync(fd);
  }
  return masked;
}
