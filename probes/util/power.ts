/**
 * Restarting the device so that its boot can be watched: the declared
 * `restart` action (a reboot command, a serial command, the operator), or
 * the bench power controller's power-cycle request (`power.cycle`) — the
 * one request starbench makes to a host other than the device, checked by
 * the scope guard against the declared URL itself.
 */
import http from 'node:http';
import https from 'node:https';
import type { ProbeContext } from '../../harness/types';
import { runAction, type ActionRecord } from './actions';

const MAX_ANSWER = 16 * 1024;

/** Whether the device file says how to restart the device. */
export function canRestart(ctx: Pick<ProbeContext, 'device'>): boolean {
  return ctx.device.restart !== undefined || ctx.device.power !== undefined;
}

async function powerCycle(ctx: ProbeContext): Promise<ActionRecord> {
  const cycle = ctx.device.power!.cycle;
  const started = Date.now();
  const rec: ActionRecord = {
    action: 'power.cycle',
    via: 'http',
    request: `${cycle.method} ${cycle.url} (bench power controller)`,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    attempts: 1,
    ok: false,
    clearText: cycle.url.startsWith('http:'),
  };
  try {
    ctx.scope.assertPowerUrl(cycle.url);
    const timeoutMs = ctx.device.limits.actionTimeoutSeconds * 1000;
    await new Promise<void>((resolve) => {
      const url = new URL(cycle.url);
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(
        url,
        { method: cycle.method, headers: { 'Content-Length': 0, 'User-Agent': 'starbench' }, signal: ctx.signal, timeout: timeoutMs },
        (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            if (n > MAX_ANSWER) res.destroy();
          });
          res.on('close', () => {
            rec.status = res.statusCode;
            rec.ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)));
      req.on('error', (err) => {
        rec.error = err.message;
        resolve();
      });
      req.end();
    });
  } catch (err) {
    rec.error = (err as Error).message;
  }
  rec.durationMs = Date.now() - started;
  return rec;
}

/**
 * Restart the device: the declared restart action, else a power cycle.
 * `console`: the serial port the caller holds open, for a restart typed on it.
 */
export async function restartDevice(ctx: ProbeContext, console?: { write(text: string): void }): Promise<ActionRecord> {
  const serial = ctx.device.restart?.serial;
  if (serial && console) {
    console.write(`${serial.send}\r`);
    return {
      action: 'restart',
      via: 'serial',
      request: `serial ${ctx.device.target.serial?.path}: send ${JSON.stringify(serial.send)}`,
      startedAt: new Date().toISOString(),
      durationMs: 0,
      attempts: 1,
      ok: true,
      clearText: false,
    };
  }
  if (ctx.device.restart) return (await runAction(ctx, 'restart', ctx.device.restart)).record;
  return powerCycle(ctx);
}
