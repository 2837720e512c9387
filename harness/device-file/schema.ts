/**
 * The device file (our IXIT): the one description of a device under test.
 * Parsed and validated once at the boundary (load.ts); everything inside the
 * harness trusts the `DeviceFile` type. Unknown keys are errors so that a
 * typo in a declaration (`lockoutAftr`) cannot silently weaken a test.
 */
import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { reviewAnswerSchema } from '../review';
import { assetSchema, equipmentSchema, interfaceSchema, mechanismSchema } from '../decision-tree';

const port = z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535');
const nonEmpty = z.string().trim().min(1, 'must not be empty');

/** A bench (and campaign) name: what a device file's `bench:`, `--bench` and a campaign's name may be. */
export const BENCH_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const SERVICE_PROTOCOLS = [
  'ssh',
  'telnet',
  'http',
  'https',
  'mqtt',
  'mqtts',
  'ftp',
  'ftps',
  'rtsp',
  'coap',
  'coaps',
  'upnp',
  'ssdp',
  'mdns',
  'snmp',
  'dns',
  'onvif',
  'modbus',
  'tls',
  'other',
] as const;

export const AUTH_SCHEMES = ['password', 'publickey', 'basic', 'digest', 'form', 'client-certificate', 'keyboard-interactive'] as const;
export const BRUTE_FORCE_CLAIMS = ['none', 'lockout', 'delay', 'rate-limit', 'high-entropy'] as const;

/** "1-1024,8080,8443" — ports and inclusive ranges. */
export const portRangeSpec = z
  .string()
  .regex(/^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$/, 'must be a list of ports and ranges such as "1-1024,8080"')
  .refine((s) => parsePortSpec(s) !== null, 'ports must be 1-65535 and ranges low-high');

export function parsePortSpec(spec: string): number[] | null {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const [a, b] = part.split('-').map((x) => Number(x.trim()));
    const lo = a;
    const hi = b ?? a;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) return null;
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out].sort((x, y) => x - y);
}

const service = z.strictObject({
  port,
  protocol: z.enum(SERVICE_PROTOCOLS),
  transport: z.enum(['tcp', 'udp']).default('tcp'),
  description: z.string().optional(),
});

/** A placeholder a person still has to fill in (`starbench init` writes them); `run` refuses any. */
export const TODO_PREFIX = 'TODO';
export const isTodo = (v: unknown): v is string => typeof v === 'string' && v.trimStart().startsWith(TODO_PREFIX);

const credential = z
  .strictObject({
    username: nonEmpty.optional().describe('the account name; optional for a client certificate alone'),
    password: z.string().optional(),
    privateKey: z.string().optional().describe('path to an SSH private key file, relative to the device file'),
    certificate: z.string().optional().describe('path to a TLS client certificate (PEM), relative to the device file; with key'),
    key: z.string().optional().describe("path to the TLS client certificate's private key (PEM), relative to the device file"),
  })
  .refine((c) => (c.certificate === undefined) === (c.key === undefined), 'a TLS client certificate needs both certificate and key')
  .refine(
    (c) => c.password !== undefined || c.privateKey !== undefined || c.certificate !== undefined,
    'needs a password, a privateKey (SSH) or a certificate and key (TLS)',
  )
  .refine((c) => c.username !== undefined || (c.password === undefined && c.privateKey === undefined), 'needs a username for a password or an SSH key')
  // A certificate-only credential has no account name: '' everywhere inside.
  .transform((c) => ({ ...c, username: c.username ?? '' }));

