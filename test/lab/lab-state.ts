import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labStatus, type LabDeviceStatus } from '../../fixtures/lab';
import type { LabDeviceName } from '../../fixtures/lab/config';

export const LAB_STATE_FILE = path.join(tmpdir(), 'starbench-jest-lab.json');

/** The running lab device, or a failure that says why the lab is not there (never a skip). */
export function labDevice(name: LabDeviceName): LabDeviceStatus {
  let state: { up: boolean; blocker?: string };
  try {
    state = JSON.parse(readFileSync(LAB_STATE_FILE, 'utf8')) as typeof state;
  } catch {
    throw new Error('the lab global setup did not run (run lab tests through jest\'s lab project)');
  }
  if (!state.up) throw new Error(`the reference lab is not running: ${state.blocker}`);
  const d = labStatus()?.devices.find((x) => x.name === name);
  if (!d) throw new Error(`lab device ${name} is not up`);
  return d;
}
