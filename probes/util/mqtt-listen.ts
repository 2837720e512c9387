/**
 * Subscribe to every topic (`#`, `$SYS/#`) for a bounded window and note,
 * per topic, which personal-data canaries its payloads hold. Payloads are
 * never kept; topics are capped.
 */
import tls from 'node:tls';
import { MqttClient } from 'mqtt';
import type { ProbeContext } from '../../harness/types';
import { canariesIn } from './canaries';

export const MQTT_WINDOW_MS = 2000;
const MAX_TOPICS = 200;
const PAYLOAD_SEARCHED = 64 * 1024;

export interface MqttListen {
  /** The broker accepted the CONNECT. */
  accepted: boolean;
  /** Why it did not (CONNACK refusal, closed, timeout). */
  error?: string;
  /** The CONNACK's refusal code, when the broker gave one (3.1.1 return code, or MQTT 5 reason code). */
  code?: number;
  /** Topic → canary categories seen in its payloads. */
  topics: Map<string, string[]>;
  /** The payloads of the topics asked for in `keep` (the first 200 characters), e.g. $SYS/broker/version. */
  kept: Map<string, string>;
}

export async function mqttListen(
  ctx: ProbeContext,
  port: number,
  isTls: boolean,
  user?: { username: string; password?: string },
  windowMs = MQTT_WINDOW_MS,
  protocolVersion: 4 | 5 = 4,
  keep: readonly string[] = [],
): Promise<MqttListen> {
  const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  const stream = isTls ? tls.connect({ socket: sock, rejectUnauthorized: false }) : sock;
  const topics = new Map<string, string[]>();
  const kept = new Map<string, string>();
  return new Promise((resolve) => {
    const client = new MqttClient(() => stream, {
      protocolVersion,
      clientId: `starbench-${Date.now() % 100000}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 4000,
      keepalive: 0,
      username: user?.username,
      password: user?.password,
    });
    let accepted = false;
    let error: string | undefined;
    let code: number | undefined;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', finish);
      client.end(true);
      stream.destroy();
      sock.destroy();
      resolve({ accepted, error: accepted ? undefined : (error ?? 'no CONNACK'), ...(code !== undefined && !accepted ? { code } : {}), topics, kept });
    };
    let timer = setTimeout(finish, windowMs + 4000);
    ctx.signal.addEventListener('abort', finish, { once: true });
    client.on('connect', () => {
      accepted = true;
      client.subscribe(['#', '$SYS/#'], { qos: 0 });
      clearTimeout(timer);
      timer = setTimeout(finish, windowMs);
    });
    client.on('message', (topic, payload) => {
      if (keep.includes(topic)) kept.set(topic, payload.subarray(0, 200).toString('utf8'));
      if (topics.size < MAX_TOPICS || topics.has(topic)) {
        topics.set(topic, [...new Set([...(topics.get(topic) ?? []), ...canariesIn(ctx.device, payload.subarray(0, PAYLOAD_SEARCHED).toString('latin1'))])]);
      }
    });
    client.on('error', (err) => {
      error = err.message;
      const c = (err as Error & { code?: unknown }).code;
      if (typeof c === 'number') code = c;
      finish();
    });
    client.on('close', () => {
      if (!accepted) finish();
    });
  });
}
