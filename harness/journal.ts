/**
 * The run journal: one JSON event per line, written and flushed as it
 * happens so an interrupted run leaves a readable record.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
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
    this.fd = openSync(file, 'a');
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

/** Read a journal back, skipping a torn last line (a run killed mid-write). */
export function readJournal(file: string): JournalEvent[] {
  const out: JournalEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JournalEvent);
    } catch {
      break;
    }
  }
  return out;
}
