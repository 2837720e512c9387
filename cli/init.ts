/**
 * `starbench init HOST [--serial PATH] [--out device.yaml] [--ports SPEC]`:
 * what a maker or lab engineer runs first on a real device. The run's own
 * scan and identification (same scope rule: HOST only), the login
 * mechanisms each service shows a client without credentials, then a draft
 * device file: every service found declared, every login seen, and `TODO`
 * placeholders for what only a person knows. The draft validates against the
 * schema; `starbench run` refuses it until no TODO is left.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Document, isMap, isScalar, type Pair } from 'yaml';
import { parseDeviceFile } from '../harness/device-file/load';
import { parsePortSpec } from '../harness/device-file/schema';
import { StarbenchError } from '../harness/errors';
import { mapLimit } from '../harness/limiter';
import { probeContext } from './standalone';
import type { Observation, ProbeContext, ProbeResult } from '../harness/types';
import { EXIT } from '../harness/verdict';
import { tcpPortsProbe, type PortRecord } from '../probes/ports';
import { udpServicesProbe, type UdpRecord } from '../probes/udp';
import { discoverService, type DiscoveredService } from '../probes/discover';
import { seconds, type ParsedArgs } from './args';
import type { CliIO } from './io';

const TODO = {
  name: "TODO: the product's name as sold",
  model: 'TODO: the model number',
  firmware: 'TODO: the firmware version the device runs (label, app or web UI)',
  vendor: 'TODO: the maker',
  description:
    'TODO: what this service is for, as the user documentation says; delete the entry if the documentation does not name it (an undeclared service fails exposure.undeclared-services)',
  username: "TODO: the lab account's user name",
  password: "TODO: the lab account's password",
  credential: 'TODO: the key under credentials: that logs in here (delete this line if the lab has no account here)',
  successText: 'TODO: text that only a logged-in page shows',
  version: 'TODO: how to read the firmware version: an http action ({ url, jsonPath }), an ssh command, a serial send/expect, or operator instructions',
  install: 'TODO: how to install an image: an http upload ({ url, method: POST, credential }), an ssh command reading stdin, or operator instructions',
  genuine: 'TODO: path of a genuine image newer than the running firmware, beside this file',
  older: 'TODO: path of an older genuine image (anti-rollback test), beside this file',
  reset: 'TODO: how to factory-reset the device: an http/ssh/serial action, or operator instructions ("Hold RESET for 10 s")',
  declared: 'TODO: each kind of personal data the user is told the device handles (email, location, wifi-credentials, …)',
  canary: 'TODO: a unique value the lab enrolled on the device (e.g. hanako.canary@example.jp as the owner e-mail)',
  readBack: 'TODO: an http, ssh or serial action that shows the enrolled data with the lab credential (the control of the privacy and reset tests)',
  disclosure: 'TODO: URL of the vulnerability disclosure policy',
  supportPeriodEnd: 'TODO: the published end of the security-update period (YYYY-MM-DD)',
  privacyNotice: 'TODO: URL of the privacy notice',
  certificate: "TODO: path of the lab's TLS client certificate (PEM), beside this file",
  certificateKey: "TODO: path of that certificate's private key (PEM), beside this file",
  privateKey: "TODO: path of the lab's SSH private key, beside this file",
};

const DEFAULT_DEADLINE_MS = 600_000;

const UDP_PROTOCOL: Record<string, string> = { snmp: 'snmp', ssdp: 'ssdp', mdns: 'mdns', coap: 'coap' };

interface Draft {
  services: Array<{ port: number; protocol: string; transport?: 'udp'; description: string; seen: string }>;
  auth: Array<{ entry: Record<string, unknown>; seen: string }>;
  credentials: Record<string, Record<string, string>>;
  remarks: string[];
}

function loginLine(s: DiscoveredService): string {
  const parts: string[] = [];
  if (s.sshMethods) parts.push(`SSH methods: ${s.sshMethods.join(', ') || 'none'}`);
  for (const l of s.logins)
    parts.push(
      `${l.scheme}${l.realm !== undefined ? ` realm "${l.realm}"` : ''} at ${l.path}${l.form ? ` (fields ${l.form.usernameField ?? '?'} / ${l.form.passwordField})` : ''}`,
    );
  if (s.mqttAnonymous !== undefined)
    parts.push(s.mqttAnonymous === 0 ? 'MQTT accepts an anonymous client (CONNACK 0)' : `MQTT refuses an anonymous client (CONNACK ${s.mqttAnonymous})`);
  if (s.clientCertificate) parts.push('TLS requires a client certificate');
  if (s.prompt === 'shell' && !/shell prompt/.test(s.identifiedBy)) parts.push('a shell prompt with no login');
  if (s.prompt === 'login') parts.push('a login prompt');
  if (s.redirectsTo) parts.push(`redirects to ${s.redirectsTo}`);
  return parts.join('; ');
}

function draftFrom(found: DiscoveredService[]): Draft {
  const d: Draft = { services: [], auth: [], credentials: {}, remarks: [] };
  const needPassword = (): void => {
    d.credentials.admin ??= { username: TODO.username, password: TODO.password };
  };
  for (const s of found) {
    const logins = loginLine(s);
    d.services.push({
      port: s.port,
      protocol: s.protocol,
      ...(s.transport === 'udp' ? { transport: 'udp' as const } : {}),
      description: TODO.description,
      seen: [s.identifiedBy, logins, ...s.notes].filter(Boolean).join('; '),
    });
    const base = { port: s.port, protocol: s.protocol };
    const claim = 'bruteForce: what the maker claims (none, lockout with lockoutAfter/lockoutSeconds, delay, rate-limit, high-entropy)';
    if (s.sshMethods) {
      if (s.sshMethods.includes('password') || s.sshMethods.includes('keyboard-interactive')) {
        needPassword();
        d.auth.push({
          entry: { ...base, scheme: s.sshMethods.includes('password') ? 'password' : 'keyboard-interactive', credential: TODO.credential },
          seen: `offered: ${s.sshMethods.join(', ')}; ${claim}`,
        });
      }
      // Key logins are declared too when offered, beside a password login or alone.
      if (s.sshMethods.includes('publickey')) {
        d.credentials['lab-key'] ??= { username: TODO.username, privateKey: TODO.privateKey };
        d.auth.push({ entry: { ...base, scheme: 'publickey', credential: TODO.credential }, seen: `offered: ${s.sshMethods.join(', ')}` });
      }
    }
    for (const l of s.logins) {
      needPassword();
      const entry: Record<string, unknown> = { ...base, path: l.path, scheme: l.scheme, credential: TODO.credential };
      if (l.form)
        entry.form = {
          usernameField: l.form.usernameField ?? 'TODO: the user-name field of the form',
          passwordField: l.form.passwordField,
          successText: TODO.successText,
        };
      d.auth.push({ entry, seen: `${l.scheme}${l.realm !== undefined ? ` realm "${l.realm}"` : ''}; ${claim}` });
    }
    if (s.clientCertificate) {
      d.credentials['client-cert'] ??= { certificate: TODO.certificate, key: TODO.certificateKey };
      d.auth.push({ entry: { ...base, scheme: 'client-certificate', credential: TODO.credential }, seen: 'the TLS handshake needs a client certificate' });
    } else if (s.mqttAnonymous !== undefined && s.mqttAnonymous !== 0) {
      needPassword();
      d.auth.push({
        entry: { ...base, scheme: 'password', credential: TODO.credential },
        seen: `anonymous CONNECT refused (CONNACK ${s.mqttAnonymous}); ${claim}`,
      });
    }
    if ((s.protocol === 'telnet' && s.prompt === 'login') || s.protocol === 'ftp') {
      needPassword();
      d.auth.push({ entry: { ...base, scheme: 'password', credential: TODO.credential }, seen: `${s.protocol} login; ${claim}` });
    }
    if (s.prompt === 'shell') d.remarks.push(`port ${s.port} gives a shell prompt with no login: starbench run will test it (auth.unauthenticated-access)`);
    if (s.mqttAnonymous === 0) d.remarks.push(`port ${s.port}: the MQTT broker accepts anonymous clients`);
  }
  return d;
}

function keyPair(doc: Document, key: string): Pair | undefined {
  const contents = doc.contents;
  return isMap(contents) ? (contents.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair | undefined) : undefined;
}

function commentKey(doc: Document, key: string, text: string): void {
  const pair = keyPair(doc, key);
  if (pair && isScalar(pair.key))
    pair.key.commentBefore = text
      .split('\n')
      .map((l) => ` ${l}`)
      .join('\n');
}

/** The draft as YAML, with a comment beside everything a person has to decide. */
export function draftYaml(host: string, opts: { serial?: string; ports?: string; udp?: string; found: DiscoveredService[]; when: string }): string {
  const d = draftFrom(opts.found);
  const value: Record<string, unknown> = {
    device: { name: TODO.name, model: TODO.model, firmware: TODO.firmware, vendor: TODO.vendor },
    target: { host, ...(opts.serial ? { serial: { path: opts.serial, baudRate: 115200 } } : {}) },
    services: d.services.map(({ seen: _seen, ...s }) => s),
    credentials: Object.keys(d.credentials).length > 0 ? d.credentials : { admin: { username: TODO.username, password: TODO.password } },
    auth: d.auth.map((a) => a.entry),
    update: {
      version: { operator: TODO.version },
      install: { operator: TODO.install },
      images: { genuine: TODO.genuine, older: TODO.older },
    },
    reset: { operator: TODO.reset },
    personalData: { declared: [TODO.declared], canaries: { email: TODO.canary }, readBack: [{ operator: TODO.readBack }] },
    documentation: { vulnerabilityDisclosure: TODO.disclosure, supportPeriodEnd: TODO.supportPeriodEnd, privacyNotice: TODO.privacyNotice },
    ...(opts.ports || opts.udp ? { scan: { ...(opts.ports ? { tcp: opts.ports } : {}), ...(opts.udp ? { udp: opts.udp } : {}) } } : {}),
  };
  const doc = new Document(value);
  doc.commentBefore = [
    ` Draft device file written by \`starbench init ${host}\` on ${opts.when}.`,
    ' Everything below the services was seen on the device; every TODO value is for a person to fill in',
    ' (or delete): `starbench run` refuses this file, naming each line, until none is left.',
    ' Schema: `starbench schema device`. Bench guide: README, "Testing real hardware".',
    ...d.remarks.map((r) => ` Seen: ${r}`),
  ].join('\n');
  d.services.forEach((s, i) => {
    const node = doc.getIn(['services', i], true) as { commentBefore?: string } | undefined;
    if (node) node.commentBefore = ` seen: ${s.seen}`;
  });
  d.auth.forEach((a, i) => {
    const node = doc.getIn(['auth', i], true) as { commentBefore?: string } | undefined;
    if (node) node.commentBefore = ` ${a.seen}`;
  });
  if (opts.serial) {
    const serial = doc.getIn(['target', 'serial'], true) as { comment?: string } | undefined;
    if (serial) serial.comment = ' check the baud rate: the boot log is readable text only at the right one (115200 and 57600 are common)';
  }
  commentKey(
    doc,
    'credentials',
    'The lab accounts: starbench logs in with them to prove a login works (masked in every output).\nA TLS client certificate is { certificate: PATH, key: PATH }; an SSH key is { username, privateKey: PATH }.',
  );
  commentKey(doc, 'auth', "Every login seen. Add bruteForce (the maker's claim) where the documentation makes one.");
  commentKey(
    doc,
    'update',
    'Actions are http, ssh, serial or operator (a person at the bench is asked; --non-interactive makes those checks not-tested).\nsignature: { offset: N, length: N } says where the signature sits in the genuine image (the unsigned test zeroes it).',
  );
  commentKey(doc, 'personalData', 'Enrol canaries on the device before the run (owner e-mail, location, Wi-Fi key): they are searched for everywhere.');
  return doc.toString({ lineWidth: 0 });
}

