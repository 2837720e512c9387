import { parseArgs } from 'node:util';
import { StarbenchError } from '../harness/errors';

export const OPTIONS = {
  profile: { type: 'string' },
  out: { type: 'string' },
  only: { type: 'string' },
  format: { type: 'string' },
  lang: { type: 'string' },
  key: { type: 'string' },
  parallel: { type: 'string' },
  'global-connections': { type: 'string' },
  'probe-timeout': { type: 'string' },
  deadline: { type: 'string' },
  scanner: { type: 'string' },
  serial: { type: 'string' },
  plugin: { type: 'string', multiple: true },
  answers: { type: 'string', multiple: true },
  'compare-keys': { type: 'string', multiple: true },
  'vuln-feed': { type: 'string', multiple: true },
  ports: { type: 'string' },
  'udp-ports': { type: 'string' },
  db: { type: 'string' },
  bench: { type: 'string' },
  'idle-exit': { type: 'string' },
  json: { type: 'boolean' },
  'allow-plugins': { type: 'boolean' },
  force: { type: 'boolean' },
  'reveal-secrets': { type: 'boolean' },
  'non-interactive': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export type ParsedArgs = ReturnType<typeof parseCli>;

export function parseCli(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new StarbenchError('USAGE', (err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), { cause: err });
  }
}

export function seconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 86400)
    throw new StarbenchError('USAGE', `--${name} must be a number of seconds between 0 and 86400, got "${value}"`);
  return n * 1000;
}

export function list(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}
