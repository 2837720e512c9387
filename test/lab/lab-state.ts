import { closeSync, lstatSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labStatus, type LabDeviceStatus } from '../../fixtures/lab';
import { VM_DEVICES, type LabDeviceName } from '../../fixtures/lab/config';

export const LAB_STATE_FILE = path.join(tmpdir(), 'starbench-jest-lab.json');

/** The running lab device, or a failure that says why the lab is not there (never a skip). */
export function labDevice(name: LabDeviceName): LabDeviceStatus {
  let state: { up: boolean; blocker?: string };
  try {
    state = JSON.parse(readFileSync(LAB_STATE_FILE, 'utf8')) as typeof state;
  } catch {
    throw new Error("the lab global setup did not run (run lab tests through jest's lab project)");
  }
  if (!state.up) throw new Error(`the reference lab is not running: ${state.blocker}`);
  const d = labStatus()?.devices.find((x) => x.name === name);
  if (!d) throw new Error(`lab device ${name} is not up`);
  return d;
}

/** Identity of the console link: socat makes a new one for each session (a pty number alone can repeat). */
function linkIdentity(link: string): string | null {
  try {
    const s = lstatSync(link);
    return `${s.ino}:${s.ctimeMs}`;
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Take a lab device for this test alone, across jest workers: one UART has
 * one reader (two readers split its bytes, and root ignores TIOCEXCL), and a
 * run that locks out, updates or resets the device must not meet another
 * test half-way. Waits for the holder (bounded), takes over a lock whose
 * holder died, and hands the device back only once its console has a fresh
 * session waiting — the readiness signal the next holder relies on.
 */
export async function holdDevice(name: LabDeviceName, waitMs = 400_000): Promise<() => Promise<void>> {
  const d = labDevice(name);
  const lock = path.join(path.dirname(d.deviceFile), 'test.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8') || 0);
      if (holder > 0 && !alive(holder)) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`lab device ${name} is still held by pid ${holder} after ${waitMs} ms`, { cause: err });
      else await sleep(100);
    }
  }
  const ready = await consoleReady(d.serial, null);
  const before = ready;
  // A VM's UART is QEMU's own pty, the same for the VM's life: no session to wait for.
  if (VM_DEVICES.includes(name)) return async () => rmSync(lock, { force: true });
  return async () => {
    // The holder may have used the console: wait for socat's next session before the next holder opens it.
    await consoleReady(d.serial, before, 3000);
    rmSync(lock, { force: true });
  };
}

/** Wait (bounded) until the console link exists and, if `previous` is given, is a new one. */
async function consoleReady(link: string, previous: string | null, ms = 5000): Promise<string | null> {
  const until = Date.now() + ms;
  for (;;) {
    const id = linkIdentity(link);
    if (id !== null && id !== previous) return id;
    if (Date.now() > until) return id;
    await sleep(25);
  }
}