async function scan(
  host: string,
  file: string,
  opts: { serial?: string; ports?: string; udp?: string; scanner?: string; signal: AbortSignal },
  io: CliIO,
): Promise<DiscoveredService[]> {
  const seed = parseDeviceFile(
    JSON.stringify({
      device: { name: 'init' },
      target: { host },
      scan: { ...(opts.ports ? { tcp: opts.ports } : {}), ...(opts.udp ? { udp: opts.udp } : {}), ...(opts.scanner ? { scanner: opts.scanner } : {}) },
    }),
    file,
  );
  const context = async (deps: Record<string, ProbeResult> = {}): Promise<ProbeContext> => ({
    ...(await probeContext(seed, deps)),
    signal: opts.signal,
    progress: (m: string) => io.err(`starbench: ${m}\n`),
  });
  const ctx = await context();
  const tcp = await tcpPortsProbe.run(ctx);
  const observations: Observation[] = tcp.observations;
  const open = observations
    .filter((o) => o.kind === 'tcp-port')
    .map((o) => o.data as unknown as PortRecord)
    .filter((r) => r.state === 'open');
  const summary = observations.find((o) => o.kind === 'tcp-scan');
  if (summary?.data.aborted) io.err(`starbench: ${String(summary.data.aborted)}\n`);
  const withDeps = await context({ 'tcp-ports': { probe: 'tcp-ports', status: 'completed', observations, evidence: [], durationMs: 0 } });
  io.err(`starbench: ${open.length} open TCP port(s); asking each how it logs in\n`);
  const found = await mapLimit(open, ctx.connector.slots.limit, (r) => discoverService(withDeps, r));
  const udp = await udpServicesProbe.run(ctx);
  for (const o of udp.observations.filter((x) => x.kind === 'udp-port')) {
    const r = o.data as unknown as UdpRecord;
    if (r.state === 'open')
      found.push({
        port: r.port,
        transport: 'udp',
        protocol: UDP_PROTOCOL[r.service ?? ''] ?? 'other',
        identifiedBy: `UDP answer${r.service ? ` (${r.service})` : ''}`,
        logins: [],
        notes: [],
      });
  }
  return found.sort((a, b) => a.port - b.port || a.transport.localeCompare(b.transport));
}

