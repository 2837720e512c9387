/**
 * The command line. Maps every outcome to the design's exit codes in one
 * place and never shows a user a stack trace.
 */
import { terminalOperator } from '../harness/operator';
import { errorMessage, isInputError, StarbenchError } from '../harness/errors';
import { EXIT } from '../harness/verdict';
import { TOOL_VERSION } from '../harness/version';
import { parseCli } from './args';
import { COMMAND_HELP, USAGE } from './help';
import type { CliIO } from './io';
import { bundleCommand, diffCommand, signCommand, verifyCommand } from './evidence';
import { doctorCommand } from './doctor';
import { initCommand } from './init';
import { listCommand, schemaCommand } from './list';
import { reportCommand } from './report';
import { demoCommand, resumeCommand, runCommand } from './run';
import type * as CampaignModule from './campaign';
import type * as AgentModule from './agent';

const COMMANDS: Record<string, (args: ReturnType<typeof parseCli>, io: CliIO) => number | Promise<number>> = {
  run: runCommand,
  demo: demoCommand,
  report: reportCommand,
  list: listCommand,
  schema: schemaCommand,
  diff: diffCommand,
  bundle: bundleCommand,
  sign: signCommand,
  verify: verifyCommand,
  resume: resumeCommand,
  init: initCommand,
  doctor: doctorCommand,
  // The store's client (pg, pg-boss) is loaded only by the commands that use it, never by a run.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  campaign: (args, io) => (require('./campaign') as typeof CampaignModule).campaignCommand(args, io),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  agent: (args, io) => (require('./agent') as typeof AgentModule).agentCommand(args, io),
};

export async function main(argv: string[], io: CliIO): Promise<number> {
  let command: string | undefined;
  try {
    const args = parseCli(argv);
    command = args.positionals[0];
    if (args.values.version) {
      io.out(`starbench ${TOOL_VERSION}\n`);
      return EXIT.ok;
    }
    if (!command || command === 'help') {
      io.out(USAGE);
      return command ? EXIT.ok : args.values.help ? EXIT.ok : EXIT.usage;
    }
    const run = COMMANDS[command];
    if (!run) throw new StarbenchError('USAGE', `unknown command "${command}"`);
    if (args.values.help) {
      io.out(COMMAND_HELP[command]);
      return EXIT.ok;
    }
    return await run(args, io);
  } catch (err) {
    if (isInputError(err)) {
      io.err(`starbench: ${err.message}\n`);
      if (err.code === 'USAGE') io.err(command && COMMAND_HELP[command] ? `usage: ${COMMAND_HELP[command]}` : `\n${USAGE}`);
      return EXIT.usage;
    }
    // A harness failure, not the device's: say so, keep the trace for -v only.
    io.err(`starbench: internal error: ${errorMessage(err)}\n`);
    if (process.env.STARBENCH_DEBUG && err instanceof Error) io.err(`${err.stack}\n`);
    return EXIT.incomplete;
  }
}

/** Entry point for bin/starbench.js: real stdio, Ctrl-C handling, exit code. */
export function cli(): void {
  const ctl = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\nstarbench: interrupted; stopping probes and writing a partial report (Ctrl-C again to quit now)\n');
      ctl.abort();
    } else process.exit(EXIT.interrupted);
  });
  process.on('SIGTERM', () => ctl.abort());
  // Last resort: a bug in a callback must not show a user a stack trace. The
  // journal keeps what finished; STARBENCH_DEBUG=1 shows the trace.
  process.on('uncaughtException', (err) => {
    process.stderr.write(`starbench: internal error: ${errorMessage(err)}\n`);
    if (process.env.STARBENCH_DEBUG) process.stderr.write(`${err.stack}\n`);
    process.exit(EXIT.incomplete);
  });
  const io: CliIO = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    operator: process.stdin.isTTY ? terminalOperator() : undefined,
    colour: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
    signal: ctl.signal,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
      // Exit once stdout drains; a probe's stray socket must not keep the process alive.
      process.stdout.write('', () => process.exit(code));
    },
    (err) => {
      process.stderr.write(`starbench: internal error: ${errorMessage(err)}\n`);
      process.exit(EXIT.incomplete);
    },
  );
}
