/** Takes the lab down and fails the run if anything is left on the machine. */
import { existsSync, rmSync } from 'node:fs';
import { labDown, leftovers } from '../../fixtures/lab';
import { DEVICE_NAMES } from '../../fixtures/lab/config';
import { anyBlackhole, namespaces } from '../../fixtures/lab/net';
import { LAB_STATE_FILE } from './lab-state';

export default async function globalTeardown(): Promise<void> {
  if (!existsSync(LAB_STATE_FILE)) return;
  rmSync(LAB_STATE_FILE, { force: true });
  await labDown();
  const left = leftovers();
  if (!namespaces().some((n) => new RegExp(`^[a-z]{2,4}-(${DEVICE_NAMES.join('|')})$`).test(n)) && anyBlackhole())
    left.push('blackhole route 198.18.0.0/15 or 2001:2::/48');
  if (left.length > 0) throw new Error(`lab down left things behind:\n${left.join('\n')}`);
}
