/**
 * plaintext: which services would carry credentials or a session in clear:
 * telnet, FTP and open shells, HTTP logins (Basic, password forms) on plain
 * HTTP, and MQTT on a port without TLS. HTTP that only redirects to HTTPS is
 * recorded as such.
 */
import { mapLimit } from '../harness/limiter';
import { z } from 'zod';
import { defineFact } from '../harness/facts';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { openPorts } from './ports';
import { httpRequest } from './util/http';

export const CARRIES = ['credentials', 'session', 'content', 'redirect-to-https', 'nothing', 'unknown'] as const;
export type Carries = (typeof CARRIES)[number];

/** What one open port carries in clear; `unknown` when it could not be told. */
export const PlaintextServiceFact = defineFact(
  'plaintext-service',
  z.object({ port: z.number().int(), protocol: z.string(), carries: z.enum(CARRIES), how: z.string(), path: z.string().optional() }),
  (f) => (f.carries === 'unknown' ? `port ${f.port}: ${f.how}` : null),
);
export type PlaintextFact = z.infer<typeof PlaintextServiceFact.schema>;

/** The open TCP ports the probe looked at. */
export const PlaintextScanFact = defineFact('plaintext-scan', z.object({ open: z.array(z.number().int()) }));

const PLAIN_BY_SERVICE: Record<string, { carries: Carries; how: string }> = {
  telnet: { carries: 'credentials', how: 'telnet: the login and the whole session cross unencrypted' },
  shell: { carries: 'session', how: 'a shell over a plain TCP connection' },
  ftp: { carries: 'credentials', how: 'FTP USER/PASS cross unencrypted' },
  mqtt: { carries: 'credentials', how: 'MQTT without TLS: CONNECT carries the username and password in clear' },
};

/** What a port may identify as, given what it was declared as; other declarations are not compared. */
const CONSISTENT: Record<string, string[]> = {
  http: ['http'],
  https: ['tls', 'http'],
  ssh: ['ssh'],
  telnet: ['telnet', 'shell'],
  mqtt: ['mqtt'],
  mqtts: ['tls', 'mqtt'],
  ftp: ['ftp'],
  ftps: ['tls', 'ftp'],
  tls: ['tls'],
};

async function httpFacts(ctx: ProbeContext, port: number): Promise<PlaintextFact[]> {
  const paths = ['/', ...ctx.device.auth.filter((a) => a.port === port && a.path).map((a) => a.path as string)];
  const out: PlaintextFact[] = [];
  for (const path of [...new Set(paths)]) {
    let res;
    try {
      res = await httpRequest(ctx, { port, path, maxBytes: 64 * 1024 });
    } catch (err) {
      // A request that got no answer saw nothing, which is not the same as nothing being there.
      out.push({ port, protocol: 'http', path, carries: 'unknown', how: `no answer: ${(err as Error).message}` });
      continue;
    }
    const location = String(res.headers.location ?? '');
    const challenge = String(res.headers['www-authenticate'] ?? '');
    const body = res.body.toString('latin1');
    if (res.status >= 300 && res.status < 400 && /^https:\/\//i.test(location))
      out.push({ port, protocol: 'http', path, carries: 'redirect-to-https', how: `HTTP ${res.status} to ${location}` });
    else if (res.status === 401 && /^basic/i.test(challenge))
      out.push({
        port,
        protocol: 'http',
        path,
        carries: 'credentials',
        how: `HTTP Basic login (${challenge}) on plain HTTP: the password crosses base64-encoded, not encrypted`,
      });
    else if (res.status === 401 && /^digest/i.test(challenge))
      out.push({
        port,
        protocol: 'http',
        path,
        carries: 'content',
        how: `HTTP Digest login on plain HTTP (the password is hashed, the session is not encrypted)`,
      });
    else if (res.status >= 300 && res.status < 400 && location)
      out.push({
        port,
        protocol: 'http',
        path,
        carries: 'content',
        how: `HTTP ${res.status} to ${location} (recorded, not followed: starbench contacts only the target)`,
      });
    else if (/<input[^>]+type\s*=\s*["']?password/i.test(body))
      out.push({ port, protocol: 'http', path, carries: 'credentials', how: 'a password form served over plain HTTP' });
    else out.push({ port, protocol: 'http', path, carries: 'content', how: `HTTP ${res.status}: serves content rather than redirecting to HTTPS` });
  }
  return out;
}

export const plaintextProbe: Probe = {
  id: 'plaintext',
  title: 'Services that would carry credentials or sessions in clear text',
  needs: ['host'],
  facts: [PlaintextServiceFact, PlaintextScanFact],
  dependsOn: ['tcp-ports'],
  clauses: ['EN 303 645 5.5-1', 'EN 303 645 5.5-6', 'TS 103 701 5.5-1-2'],
  async run(ctx) {
    const open = openPorts(ctx);
    const declared = new Map(ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => [s.port, s.protocol]));
    const facts: PlaintextFact[] = [];
    const httpPorts: number[] = [];
    for (const r of open) {
      // What the port said beats what was declared; a declaration fills in for a silent port.
      const said = r.service && r.service !== 'unknown' ? r.service : undefined;
      const decl = declared.get(r.port);
      const service = said ?? decl;
      if (!service) {
        facts.push({ port: r.port, protocol: 'unknown', carries: 'unknown', how: 'the port said nothing that identifies it, and nothing is declared for it' });
        continue;
      }
      if (said && decl && CONSISTENT[decl] && !CONSISTENT[decl].includes(said)) {
        facts.push({ port: r.port, protocol: decl, carries: 'unknown', how: `declared ${decl}, but it answered as ${said}: what it carries cannot be told` });
        continue;
      }
      if (!said && !PLAIN_BY_SERVICE[service] && service !== 'http') {
        facts.push({ port: r.port, protocol: service, carries: 'unknown', how: `declared ${service}, but the port said nothing that confirms it` });
        continue;
      }
      if (service === 'http') httpPorts.push(r.port);
      else if (PLAIN_BY_SERVICE[service]) facts.push({ port: r.port, protocol: service, ...PLAIN_BY_SERVICE[service] });
    }
    for (const list of await mapLimit(httpPorts, ctx.connector.slots.limit, (p) => httpFacts(ctx, p))) facts.push(...list);
    const observations: Observation[] = facts.map((f) => ({
      kind: 'plaintext-service',
      port: f.port,
      protocol: f.protocol,
      summary: `${f.protocol} ${f.port}${f.path ? ` ${f.path}` : ''}: ${f.how}`,
      data: { ...f },
    }));
    observations.push({ kind: 'plaintext-scan', summary: `looked at ${open.length} open TCP ports`, data: { open: open.map((r) => r.port) } });
    return { observations };
  },
};
