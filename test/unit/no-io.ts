/**
 * The unit project's promise, enforced: a unit test that opens a socket or
 * starts a process fails at once (such a test belongs in test/, the
 * integration project). Core modules are shared by every test file a jest
 * worker runs, so the guard is put in place before this file's tests and
 * taken away after them: the integration tests that follow in the same
 * worker get the real functions back.
 */
import child_process from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';

const refuse = (what: string) => (): never => {
  throw new Error(`unit tests open no socket and start no process (${what}); move this test to test/ (integration)`);
};

type Slot = [target: Record<string, unknown>, name: string, what: string];
const SLOTS: Slot[] = [
  ...(['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const).map((n): Slot => [
    child_process as unknown as Record<string, unknown>,
    n,
    `child_process.${n}`,
  ]),
  [net.Socket.prototype as unknown as Record<string, unknown>, 'connect', 'net.Socket.connect'],
  [net.Server.prototype as unknown as Record<string, unknown>, 'listen', 'net.Server.listen'],
  [dgram.Socket.prototype as unknown as Record<string, unknown>, 'bind', 'dgram bind'],
  [dgram.Socket.prototype as unknown as Record<string, unknown>, 'send', 'dgram send'],
];
const saved: unknown[] = [];

beforeAll(() => {
  SLOTS.forEach(([target, name, what], i) => {
    saved[i] = target[name];
    target[name] = refuse(what);
  });
});

afterAll(() => {
  SLOTS.forEach(([target, name], i) => {
    target[name] = saved[i];
  });
});
