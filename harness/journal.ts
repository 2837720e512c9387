/**
 * The run journal: one JSON event per line, written and flushed as it
 * happens so an interrupted run leaves a readable record.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import type { SecretRegistry } from './secrets';

export interface JournalEvent {
  type: string;
  at?: string;
  [key: string]: unknown;
}

export class Journal {
  private fd: number | undefined;

  constructor(
    readonly file: string,
    private readonly secrets: SecretRegistry,
  ) {
    // A journal cut mid-line (a killed run being resumed) gets its line ended first.
    const torn = existsSync(file) && statSync(file).size > 0 && lastByte(file) !== 0x0a;
    this.fd = openSync(file, 'a');
    if (torn) writeSync(this.fd, '\n');
  }

  write(event: JournalEvent): void {
    if (this.fd === undefined) return;
    const line = JSON.stringify(this.secrets.maskDeep({ at: new Date().toISOString(), ...event })) + '\n';
    writeSync(this.fd, line);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function lastByte(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, statSync(file).size - 1);
    return b[0];
  } finally {
    closeSync(fd);
  }
}

/** Read a journal back, skipping torn lines (a run killed mid-write, then resumed). */
export function readJournal(file: string): JournalEvent[] {
  const out: JournalEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JournalEvent);
    } catch {
      continue;
    }
  }
  return out;
}
