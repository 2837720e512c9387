/** `starbench bundle|sign|verify|diff`: the outputs a lab files and a surveillance officer compares. */
import { deviceKeys } from '../profiles/checks/crypto-unique-device-keys';
import { loadRegistry } from './plugins';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StarbenchError } from '../harness/errors';
import { loadProfile } from '../harness/profile';
import type { Report } from '../harness/report';
import { loadSavedRun } from '../harness/saved-run';
import { EXIT } from '../harness/verdict';
import { bundleRun, signRun, verifyBundle, verifyRunDir, type VerifyResult } from '../reports/bundle';
import { diffRuns, renderDiffHtml, renderDiffText } from '../reports/diff';
import type { ParsedArgs } from './args';
import type { CliIO } from './io';
import { judgeSavedRun } from './report';

function runDirArg(args: ParsedArgs, command: string): string {
  const [dir, ...extra] = args.positionals.slice(1);
  if (!dir) throw new StarbenchError('USAGE', `starbench ${command} needs a run folder`);
  if (extra.length) throw new StarbenchError('USAGE', `starbench ${command} takes one argument; unexpected: ${extra.join(' ')}`);
  if (!existsSync(dir)) throw new StarbenchError('RUN_DIR_INVALID', `${dir} does not exist`);
  return path.resolve(dir);
}

function readKey(file: string | undefined, what: string): string {
  if (!file) throw new StarbenchError('USAGE', `--key FILE is required: the ${what} in PEM`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new StarbenchError('USAGE', `cannot read ${file}: ${(err as Error).message}`);
  }
}

export async function bundleCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = runDirArg(args, 'bundle');
  const r = await bundleRun(dir, args.values.out);
  io.out(`bundle: ${r.file} (${r.manifest.files.length} files${r.signed ? ', signed' : ', not signed: run starbench sign first for a signed bundle'})\n`);
  return EXIT.ok;
}

export function signCommand(args: ParsedArgs, io: CliIO): number {
  const dir = runDirArg(args, 'sign');
  if (!statSync(dir).isDirectory()) throw new StarbenchError('USAGE', 'starbench sign takes a run folder (sign, then bundle)');
  const sig = signRun(dir, readKey(args.values.key, 'private key'), process.env.STARBENCH_KEY_PASSPHRASE);
  io.out(`signed ${dir}/manifest.json with ${sig.algorithm}, key ${sig.keyId.slice(0, 16)}…\n`);
  return EXIT.ok;
}

function printVerify(io: CliIO, what: string, r: VerifyResult): number {
  for (const p of r.problems) io.out(`CHANGED ${p.file}: ${p.problem}\n`);
  if (r.ok && r.signed) {
    io.out(
      `verified ${what}: ${r.checked} files match the manifest; ${r.algorithm} signature valid, key ${r.keyId?.slice(0, 16)}…${r.pinned === undefined ? ' (not pinned: pass --key PUBLIC.pem to check who signed)' : ' (the key given with --key)'}\n`,
    );
    return EXIT.ok;
  }
  if (r.ok) {
    io.out(`${what}: ${r.checked} files match the manifest, but it is not signed\n`);
    return EXIT.incomplete;
  }
  io.out(`verification FAILED for ${what}: ${r.problems.length} problem(s)\n`);
  return EXIT.failed;
}

export async function verifyCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const target = runDirArg(args, 'verify');
  const trusted = args.values.key ? readKey(args.values.key, 'public key') : undefined;
  const r = statSync(target).isDirectory() ? verifyRunDir(target, trusted) : await verifyBundle(target, trusted);
  return printVerify(io, target, r);
}

function judged(dir: string, profileId: string | undefined): Report {
  const resolved = path.resolve(dir);
  if (!existsSync(path.join(resolved, 'journal.jsonl')) && existsSync(path.join(resolved, 'report.json'))) {
    return JSON.parse(readFileSync(path.join(resolved, 'report.json'), 'utf8')) as Report;
  }
  const saved = loadSavedRun(resolved, loadRegistry().probes);
  return judgeSavedRun(saved, loadProfile(profileId ?? saved.profileId));
}

export function diffCommand(args: ParsedArgs, io: CliIO): number {
  const [a, b, ...extra] = args.positionals.slice(1);
  if (!a || !b || extra.length) throw new StarbenchError('USAGE', 'starbench diff takes two run folders: starbench diff CERTIFIED_RUN SHOP_RUN');
  const ra = judged(a, args.values.profile);
  // Both judged under the same catalog, so verdicts compare.
  const rb = judged(b, args.values.profile ?? ra.profile.id);
  // The keys each unit's run recorded: the same key on two units is a key baked into the firmware.
  const keysOf = (r: Report) => deviceKeys((p) => r.observations[p]);
  const d = diffRuns(ra, rb, { a: keysOf(ra), b: keysOf(rb) });
  io.out(renderDiffText(d));
  if (args.values.out) {
    const out = path.resolve(args.values.out);
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'diff.json'), JSON.stringify(d, null, 2) + '\n');
    writeFileSync(path.join(out, 'diff.html'), renderDiffHtml(d));
    writeFileSync(path.join(out, 'diff.txt'), renderDiffText(d));
  }
  return d.worse ? EXIT.failed : EXIT.ok;
}