const authMechanism = z
  .strictObject({
    port,
    protocol: z.enum(SERVICE_PROTOCOLS),
    scheme: z.enum(AUTH_SCHEMES),
    path: z.string().startsWith('/', 'must start with "/"').optional(),
    credential: nonEmpty.optional().describe('name of the lab credential that logs in here'),
    bruteForce: z.enum(BRUTE_FORCE_CLAIMS).optional(),
    lockoutAfter: z.number().int().min(1).max(1000).optional(),
    lockoutSeconds: z.number().int().min(0).max(86400).optional(),
    lockoutGroup: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ -')
      .optional()
      .describe('logins that share one failed-login counter on the device (default: one group for the whole device)'),
    factoryPassword: z
      .string()
      .min(1)
      .optional()
      .describe("this unit's factory password as printed on its label or in its manual: a high-entropy claim is judged on it, never on the lab's password"),
    /** For scheme: form — how the login form is posted and how success shows. */
    form: z
      .strictObject({
        usernameField: nonEmpty,
        passwordField: nonEmpty,
        extraFields: z.record(z.string(), z.string()).optional(),
        successText: z.string().min(1).optional().describe('text only a logged-in page contains'),
        failureText: z.string().min(1).optional().describe('text the page shows after a wrong password'),
        successRedirect: z.string().min(1).optional().describe('Location prefix of the redirect after a good login'),
      })
      .refine(
        (f) => f.successText !== undefined || f.successRedirect !== undefined,
        'needs successText or successRedirect: starbench does not guess what a successful login looks like',
      )
      .optional(),
  })
  .refine((a) => a.scheme !== 'form' || a.form !== undefined, {
    message: 'scheme: form needs form: { usernameField, passwordField, successText or successRedirect }',
    path: ['form'],
  })
  .refine((a) => a.bruteForce !== 'lockout' || a.lockoutAfter !== undefined, {
    message: 'bruteForce: lockout needs lockoutAfter (how many failures lock the account)',
    path: ['lockoutAfter'],
  });

