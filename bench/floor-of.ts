/**
 * `npm run bench:floor -- RUN_DIR DEVICE.yaml`: the floor a saved run's device imposed (bench/floor.ts) and the
 * run's overhead above it, from its journal and report, with the device file the run was made from.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadDeviceFile } from '../harness/device-file/load';
import { readJournal } from '../harness/journal';
import { deviceFloor, type LedgerWait } from './floor';
import { fmt } from './util';

function main(): void {
  const args = process.argv.filter((a, i) => i > 0 && !a.endsWith('floor-of.ts'));
  const [runDir, deviceFile] = args;
  if (!runDir || !deviceFile) throw new Error('usage: npm run bench:floor -- RUN_DIR DEVICE.yaml');
  const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as { run: { durationMs: number }; authLedger?: { waits?: LedgerWait[] } };
  const floor = deviceFloor(readJournal(path.join(runDir, 'journal.jsonl')), loadDeviceFile(deviceFile), report.authLedger?.waits ?? []);
  console.log(
    `run ${fmt(report.run.durationMs)}, floor ${fmt(floor.ms)} (ordinary ${fmt(floor.ordinaryMs)}, disruptive ${fmt(floor.disruptiveMs)}), overhead ${fmt(report.run.durationMs - floor.ms)}`,
  );
  for (const p of floor.parts) console.log(`  ${p.probe}: ${p.what} — ${fmt(p.ms)}`);
}

try {
  main();
} catch (err) {
  console.error(`bench:floor: ${(err as Error).message}`);
  process.exit(2);
}
