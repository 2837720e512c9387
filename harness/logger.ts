/**
 * pino loggers: JSON lines to the run folder, optionally pretty on stderr.
 * Every credential path is redacted; secret values are masked by the
 * registry before they reach a log line.
 */
import pino, { type Logger } from 'pino';
import type { SecretRegistry } from './secrets';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'credentials.*.password',
  'credential.password',
  'auth.password',
  'headers.authorization',
  '*.headers.authorization',
];

export function createLogger(opts: { file?: string; verbose?: boolean; secrets: SecretRegistry }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.file) streams.push({ level: 'debug', stream: pino.destination({ dest: opts.file, sync: true, mkdir: true }) });
  if (opts.verbose) {
    // pino-pretty is loaded only when asked for: it is heavy and a non-TTY run never needs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as (o: object) => NodeJS.WritableStream;
    streams.push({ level: 'debug', stream: pretty({ destination: 2, colorize: process.stderr.isTTY, ignore: 'pid,hostname' }) });
  }
  if (streams.length === 0) return pino({ level: 'silent' });
  return pino(
    {
      level: 'debug',
      redact: { paths: REDACT_PATHS, censor: '••••' },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? opts.secrets.mask(a) : opts.secrets.maskDeep(a))) as typeof args;
          method.apply(this, masked);
        },
      },
    },
    pino.multistream(streams),
  );
}
