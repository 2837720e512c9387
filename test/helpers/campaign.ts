/** What the campaign tests share: `campaign status --json` read back, a bounded wait, an agent process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, starbench } from './cli';

/** One job of `campaign status --json` (the stable shape plus the extra fields). */
export interface StatusJob {
  id: string;
  device: string;
  bench: string | null;
  state: string;
  attempts: number;
  checks?: Record<string, string>;
  repeated?: string[];
  lastError?: string;
}

/** `fn` until it gives a value, every `everyMs`, at most `ms`; the error names what was awaited and `log()`. */
export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>, everyMs = 500, log: () => string = () => ''): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms\n${log()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function campaignStatus(name: string, db: string): Promise<StatusJob[]> {
  const r = await starbench(['campaign', 'status', name, '--db', db, '--json']);
  if (![0, 1, 3].includes(r.code ?? -1)) throw new Error(`campaign status: exit ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { jobs: StatusJob[] }).jobs;
}

/** `starbench agent` as a child process; its stderr goes to `log`, tagged with `tag`. */
export function spawnAgent(o: {
  db: string;
  bench: string;
  key: string;
  out: string;
  idleExit: number;
  extra?: string[];
  tag: string;
  log: string[];
}): ChildProcess {
  const child = spawn(
    process.execPath,
    [BIN, 'agent', ...(o.extra ?? []), '--db', o.db, '--bench', o.bench, '--key', o.key, '--out', o.out, '--idle-exit', String(o.idleExit)],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (c: Buffer) => o.log.push(`[${o.tag}] ${c.toString()}`));
  return child;
}