export async function initCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [host, ...extra] = args.positionals.slice(1);
  if (!host || extra.length > 0)
    throw new StarbenchError('USAGE', 'starbench init takes one host: starbench init HOST [--serial PATH] [--out device.yaml] [--ports SPEC]');
  const v = args.values;
  const out = path.resolve(v.out ?? 'device.yaml');
  if (existsSync(out) && !v.force) throw new StarbenchError('USAGE', `${out} exists; choose another --out or pass --force to overwrite it`);
  for (const [name, spec] of [
    ['ports', v.ports],
    ['udp-ports', v['udp-ports']],
  ] as const) {
    if (spec !== undefined && parsePortSpec(spec) === null)
      throw new StarbenchError('USAGE', `--${name} must be ports and ranges such as "1-1024,8080", got "${spec}"`);
  }
  if (v.scanner !== undefined && !['auto', 'nmap', 'builtin'].includes(v.scanner))
    throw new StarbenchError('USAGE', `--scanner takes auto, nmap or builtin, got "${v.scanner}"`);
  const serial = v.serial !== undefined ? path.resolve(v.serial) : undefined;
  if (serial && !existsSync(serial))
    throw new StarbenchError('USAGE', `--serial ${serial} does not exist (a USB-UART adapter is usually /dev/ttyUSB0; see starbench doctor)`);
  // One bound for the whole discovery: a device that drips or never answers cannot hold init.
  const deadlineMs = seconds(v.deadline, 'deadline') ?? DEFAULT_DEADLINE_MS;
  const ctl = new AbortController();
  const stop = (): void => ctl.abort();
  io.signal?.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(stop, deadlineMs);
  let found: DiscoveredService[];
  try {
    found = await scan(host, out, { serial, ports: v.ports, udp: v['udp-ports'], scanner: v.scanner, signal: ctl.signal }, io);
  } catch (err) {
    if (!ctl.signal.aborted) throw err;
    found = [];
  } finally {
    clearTimeout(timer);
    io.signal?.removeEventListener('abort', stop);
  }
  if (ctl.signal.aborted) {
    io.err(
      `starbench: init stopped after ${Math.round(deadlineMs / 1000)} s${io.signal?.aborted ? ' (interrupted)' : ' (--deadline)'}; no draft written: a draft from half a scan would leave services out\n`,
    );
    return io.signal?.aborted ? EXIT.interrupted : EXIT.incomplete;
  }
  if (found.length === 0) {
    io.err(`starbench: nothing on ${host} answered; no draft written (is the device on, and on this bench's network? starbench doctor ${host} checks)\n`);
    return EXIT.incomplete;
  }
  const text = draftYaml(host, { serial, ports: v.ports, udp: v['udp-ports'], found, when: new Date().toISOString().slice(0, 10) });
  // The draft must be a device file: validated exactly as run will, except for its placeholders.
  parseDeviceFile(text, out, undefined, { allowTodo: true });
  writeFileSync(out, text);
  for (const s of found) io.err(`  ${s.transport}/${s.port} ${s.protocol}: ${[s.identifiedBy, loginLine(s)].filter(Boolean).join('; ')}\n`);
  const todo = (text.match(/\bTODO:/g) ?? []).length;
  io.out(`draft: ${out} (${found.length} service(s); ${todo} TODO value(s) to fill in before starbench run)\n`);
  return EXIT.ok;
}
