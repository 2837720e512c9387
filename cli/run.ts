/** `starbench run`, `resume` and `demo`. */
import { loadRegistry } from './plugins';
import path from 'node:path';
import { loadDeviceFile } from '../harness/device-file/load';
import { loadSavedRun } from '../harness/saved-run';
import { fleetCommand, isDirectory } from './fleet';
import { removeLeftoverRedirect } from '../probes/traffic/mitm';
import { trafficTools } from '../probes/traffic/tools';
import { StarbenchError } from '../harness/errors';
import type * as DemoModule from '../fixtures/demo-device';
import { type ParsedArgs } from './args';
import type { CliIO } from './io';

import { assess, resumeState } from './assess';

export async function runCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const targets = args.positionals.slice(1);
  if (targets.length === 0) throw new StarbenchError('USAGE', 'starbench run needs a device file: starbench run DEVICE.yaml [MORE.yaml ... | FOLDER]');
  if (targets.length === 1 && !isDirectory(targets[0])) return assess(loadDeviceFile(targets[0]), args, io);
  return fleetCommand(targets, args, io);
}

/** `starbench resume RUN_DIR`: run only what an interrupted run had not finished, into the same folder. */
export async function resumeCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [dir, ...extra] = args.positionals.slice(1);
  if (!dir || extra.length) throw new StarbenchError('USAGE', 'starbench resume takes one run folder: starbench resume RUN_DIR');
  for (const opt of ['profile', 'only', 'out'] as const) {
    if (args.values[opt] !== undefined) throw new StarbenchError('USAGE', `--${opt} cannot change on resume: the run keeps its own`);
  }
  const runDir = path.resolve(dir);
  const saved = loadSavedRun(runDir, loadRegistry(args.values.plugin).probes);
  // A MITM redirect the run could not remove goes first, finished run or not: the device's cloud link is cut until then.
  const redirect = removeLeftoverRedirect(runDir, trafficTools().nft);
  if (redirect) io.err(`starbench: ${redirect}\n`);
  if (!saved.unfinished) throw new StarbenchError('RUN_DIR_INVALID', `${runDir} finished already; nothing to resume (starbench report re-judges it)`);
  // The journal holds masked credentials: the device file itself is needed again, unchanged.
  const device = loadDeviceFile(saved.deviceFile);
  if (saved.deviceFileSha256 && device.sha256 !== saved.deviceFileSha256) {
    throw new StarbenchError('RUN_DIR_INVALID', `${saved.deviceFile} changed since the run started; resuming would mix two declarations (start a new run)`);
  }
  const resume = resumeState(saved);
  if (!args.values.quiet)
    io.err(
      `starbench: resuming ${saved.meta.id}: ${resume.results.size} probe result(s) kept, the rest run now${resume.repeated.length ? ` (begun before and run again: ${resume.repeated.join(', ')})` : ''}\n`,
    );
  return assess(device, args, io, resume);
}

export async function demoCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length > 1) throw new StarbenchError('USAGE', `starbench demo takes no arguments; unexpected: ${args.positionals.slice(1).join(' ')}`);
  // The simulated device (an MQTT broker, SSH and web servers) is loaded only for the demo, never for a real run.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startDemoDevice } = require('../fixtures/demo-device') as typeof DemoModule;
  const demo = await startDemoDevice();
  try {
    const file = demo.writeDeviceFile(path.resolve(args.values.out ?? 'runs'));
    if (!args.values.quiet) io.err(`starbench: demo device up on ${demo.host} ports ${Object.values(demo.ports).join(', ')}; device file ${file}\n`);
    return await assess(loadDeviceFile(file), args, io);
  } finally {
    await demo.stop();
  }
}
