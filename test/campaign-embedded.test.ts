/**
 * A campaign on one host with no database server: without --db the store is
 * PGlite in runs/campaign-store, served on 127.0.0.1 by a detached
 * `campaign serve` that the first command starts and that stops by itself
 * when no client is left. pg-boss, create, agent and status all work on it.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDemoDevice, type DemoDevice } from '../fixtures/demo-device';
import { starbench } from './helpers/cli';

describe('campaign on one host, embedded store (PGlite)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-campaign-embedded-'));
  const store = path.join(dir, 'runs', 'campaign-store');
  let device: DemoDevice;
  // The server stops 5 s after its last client.
  const env = { STARBENCH_STORE_IDLE_SECONDS: '5' };

  beforeAll(async () => {
    device = await startDemoDevice('127.0.0.31');
  });
  afterAll(async () => {
    const info = existsSync(path.join(store, 'server.json'))
      ? (JSON.parse(readFileSync(path.join(store, 'server.json'), 'utf8')) as { pid: number })
      : undefined;
    if (info) process.kill(info.pid, 'SIGTERM');
    await device.stop();
  });

  it('create, an agent and status with no --db; the store server stops once idle', async () => {
    const file = device.writeDeviceFile(path.join(dir, 'dev'));
    expect((await starbench(['agent', 'keygen', '--out', 'keys'], { cwd: dir })).code).toBe(0);
    const created = await starbench(['campaign', 'create', 'one', '--key', 'keys/agent.pub.pem', file], { cwd: dir, env, timeoutMs: 90_000 });
    expect({ code: created.code, out: created.stdout, err: created.stderr }).toMatchObject({ code: 0, out: expect.stringMatching(/1 job\(s\) queued/) });
    expect(existsSync(path.join(store, 'data'))).toBe(true);
    const agent = await starbench(['agent', '--bench', 'here', '--key', 'keys/agent.pem', '--idle-exit', '3'], { cwd: dir, env, timeoutMs: 120_000 });
    expect({ code: agent.code, err: agent.stderr }).toMatchObject({ code: 0, err: expect.stringMatching(/done: fail \(exit 1\)/) });
    const status = await starbench(['campaign', 'status', 'one', '--json'], { cwd: dir, env });
    expect(status.code).toBe(1);
    const [job] = (JSON.parse(status.stdout) as { jobs: Array<{ state: string; checks?: Record<string, string> }> }).jobs;
    expect(job.state).toBe('done');
    expect(job.checks?.['auth.default-credentials']).toBe('fail');
    // No client left: the server goes away by itself.
    const end = Date.now() + 30_000;
    while (existsSync(path.join(store, 'server.json')) && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(path.join(store, 'server.json'))).toBe(false);
  }, 240_000);
});
