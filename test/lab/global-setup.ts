/**
 * Brings the reference lab up once per test run. On a fresh machine of the
 * project's kind (root, Debian) it installs the lab's packages first. If the
 * lab cannot start, the reason is recorded and every lab test fails with it;
 * with STARBENCH_REQUIRE_LAB=1 (CI) the whole run stops here.
 */
import { writeFileSync } from 'node:fs';
import { installNeeded, installPackages, labBlocker, labUp } from '../../fixtures/lab';
import { LAB_STATE_FILE } from './lab-state';

export default async function globalSetup(): Promise<void> {
  let blocker = labBlocker();
  if (blocker && installNeeded().length > 0 && process.getuid?.() === 0) {
    process.stderr.write(`\nlab: installing: ${installNeeded().join(' ')}\n`);
    try {
      installPackages();
    } catch (err) {
      blocker = `could not install the lab's packages: ${(err as Error).message}`;
    }
    blocker = labBlocker() ?? (blocker?.startsWith('could not') ? blocker : null);
  }
  if (!blocker) {
    try {
      const started = Date.now();
      await labUp();
      writeFileSync(LAB_STATE_FILE, JSON.stringify({ up: true, ms: Date.now() - started }));
      return;
    } catch (err) {
      blocker = (err as Error).message;
    }
  }
  writeFileSync(LAB_STATE_FILE, JSON.stringify({ up: false, blocker }));
  if (process.env.STARBENCH_REQUIRE_LAB === '1') throw new Error(`STARBENCH_REQUIRE_LAB=1 and the reference lab cannot start: ${blocker}`);
  process.stderr.write(`\nlab: NOT RUNNING (${blocker}); every lab test will fail\n`);
}
