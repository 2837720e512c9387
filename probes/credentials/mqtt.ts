/** MQTT CONNECT with username and password (MQTT 3.1.1 §3.1, return codes §3.2.2.3). */
import { Socket } from 'node:net';
import tls from 'node:tls';
import { MqttClient } from 'mqtt';
import { connectForAttempt, type AttemptOutcome, type LoginAdapter } from './adapter';

// CONNACK return codes 4 "bad user name or password" and 5 "not authorized" (MQTT 3.1.1 §3.2.2.3).
const REFUSED = new Set([4, 5]);

export const mqttLogin: LoginAdapter = {
  name: 'mqtt',
  async attempt(ctx, target, username, password) {
    const sock = await connectForAttempt(ctx, target.port);
    if (!(sock instanceof Socket)) return sock;
    const stream = target.tls ? tls.connect({ socket: sock, rejectUnauthorized: false, ...(target.clientCert ?? {}) }) : sock;
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      const client = new MqttClient(() => stream, {
        username,
        password,
        protocolVersion: 4,
        clientId: `starbench-${Math.random().toString(16).slice(2, 10)}`,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        keepalive: 0,
      });
      const done = (o: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        ctx.signal.removeEventListener('abort', onAbort);
        client.end(true);
        stream.destroy();
        sock.destroy();
        resolve(o);
      };
      const onAbort = (): void => done({ kind: 'error', detail: 'aborted' });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      client.on('connect', () => done({ kind: 'accepted', detail: 'CONNACK 0' }));
      client.on('error', (err: Error & { code?: number | string }) => {
        if (typeof err.code === 'number' && REFUSED.has(err.code)) done({ kind: 'rejected', detail: `CONNACK ${err.code}` });
        else done({ kind: 'error', detail: err.message });
      });
      client.on('close', () => done({ kind: 'error', detail: 'connection closed before CONNACK' }));
    });
  },
};