const httpAction = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  method: z.enum(['GET', 'POST', 'PUT']).default('GET'),
  credential: nonEmpty.optional(),
  jsonPath: z.string().optional().describe('dotted path of the version in a JSON response'),
  field: z.string().optional().describe('form field name for an uploaded image'),
  auth: z
    .enum(['basic', 'digest'])
    .optional()
    .describe('how the credential is sent: HTTP Basic or Digest (RFC 7616); default: digest when auth: declares digest on this port, else basic'),
  body: z
    .string()
    .max(64 * 1024)
    .optional()
    .describe('the request body (a credential change: "old={{old}}&new={{new}}"); placeholders are encoded for the content type'),
  contentType: z
    .string()
    .min(1)
    .optional()
    .describe('Content-Type of body (default: application/json when it starts with { or [, else application/x-www-form-urlencoded)'),
});
const regex = z
  .string()
  .min(1)
  .refine((r) => {
    try {
      new RegExp(r);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');
const sshAction = z.strictObject({
  command: nonEmpty,
  credential: nonEmpty,
  port: port.default(22),
  expect: regex.optional().describe('regular expression the output must match; its first group is the value read (a version)'),
});
const serialAction = z.strictObject({
  send: z.string(),
  expect: regex.optional().describe('regular expression to wait for; its first group is the value read (a version)'),
});
// `operator: "Hold the reset button for 10 s"` is shorthand for `operator: { instructions: … }`.
const operatorAction = z.union([nonEmpty.transform((instructions) => ({ instructions })), z.strictObject({ instructions: nonEmpty })]);

export const action = z
  .strictObject({
    http: httpAction.optional(),
    ssh: sshAction.optional(),
    serial: serialAction.optional(),
    operator: operatorAction.optional(),
  })
  .refine((a) => [a.http, a.ssh, a.serial, a.operator].filter((x) => x !== undefined).length === 1, 'must have exactly one of http, ssh, serial, operator');

/** Placeholders a credential change may name: the value being replaced, the new one, and the account's user name. */
export const PLACEHOLDERS = ['old', 'new', 'username'] as const;
const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** Where a credential change names its values: the http URL and body, the ssh command, the serial line, the operator's instructions. */
export function placeholderFields(a: Pick<Action, 'http' | 'ssh' | 'serial' | 'operator'>): string[] {
  return [a.http?.url, a.http?.body, a.ssh?.command, a.serial?.send, a.operator?.instructions].filter((x): x is string => x !== undefined);
}

/**
 * How the lab credential `account` is changed (JC-STAR S1.1-03, EN 303 645 5.1-4): an action whose
 * {{old}} and {{new}} placeholders starbench fills with the current and a fresh random value; it
 * runs again with the two swapped to change it back.
 */
const credentialChange = z
  .strictObject({
    account: nonEmpty.describe('the name, under credentials:, of the lab credential the action changes'),
    settleSeconds: z.number().min(0).max(600).default(3).describe('wait after the change before the old and new values are tried'),
    holdSeconds: z
      .number()
      .min(0)
      .max(600)
      .default(10)
      .describe('how long the change must hold: both values are tried again this much later (after the change, and after the restart)'),
    http: httpAction.optional(),
    ssh: sshAction.optional(),
    serial: serialAction.optional(),
    operator: operatorAction.optional(),
  })
  .refine((a) => [a.http, a.ssh, a.serial, a.operator].filter((x) => x !== undefined).length === 1, 'must have exactly one of http, ssh, serial, operator')
  .superRefine((a, ctx) => {
    const fields = placeholderFields(a);
    const named = fields.flatMap((f) => [...f.matchAll(PLACEHOLDER)].map((m) => m[1]));
    for (const n of named)
      if (!(PLACEHOLDERS as readonly string[]).includes(n))
        ctx.addIssue({ code: 'custom', message: `unknown placeholder {{${n}}}: use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}` });
    if (!a.operator && !named.includes('new'))
      ctx.addIssue({ code: 'custom', message: 'names no {{new}}: the action must say where the new value goes (URL, body, command or serial line)' });
  });

/** A destination the maker declares: a DNS name (`*.vendor.example` for its subdomains), an address or a CIDR block, with an optional `:port`. */
export const DESTINATION = /^(?:\*\.)?[A-Za-z0-9_.-]+(?:\/\d{1,3})?(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?:\/\d{1,3})?(?::\d{1,5})?$/;

/**
 * What the device sends on its own (JC-STAR S1.1-12, EN 303 645 5.5/6, EN 18031 SCM): a passive capture on the bench
 * interface the device is behind, and, opt-in, a responder that answers the device's own TLS connections with a
 * certificate it cannot trust.
 */
const traffic = z.strictObject({
  interface: z
    .string()
    .regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'must be a network interface name of this bench host (e.g. eth1, enx00e04c680001, br-lab)')
    .describe('the bench interface the device is behind (a NIC or VLAN of its own): captured, and where the MITM responder listens'),
  mac: z
    .string()
    .regex(/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/, 'must be a MAC address like 02:00:5e:10:00:01')
    .optional()
    .describe("the device's MAC address: captured too (DHCP, ARP, IPv6 from addresses the device file does not name)"),
  seconds: z.number().min(2).max(600).default(30).describe('how long to watch the device (at most 10 minutes)'),
  maxMegabytes: z.number().min(1).max(500).default(20).describe('the capture stops at this size'),
  provoke: z
    .array(z.union([z.enum(['restart', 'update-check']), action]))
    .max(2)
    .default([])
    .describe(
      "what to do at the start of the capture to make the device talk: restart it (devices phone home at boot), ask its version (a firmware check), or an action (the app's refresh: http, ssh, serial or operator)",
    ),
  declaredDestinations: z
    .array(z.string().regex(DESTINATION, 'must be a DNS name (*.vendor.example for subdomains), an address or CIDR, with an optional :port'))
    .max(256)
    .optional()
    .describe('where the maker says the device connects (its cloud, NTP, DNS): anything else it contacts is undeclared'),
  secrets: z
    .record(z.string(), nonEmpty)
    .default({})
    .describe(
      'values the device sends that must never cross in clear (its cloud token, a pairing key), by name; the lab credentials and canaries are searched too',
    ),
  mitm: z
    .boolean()
    .default(false)
    .describe("answer the device's own TLS connections with an untrusted certificate (comms.certificate-validation): breaks its cloud link while it runs"),
  mitmSeconds: z.number().min(2).max(600).optional().describe('how long the responder answers (default: traffic.seconds)'),
});
export type TrafficDecl = z.output<typeof traffic>;

export const deviceFileSchema = z
  .strictObject({
    device: z.strictObject({
      name: nonEmpty,
      model: z.string().optional(),
      firmware: z.union([z.string(), z.number()]).transform(String).optional(),
      vendor: z.string().optional(),
    }),
    target: z.strictObject({
      host: nonEmpty.describe('the only host the harness may contact (IP address or name)'),
      host6: z
        .string()
        .refine((a) => isIPv6(a.replace(/^\[|\]$/g, '')) && !/^fe80:/i.test(a.replace(/^\[/, '')), 'must be a global IPv6 address literal (not link-local)')
        .transform((a) => a.replace(/^\[|\]$/g, '').toLowerCase())
        .optional()
        .describe("the device's own IPv6 address: scanned and probed too, inside the same scope (never an address only learned from the network)"),
      serial: z
        .strictObject({
          path: nonEmpty,
          baudRate: z.number().int().positive().default(115200),
        })
        .optional(),
    }),
    services: z.array(service).default([]),
    credentials: z.record(z.string(), credential).default({}),
    /** Factory defaults the maker documents (manual, label): tried before the shipped lists. */
    defaultCredentials: z
      .array(z.strictObject({ username: z.string(), password: z.string(), note: z.string().optional() }))
      .max(200, 'at most 200 declared defaults')
      .default([]),
    auth: z.array(authMechanism).default([]),
    update: z
      .strictObject({
        version: action.optional(),
        install: action.optional(),
        images: z
          .strictObject({
            genuine: nonEmpty.optional(),
            genuineVersion: z
              .union([z.string(), z.number()])
              .transform(String)
              .optional()
              .describe('the version the genuine image carries: update.capability fails when the device does not move to it'),
            older: nonEmpty.optional(),
            signature: z
              .strictObject({
                offset: z.number().int().min(0),
                length: z
                  .number()
                  .int()
                  .min(1)
                  .max(1 << 20),
              })
              .optional()
              .describe('where the signature sits in the genuine image: the unsigned variant zeroes these bytes'),
            tamperOffset: z.number().int().min(0).optional().describe('byte of the genuine image to flip (default: the middle of the file)'),
          })
          .optional(),
        settleSeconds: z
          .number()
          .min(0)
          .max(600)
          .default(2)
          .describe('wait after an install before polling the version (a device may answer once more before it reboots)'),
        stableSeconds: z
          .number()
          .min(0)
          .max(600)
          .default(3)
          .describe('how long the version must hold still after an image before it is judged (a device that installs a few seconds after answering)'),
      })
      .optional(),
    reset: action.optional(),
    credentialChange: credentialChange.optional(),
    restart: action
      .optional()
      .describe('how to restart the device (an ssh or serial reboot command, an http call, the operator): the serial probe captures the boot it causes'),
    power: z
      .strictObject({
        cycle: z
          .strictObject({
            url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
            method: z.enum(['GET', 'POST', 'PUT']).default('POST'),
          })
          .describe("the bench power controller's request that switches the device off and on again"),
      })
      .optional()
      .describe('the bench power controller: the one host besides the target a device file may name, used only to power-cycle the device'),
    vulnerabilities: z
      .strictObject({
        feeds: z
          .array(nonEmpty)
          .max(64)
          .default([])
          .describe(
            'vulnerability feeds the lab keeps (NVD CVE JSON 2.0, .json or .json.gz; OSV records, a file or a folder), relative to the device file; never downloaded',
          ),
        reports: z.array(nonEmpty).max(64).default([]).describe('scan reports to import as evidence: a Greenbone/OpenVAS XML report, nuclei JSONL output'),
      })
      .optional()
      .describe('what exposure.known-vulnerabilities matches the services against (also --vuln-feed)'),
    traffic: traffic
      .optional()
      .describe('what the device sends on its own: a capture on the bench interface it is behind (comms.outbound-*, privacy.destinations)'),
    personalData: z
      .strictObject({
        declared: z.array(nonEmpty).default([]),
        canaries: z.record(z.string(), nonEmpty).default({}),
        readBack: z
          .array(action)
          .max(16)
          .default([])
          .describe('actions that show the enrolled personal data with lab credentials (the positive control of the privacy and reset tests)'),
      })
      .optional(),
    documentation: z
      .strictObject({
        vulnerabilityDisclosure: z.string().optional(),
        supportPeriodEnd: z
          .union([z.string(), z.date()])
          .transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d))
          .optional(),
        privacyNotice: z.string().optional(),
        passwordChange: z.string().optional(),
        updateProcedure: z.string().optional(),
        deletionInstructions: z.string().optional().describe('where the user is told how to erase their data (EN 303 645 5.11-3)'),
        externalSensing: z.string().optional().describe('where the sensors (camera, microphone, location) are documented (EN 303 645 5.8-3)'),
        securityContact: z.string().optional().describe('a contact for security reports, if separate from the disclosure policy'),
        pstiStatement: z.string().optional().describe('reference of the UK PSTI statement of compliance (JC-STAR ★1 accepts it for S1.1-02, -05 and -16)'),
        sbom: z.string().optional().describe('where the list of software components and versions (SBOM) is (EN 18031 GEC-1)'),
        userNotification: z.string().optional().describe('where the user is told of changes that affect personal-data protection (EN 18031 UNM-1)'),
      })
      .optional(),
    assets: z
      .array(assetSchema)
      .max(500)
      .optional()
      .describe('EN 18031: what the device protects (security, network, privacy, financial), where it is stored and which ports it crosses'),
    mechanisms: z
      .array(mechanismSchema)
      .max(500)
      .optional()
      .describe('EN 18031: the security mechanisms (authentication, update, secure communication…) and the assets each protects'),
    interfaces: z
      .array(interfaceSchema)
      .max(500)
      .optional()
      .describe('EN 18031: declarations per interface (network ones are the declared services, by port; user and machine ones by id)'),
    resilience: z
      .strictObject({
        enabled: z.boolean().describe('opt-in: the load can knock the device over'),
        rate: z.number().int().min(1).max(200).describe('new connections per second during the burst (at most 200)'),
        seconds: z.number().int().min(1).max(30).describe('how long each burst lasts (at most 30 s)'),
        malformed: z.boolean().default(true).describe('each connection also sends a malformed request (random bytes, an over-long line)'),
        ports: z.array(z.number().int().min(1).max(65535)).max(32).optional().describe('declared TCP ports to load (default: every declared TCP service)'),
        recoverySeconds: z.number().int().min(1).max(600).default(60).describe('how long the services may take to answer again'),
        stableSeconds: z.number().int().min(1).max(120).default(5).describe('how long they must keep answering to count as recovered'),
      })
      .optional()
      .describe('EN 18031 RLM-1: a bounded burst of connections and malformed requests per service, then every declared service must answer again'),
    equipment: equipmentSchema.optional().describe('EN 18031: what kind of equipment it is (toy, network equipment, sensors), its logging and boot'),
    surveillance: z
      .strictObject({
        certifiedRun: z
          .string()
          .min(1)
          .describe(
            "the run folder of the certified unit (its journal.jsonl, or report.json), relative to the device file: campaign report diffs this unit's run against it",
          ),
      })
      .optional()
      .describe('a unit bought for a surveillance spot check: what it is compared with'),
    bench: z
      .string()
      .regex(BENCH_NAME, 'must be a bench name: letters, digits, . _ - (up to 63)')
      .optional()
      .describe(
        'the bench (campaign agent) that can reach this device; a device with a serial console or a traffic interface must name one in a campaign. A plain run ignores it',
      ),
    review: z
      .array(reviewAnswerSchema)
      .max(5000)
      .default([])
      .describe('document-review answers: each names a profile, a requirement, met / not-met / not-applicable, and the reference it rests on'),
    scan: z
      .strictObject({
        tcp: portRangeSpec.optional().describe('TCP ports to scan beyond the declared ones (default: all, 1-65535)'),
        udp: portRangeSpec.optional().describe('UDP ports to probe beyond the declared ones (default: SNMP 161, SSDP 1900, mDNS 5353, CoAP 5683)'),
        scanner: z.enum(['auto', 'nmap', 'builtin']).default('auto').describe('auto: nmap when installed, else the built-in connect scanner'),
        bannerWaitMs: z.number().int().min(50).max(10000).default(500).describe('how long to wait for a service to speak first'),
        versionDetection: z
          .boolean()
          .default(true)
          .describe('nmap -sV for services that announce no version themselves (exposure.known-vulnerabilities), when nmap is installed'),
        versionProbeWaitMs: z
          .number()
          .int()
          .min(200)
          .max(10000)
          .optional()
          .describe(
            "default 1500: how long nmap -sV waits for an answer to each of its service probes (nmap's own 5-6 s is for internet paths; a bench is on the device's link)",
          ),
        versionSeconds: z
          .number()
          .int()
          .min(1)
          .max(300)
          .optional()
          .describe(
            'default 12: the most nmap -sV may spend on one port; a port it has not finished by then is unknown, and exposure.known-vulnerabilities cannot pass',
          ),
      })
      .optional(),
    limits: z
      .strictObject({
        connections: z.number().int().min(1).max(64).default(4),
        connectTimeoutMs: z.number().int().min(50).max(60000).default(2000),
        probeTimeoutSeconds: z.number().positive().max(3600).default(120),
        deadlineSeconds: z.number().positive().max(86400).default(900),
        credentialBudget: z.number().int().min(1).max(10000).default(100),
        actionTimeoutSeconds: z.number().positive().max(3600).default(60).describe('one device action (an upload, a reset request)'),
        deviceReturnSeconds: z.number().positive().max(3600).default(180).describe('how long to wait for the device to answer again after an install or reset'),
        phaseSeconds: z
          .strictObject({
            ordinary: z.number().positive().max(86400).optional().describe('budget of the ordinary probes, side by side (scan, logins, TLS, SSH…)'),
            disruptive: z
              .number()
              .positive()
              .max(86400)
              .optional()
              .describe('budget of the disruptive probes, one at a time (serial, brute force, update, reset)'),
          })
          .optional()
          .describe('a budget per phase, within the run deadline: when one runs out its probes stop (timed-out) and the next phase still runs'),
      })
      .default({
        connections: 4,
        connectTimeoutMs: 2000,
        probeTimeoutSeconds: 120,
        deadlineSeconds: 900,
        credentialBudget: 100,
        actionTimeoutSeconds: 60,
        deviceReturnSeconds: 180,
      }),
  })
  .superRefine((d, ctx) => {
    const seen = new Map<string, number>();
    d.services.forEach((s, i) => {
      const key = `${s.transport}/${s.port}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['services', i, 'port'], message: `duplicates services[${first}] (${key}); declare each port once` });
      } else seen.set(key, i);
    });
    const cc = d.credentialChange;
    if (cc && !isTodo(cc.account)) {
      const cred = d.credentials[cc.account];
      if (!cred)
        ctx.addIssue({ code: 'custom', path: ['credentialChange', 'account'], message: `names credential "${cc.account}", which is not under credentials:` });
      else if (cred.password === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['credentialChange', 'account'],
          message: `credential "${cc.account}" has no password: only a password can be changed and tried`,
        });
    }
    d.resilience?.ports?.forEach((p, i) => {
      if (!d.services.some((s) => s.transport === 'tcp' && s.port === p))
        ctx.addIssue({ code: 'custom', path: ['resilience', 'ports', i], message: `port ${p} is not a declared TCP service` });
    });
    const assetIds = new Set<string>();
    d.assets?.forEach((a, i) => {
      if (assetIds.has(a.id)) ctx.addIssue({ code: 'custom', path: ['assets', i, 'id'], message: `asset "${a.id}" is declared twice` });
      assetIds.add(a.id);
      a.communicated?.forEach((c, j) => {
        if (typeof c === 'number' && !d.services.some((s) => s.port === c))
          ctx.addIssue({ code: 'custom', path: ['assets', i, 'communicated', j], message: `port ${c} is not under services:` });
      });
    });
    // A claim the rest of the file contradicts is refused: the tree would take whichever it reads first.
    const says = (v: unknown): 'yes' | 'no' | undefined =>
      typeof v === 'boolean' ? (v ? 'yes' : 'no') : v && typeof v === 'object' && 'answer' in v ? (v as { answer: 'yes' | 'no' }).answer : undefined;
    d.assets?.forEach((a, i) => {
      if (says(a.reachable) === 'no' && a.communicated?.length)
        ctx.addIssue({
          code: 'custom',
          path: ['assets', i, 'reachable'],
          message: `says no, but the asset crosses port ${a.communicated.join(', ')} (communicated:)`,
        });
    });
    const interfaceIds = new Set<string>();
    d.interfaces?.forEach((f, i) => {
      if (f.port !== undefined && !d.services.some((s) => s.port === f.port))
        ctx.addIssue({ code: 'custom', path: ['interfaces', i, 'port'], message: `port ${f.port} is not under services:` });
      const id = f.id ?? `port ${f.port}`;
      if (interfaceIds.has(id)) ctx.addIssue({ code: 'custom', path: ['interfaces', i], message: `interface ${id} is declared twice` });
      interfaceIds.add(id);
      const crossing = (d.assets ?? []).filter((a) => f.port !== undefined && a.communicated?.includes(f.port)).map((a) => a.id);
      if (says(f.carriesAssets) === 'no' && crossing.length)
        ctx.addIssue({
          code: 'custom',
          path: ['interfaces', i, 'carriesAssets'],
          message: `says no, but ${crossing.join(', ')} cross port ${f.port} (assets[].communicated)`,
        });
    });
    const mechanismIds = new Set<string>();
    d.mechanisms?.forEach((m, i) => {
      if (mechanismIds.has(m.id)) ctx.addIssue({ code: 'custom', path: ['mechanisms', i, 'id'], message: `mechanism "${m.id}" is declared twice` });
      mechanismIds.add(m.id);
      const login = m.port !== undefined ? d.auth.find((x) => x.port === m.port) : undefined;
      if (login?.bruteForce === 'none' && says(m.bruteForce) === 'yes')
        ctx.addIssue({ code: 'custom', path: ['mechanisms', i, 'bruteForce'], message: `says yes, but auth: declares bruteForce: none on port ${m.port}` });
      m.assets.forEach((a, j) => {
        if (!assetIds.has(a)) ctx.addIssue({ code: 'custom', path: ['mechanisms', i, 'assets', j], message: `names asset "${a}", which is not under assets:` });
      });
    });
    d.auth.forEach((a, i) => {
      if (a.credential !== undefined && !isTodo(a.credential) && !(a.credential in d.credentials)) {
        ctx.addIssue({ code: 'custom', path: ['auth', i, 'credential'], message: `names credential "${a.credential}", which is not under credentials:` });
      }
    });
  });

export type DeviceFileInput = z.input<typeof deviceFileSchema>;
export type DeviceFileData = z.output<typeof deviceFileSchema>;
export type Action = z.output<typeof action>;
export type CredentialChange = z.output<typeof credentialChange>;
export type ServiceDecl = DeviceFileData['services'][number];
export type AuthDecl = DeviceFileData['auth'][number];

/** A validated device file plus where it came from. */
export interface DeviceFile extends DeviceFileData {
  /** Absolute path of the YAML file, or '<inline>'. */
  sourcePath: string;
  /** SHA-256 of the file's text: `resume` refuses a device file that changed since the run. */
  sha256?: string;
  /** Folder that relative paths in the file resolve against. */
  baseDir: string;
}
