/**
 * What an open TCP port is, from what it says: its own banner first, then
 * (for a port that waits for the client) a TLS ClientHello, an HTTP request
 * and an MQTT CONNECT, each on its own connection.
 */
import type { ProbeContext } from '../../harness/types';
import { canariesIn } from '../util/canaries';
import { identifyBanner, printable, readBanner } from '../util/banner';
import { askHello, clientHello } from '../tls/hello';
import { suitesFor } from '../tls/suites';

// MQTT 3.1.1 CONNECT (§3.1): protocol "MQTT" level 4, clean session, keep-alive 0, client id "sb".
const MQTT_CONNECT = Buffer.from([0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x00, 0x00, 0x02, 0x73, 0x62]);
// CONNACK fixed header (§3.2): type 2, remaining length 2.
const CONNACK = [0x20, 0x02];
const ACTIVE_WAIT_MS = 1000;

export interface Identity {
  service?: string;
  identifiedBy?: string;
  banner?: string;
  /** Personal-data canary categories the port's first words held (said to anyone who connects). */
  canaries?: string[];
}

async function exchange(ctx: ProbeContext, port: number, payload: Buffer | string, ms: number): Promise<Buffer> {
  const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  try {
    sock.write(payload);
    return await readBanner(sock, ms, 4096);
  } finally {
    sock.destroy();
  }
}

export async function identifyPort(ctx: ProbeContext, port: number, bannerWaitMs: number): Promise<Identity> {
  const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  let banner: Buffer;
  try {
    banner = await readBanner(sock, bannerWaitMs);
  } finally {
    sock.destroy();
  }
  const said = canariesIn(ctx.device, banner.toString('latin1'));
  const canaries = said.length ? { canaries: said } : {};
  const passive = identifyBanner(banner);
  if (passive) return { service: passive.service, identifiedBy: passive.how, banner: printable(banner), ...canaries };

  const tlsSock = await ctx.connector.tcp(port, { signal: ctx.signal });
  const answer = await askHello(tlsSock, clientHello('TLSv1.2', suitesFor('TLSv1.2'), ctx.scope.host), ACTIVE_WAIT_MS);
  if (answer.kind === 'server-hello') return { service: 'tls', identifiedBy: `TLS ServerHello (${answer.version})` };
  if (answer.kind === 'alert') return { service: 'tls', identifiedBy: `TLS alert ${answer.description} to a ClientHello` };

  const http = await exchange(ctx, port, `HEAD / HTTP/1.0\r\nHost: ${ctx.scope.host}\r\n\r\n`, ACTIVE_WAIT_MS);
  const status = http.toString('latin1').match(/^HTTP\/1\.[01] (\d{3})/);
  const httpSaid = canariesIn(ctx.device, http.toString('latin1'));
  // An RTSP server (a camera's stream) answers an HTTP request in its own protocol.
  const rtsp = http.toString('latin1').match(/^RTSP\/1\.0 (\d{3})/);
  if (rtsp) return { service: 'rtsp', identifiedBy: `RTSP ${rtsp[1]} to HEAD /` };
  if (status)
    return { service: 'http', identifiedBy: `HTTP ${status[1]} to HEAD /`, banner: printable(http, 80), ...(httpSaid.length ? { canaries: httpSaid } : {}) };

  const mqtt = await exchange(ctx, port, MQTT_CONNECT, ACTIVE_WAIT_MS);
  if (mqtt[0] === CONNACK[0] && mqtt[1] === CONNACK[1]) return { service: 'mqtt', identifiedBy: `MQTT CONNACK (return code ${mqtt[3]})` };
  return { service: 'unknown', identifiedBy: 'silent to a banner wait, TLS, HTTP and MQTT', ...canaries };
}
