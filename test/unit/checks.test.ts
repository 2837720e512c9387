/**
 * Every check's judge, on hand-built typed facts, through the harness's own
 * judgeCheck (so the no-evidence-no-pass guard applies as in a run): each
 * verdict a check can give, and the unknown cases that must never pass — a
 * scan that stopped early, a version that could not be read, a channel that
 * could not be searched. No socket, no process.
 */
import { judgeCheck } from '../../harness/judge';
import type { DeviceFileInput } from '../../harness/device-file/schema';
import type { FactKind, FactRef, ProbeResult, UnitKeys } from '../../harness/types';
import { deviceKeys } from '../../profiles/checks/crypto-unique-device-keys';
import type { Verdict } from '../../harness/verdict';
import { CHECKS } from '../../profiles/checks';
import { PROBES } from '../../probes';
import { BruteForceFactKind, NoPasswordLoginFact, type BruteForceFact } from '../../probes/brute-force';
import { LoginAttemptsFact, LoginUnreachableFact, type LoginAttempts } from '../../probes/credentials';
import { PersonalDataChannelFact, PersonalDataSweepFact, type DataChannel } from '../../probes/personal-data';
import { PlaintextScanFact, PlaintextServiceFact } from '../../probes/plaintext';
import { TcpPortFact, TcpScanFact, type PortRecord } from '../../probes/ports';
import { ResetFact, type ResetFacts } from '../../probes/reset';
import { SerialConsoleFact, type SerialFacts } from '../../probes/serial';
import { SshServiceFact } from '../../probes/ssh';
import { TlsServiceFact } from '../../probes/tls';
import { UdpPortFact, UdpScanFact } from '../../probes/udp';
import { UnauthenticatedFact, UnauthenticatedScanFact } from '../../probes/unauthenticated';
import { UpdateSequenceFact, type UpdateFacts, type UpdateStep } from '../../probes/update';
import {
  CredentialChangeFact,
  RestartPersistenceFact,
  type CredentialChangeFacts,
  type InterfaceLogins,
  type LoginResult,
  type RestartFacts,
} from '../../probes/credential-change';
import { ServiceVersionFact, VulnerabilityMatchFact, VulnerabilitySourceFact, type ServiceVersion } from '../../probes/vulnerabilities';
import { IdentityScanFact, IdentitySeenFact, IdentitySourceFact, firmwarePattern, modelPattern, visibleText } from '../../probes/identification';
import type { ActionRecord } from '../../probes/util/actions';
import { deviceFrom } from '../helpers/device';

type Fact = [FactKind<never>, unknown];
/** A fact of a declared kind, typed by its schema. */
const fact = <T>(kind: FactKind<T>, data: T): Fact => [kind as FactKind<never>, data];

function res(probe: string, facts: Fact[], extra: Partial<ProbeResult> = {}): ProbeResult {
  return {
    probe,
    status: 'completed',
    startedAt: new Date().toISOString(),
    durationMs: 10,
    observations: facts.map(([k, data]) => ({ kind: k.kind, summary: k.kind, data: data as Record<string, unknown> })),
    evidence: [],
    ...extra,
  };
}
const skipped = (probe: string): ProbeResult => res(probe, [], { status: 'skipped', reason: 'not declared' });
const failed = (probe: string): ProbeResult => res(probe, [], { status: 'failed', reason: 'boom' });
const timedOut = (probe: string): ProbeResult => res(probe, [], { status: 'timed-out', reason: 'slow' });

const BASE: DeviceFileInput = {
  device: { name: 'unit' },
  target: { host: '198.18.9.2' },
  services: [{ port: 22, protocol: 'ssh' }],
  personalData: { declared: ['email'], canaries: { email: 'hanako.unit@example.jp' } },
};

function judge(id: string, results: ProbeResult[], device: DeviceFileInput = BASE): { verdict: Verdict; rationale: string; basis?: FactRef[] } {
  const r = judgeCheck(id, { device: deviceFrom(device), checks: CHECKS, probes: PROBES, results: new Map(results.map((x) => [x.probe, x])), reveal: false });
  return { verdict: r.verdict, rationale: r.rationale, basis: r.basis };
}

// ---- service discovery -------------------------------------------------------
const scan = (over: Partial<ReturnType<typeof TcpScanFact.schema.parse>> = {}): Fact =>
  fact(TcpScanFact, { scanner: 'nmap', spec: '1-65535', planned: 65535, scanned: 65535, open: [22], closed: 65534, filtered: 0, unreachable: 0, ...over });
const port = (p: Partial<PortRecord> & { port: number }): Fact =>
  fact(TcpPortFact, { state: 'open', declared: true, service: 'ssh', identifiedBy: 'banner', ...p });
const tcp = (...facts: Fact[]): ProbeResult => res('tcp-ports', facts.length ? facts : [port({ port: 22 }), scan()]);
const tcpAborted = (): ProbeResult =>
  res('tcp-ports', [
    port({ port: 22, state: 'unreachable' }),
    scan({ aborted: 'none of the 1 declared TCP ports answered (unreachable)', scanned: 1, open: [] }),
  ]);
const udp = (...facts: Fact[]): ProbeResult => res('udp-services', [...facts, fact(UdpScanFact, { ports: [161], open: [], silent: [161], unreachable: [] })]);

describe('exposure.undeclared-services', () => {
  const id = 'exposure.undeclared-services';
  it('pass: every open port declared, UDP asked', () => expect(judge(id, [tcp(), udp()]).verdict).toBe('pass'));
  it('fail: an undeclared shell on 2323', () =>
    expect(judge(id, [tcp(port({ port: 22 }), port({ port: 2323, declared: false, service: 'shell' }), scan()), udp()])).toMatchObject({
      verdict: 'fail',
      rationale: expect.stringContaining('TCP 2323'),
    }));
  it('fail: an undeclared UDP answer', () =>
    expect(judge(id, [tcp(), udp(fact(UdpPortFact, { port: 161, state: 'open', declared: false, service: 'snmp' }))]).verdict).toBe('fail'));
  it('inconclusive: the scan stopped early (nothing answered)', () => expect(judge(id, [tcpAborted(), udp()]).verdict).toBe('inconclusive'));
  it('inconclusive: the scan left no summary of what it scanned', () => expect(judge(id, [tcp(port({ port: 22 })), udp()]).rationale).toMatch(/no summary/));
  it('inconclusive: declared ports all closed, so an empty scan says nothing', () =>
    expect(judge(id, [tcp(port({ port: 22, state: 'closed' }), scan({ open: [] })), udp()]).verdict).toBe('inconclusive'));
  it('error: discovery failed', () => expect(judge(id, [failed('tcp-ports'), udp()]).verdict).toBe('error'));
  it('never pass when UDP timed out', () => expect(judge(id, [tcp(), timedOut('udp-services')]).verdict).toBe('inconclusive'));
});

// ---- default credentials -------------------------------------------------------
const attempts = (over: Partial<LoginAttempts> = {}): Fact =>
  fact(LoginAttemptsFact, {
    adapter: 'ssh',
    protocol: 'ssh',
    port: 22,
    source: 'declared service',
    list: 'Mirai',
    listSize: 70,
    planned: 70,
    tried: 70,
    errors: 0,
    labLogins: 0,
    control: 'rejected',
    accepted: [],
    complete: true,
    stopReason: 'exhausted',
    ...over,
  });

describe('auth.default-credentials', () => {
  const id = 'auth.default-credentials';
  it('pass: every entry refused, control refused', () => expect(judge(id, [tcp(), res('credentials', [attempts()])]).verdict).toBe('pass'));
  it('fail: a Mirai entry accepted', () =>
    expect(
      judge(id, [
        tcp(),
        res('credentials', [
          attempts({ accepted: [{ list: 'Mirai', entry: 3, username: 'root', password: 'xc••••' }], stopReason: 'accepted', complete: false }),
        ]),
      ]).verdict,
    ).toBe('fail'));
  it('fail: accepts a random pair, so accepts every default', () =>
    expect(judge(id, [tcp(), res('credentials', [attempts({ stopReason: 'accepts-anything', control: 'accepted', complete: false })])]).verdict).toBe('fail'));
  it('inconclusive: stopped at the lockout budget', () =>
    expect(judge(id, [tcp(), res('credentials', [attempts({ tried: 4, complete: false, stopReason: 'lockout-budget' })])]).rationale).toMatch(
      /not every login was fully tested/,
    ));
  it('inconclusive: a declared web login did not answer', () =>
    expect(judge(id, [tcp(), res('credentials', [attempts(), fact(LoginUnreachableFact, { path: '/admin', error: 'timed out' })])]).verdict).toBe(
      'inconclusive',
    ));
  it('inconclusive: errors on every attempt are not refusals', () =>
    expect(judge(id, [tcp(), res('credentials', [attempts({ errors: 70, complete: false, stopReason: 'errors' })])]).verdict).toBe('inconclusive'));
  it('not-applicable: no password login after a complete scan', () => expect(judge(id, [tcp(), res('credentials', [])]).verdict).toBe('not-applicable'));
  it('inconclusive, not n/a: no login found but the scan stopped early', () =>
    expect(judge(id, [tcpAborted(), res('credentials', [])]).verdict).toBe('inconclusive'));
  it('not-tested: the probe was skipped; error: it failed', () => {
    expect(judge(id, [tcp(), skipped('credentials')]).verdict).toBe('not-tested');
    expect(judge(id, [tcp(), failed('credentials')]).verdict).toBe('error');
  });
  it('the guard: a completed probe with no observation at all cannot pass', () =>
    expect(judge(id, [tcp(), res('credentials', [])], { ...BASE }).verdict).not.toBe('pass'));
});

// ---- unauthenticated access ------------------------------------------------------
describe('auth.unauthenticated-access', () => {
  const id = 'auth.unauthenticated-access';
  const asked = fact(UnauthenticatedScanFact, { ports: ['ssh 22', 'http 80'] });
  it('pass: services asked, nothing open', () => expect(judge(id, [tcp(), res('unauthenticated', [asked])]).verdict).toBe('pass'));
  it('fail: a shell without login', () =>
    expect(
      judge(id, [
        tcp(),
        res('unauthenticated', [
          fact(UnauthenticatedFact, { port: 2323, protocol: 'telnet', what: 'shell', where: 'telnet 2323', canaries: [], detail: 'echo printed 5555' }),
          asked,
        ]),
      ]).verdict,
    ).toBe('fail'));
  it('status pages alone are no failure', () =>
    expect(
      judge(id, [
        tcp(),
        res('unauthenticated', [
          fact(UnauthenticatedFact, { port: 80, protocol: 'http', what: 'status', where: 'http 80 /status', canaries: [], detail: 'model and uptime' }),
          asked,
        ]),
      ]).verdict,
    ).toBe('pass'));
  it('inconclusive: a place that could not be checked', () =>
    expect(
      judge(id, [
        tcp(),
        res('unauthenticated', [
          fact(UnauthenticatedFact, { port: 80, protocol: 'http', what: 'status', where: 'http 80', canaries: [], detail: 'could not be checked: timed out' }),
          asked,
        ]),
      ]).verdict,
    ).toBe('inconclusive'));
  it('inconclusive: no open service was asked', () =>
    expect(judge(id, [tcp(), res('unauthenticated', [fact(UnauthenticatedScanFact, { ports: [] })])]).verdict).toBe('inconclusive'));
  it('inconclusive: discovery stopped early', () => expect(judge(id, [tcpAborted(), res('unauthenticated', [asked])]).verdict).toBe('inconclusive'));
});

// ---- brute force ---------------------------------------------------------------
const bf = (over: Partial<BruteForceFact> = {}): Fact =>
  fact(BruteForceFactKind, {
    adapter: 'http-basic',
    protocol: 'https',
    port: 443,
    path: '/admin',
    attempts: [],
    mitigation: 'lockout',
    detail: 'locked after 5',
    labBefore: 'accepted',
    labAfter: 'rejected',
    recoveredAfterS: 31,
    ...over,
  });

describe('auth.brute-force', () => {
  const id = 'auth.brute-force';
  it('pass: locked out and recovered', () => expect(judge(id, [tcp(), res('brute-force', [bf()])]).verdict).toBe('pass'));
  it('fail: 20 wrong passwords at a steady pace', () =>
    expect(judge(id, [tcp(), res('brute-force', [bf({ mitigation: 'none', detail: 'steady ~40 ms' })])]).verdict).toBe('fail'));
  it('pass: no rate limit, but the declared high-entropy factory password holds', () =>
    expect(
      judge(id, [tcp(), res('brute-force', [bf({ mitigation: 'none', claim: 'high-entropy', factoryPasswordBits: 96, factoryPasswordPublic: false })])])
        .verdict,
    ).toBe('pass'));
  it('fail: claims high-entropy, but the factory password is short', () =>
    expect(judge(id, [tcp(), res('brute-force', [bf({ mitigation: 'none', claim: 'high-entropy', factoryPasswordBits: 30 })])]).verdict).toBe('fail'));
  it('fail: claims high-entropy, but the factory password is on a public list, however long', () =>
    expect(
      judge(id, [tcp(), res('brute-force', [bf({ mitigation: 'none', claim: 'high-entropy', factoryPasswordBits: 120, factoryPasswordPublic: true })])])
        .verdict,
    ).toBe('fail'));
  it("inconclusive: a high-entropy claim is never judged on the lab's own password", () =>
    expect(judge(id, [tcp(), res('brute-force', [bf({ mitigation: 'none', claim: 'high-entropy', labPasswordBits: 128 })])])).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringMatching(/declare the unit's factory password/),
    }));
  it('inconclusive: limited, and the lab credential never worked again', () =>
    expect(judge(id, [tcp(), res('brute-force', [bf({ mitigation: 'rate-limit', recoveredAfterS: undefined })])]).verdict).toBe('inconclusive'));
  it('inconclusive: the first attempt already failed (unknown)', () =>
    expect(judge(id, [tcp(), res('brute-force', [bf({ mitigation: 'unknown', detail: 'connection reset' })])]).verdict).toBe('inconclusive'));
  it('inconclusive: locked out and never recovered within the wait', () =>
    expect(judge(id, [tcp(), res('brute-force', [bf({ recoveredAfterS: undefined })])]).verdict).toBe('inconclusive'));
  it('not-applicable: only key logins, after a complete scan', () =>
    expect(judge(id, [tcp(), res('brute-force', [fact(NoPasswordLoginFact, { detail: 'publickey only' })])]).verdict).toBe('not-applicable'));
  it('inconclusive: no password login found to test', () => expect(judge(id, [tcp(), res('brute-force', [])]).verdict).toBe('inconclusive'));
});

// ---- TLS ------------------------------------------------------------------------
const tlsService = (
  over: {
    accepted?: Partial<Record<'SSLv3' | 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3', boolean | null>>;
    cert?: Record<string, unknown> | null;
    weak?: boolean;
  } = {},
): Fact => {
  const acc = { SSLv3: false, TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true, ...over.accepted };
  const day = 86400000;
  return fact(TlsServiceFact, {
    port: 443,
    versions: Object.fromEntries(
      Object.entries(acc).map(([v, a]) => [
        v,
        { accepted: a, suites: a ? ['TLS_AES_128_GCM_SHA256'] : [], ...(a === null ? { error: 'connection reset' } : {}) },
      ]),
    ) as never,
    weakSuites: over.weak ? [{ version: 'TLSv1.2', suite: 'TLS_RSA_WITH_RC4_128_SHA', why: 'RC4' }] : [],
    ...(over.cert === null
      ? { certificateError: 'connection reset before the certificate' }
      : {
          certificate: {
            subject: 'CN=dev',
            issuer: 'CN=dev',
            keyType: 'rsa',
            keyBits: 2048,
            signatureAlgorithm: 'sha256WithRSAEncryption',
            notBefore: new Date(Date.now() - day).toISOString(),
            notAfter: new Date(Date.now() + 300 * day).toISOString(),
            selfSigned: true,
            matchesTarget: true,
            sha256: 'ab',
            ...over.cert,
          },
        }),
    handshakes: 12,
  });
};

describe('comms.tls', () => {
  const id = 'comms.tls';
  it('pass: TLS 1.2+ only, strong suites, sound certificate', () => expect(judge(id, [tcp(), res('tls', [tlsService()])]).verdict).toBe('pass'));
  it('fail: TLS 1.0 accepted', () => expect(judge(id, [tcp(), res('tls', [tlsService({ accepted: { TLSv1: true } })])]).verdict).toBe('fail'));
  it('fail: RC4 suite', () => expect(judge(id, [tcp(), res('tls', [tlsService({ weak: true })])]).verdict).toBe('fail'));
  it('fail: expired RSA-1024 certificate signed with SHA-1', () =>
    expect(
      judge(id, [tcp(), res('tls', [tlsService({ cert: { keyBits: 1024, signatureAlgorithm: 'sha1WithRSAEncryption', notAfter: '2020-01-01T00:00:00Z' } })])])
        .rationale,
    ).toMatch(/3 TLS weakness/));
  it('inconclusive: a version whose answer could not be read', () =>
    expect(judge(id, [tcp(), res('tls', [tlsService({ accepted: { TLSv1: null } })])]).verdict).toBe('inconclusive'));
  it('inconclusive: no certificate could be read', () => expect(judge(id, [tcp(), res('tls', [tlsService({ cert: null })])]).verdict).toBe('inconclusive'));
  it('not-applicable: no TLS service after a complete scan; inconclusive after an aborted one', () => {
    expect(judge(id, [tcp(), res('tls', [])]).verdict).toBe('not-applicable');
    expect(judge(id, [tcpAborted(), res('tls', [])]).verdict).toBe('inconclusive');
  });
});

// ---- SSH ------------------------------------------------------------------------
const sshService = (over: { hostKeyBits?: number; kexinit?: boolean; enc?: string[] } = {}): Fact =>
  fact(SshServiceFact, {
    port: 22,
    banner: 'SSH-2.0-dropbear_2022.83',
    protocolVersion: '2.0',
    kexinit:
      over.kexinit === false
        ? undefined
        : {
            kex: ['curve25519-sha256'],
            hostKey: ['ssh-ed25519'],
            encryptionClientToServer: over.enc ?? ['aes128-ctr'],
            encryptionServerToClient: over.enc ?? ['aes128-ctr'],
            macClientToServer: ['hmac-sha2-256'],
            macServerToClient: ['hmac-sha2-256'],
            compressionClientToServer: ['none'],
            compressionServerToClient: ['none'],
          },
    hostKeys: [{ algorithm: over.hostKeyBits ? 'ssh-rsa' : 'ssh-ed25519', type: over.hostKeyBits ? 'ssh-rsa' : 'ssh-ed25519', bits: over.hostKeyBits ?? 256 }],
    authMethods: ['publickey'],
    ...(over.kexinit === false ? { error: 'connection closed during KEXINIT' } : {}),
  });

describe('comms.ssh', () => {
  const id = 'comms.ssh';
  it('pass: ed25519, curve25519, AES-CTR, SHA-2', () => expect(judge(id, [tcp(), res('ssh', [sshService()])]).verdict).toBe('pass'));
  it('fail: RSA-1024 host key', () => expect(judge(id, [tcp(), res('ssh', [sshService({ hostKeyBits: 1024 })])]).verdict).toBe('fail'));
  it('fail: CBC ciphers', () => expect(judge(id, [tcp(), res('ssh', [sshService({ enc: ['aes128-cbc', 'aes128-ctr'] })])]).verdict).toBe('fail'));
  it('inconclusive: the KEXINIT was never read', () => expect(judge(id, [tcp(), res('ssh', [sshService({ kexinit: false })])]).verdict).toBe('inconclusive'));
  it('not-applicable: no SSH after a complete scan', () => expect(judge(id, [tcp(), res('ssh', [])]).verdict).toBe('not-applicable'));
});

// ---- plaintext -------------------------------------------------------------------
describe('comms.plaintext', () => {
  const id = 'comms.plaintext';
  const looked = fact(PlaintextScanFact, { open: [22, 80] });
  it('pass: port 80 only redirects to HTTPS', () =>
    expect(
      judge(id, [
        tcp(),
        res('plaintext', [fact(PlaintextServiceFact, { port: 80, protocol: 'http', carries: 'redirect-to-https', how: '301 to https' }), looked]),
      ]).verdict,
    ).toBe('pass'));
  it('fail: a Basic login on plain HTTP', () =>
    expect(
      judge(id, [
        tcp(),
        res('plaintext', [fact(PlaintextServiceFact, { port: 80, protocol: 'http', carries: 'credentials', how: '401 Basic', path: '/admin' }), looked]),
      ]).verdict,
    ).toBe('fail'));
  it('inconclusive: a port that could not be told apart (timeout is not "nothing")', () =>
    expect(
      judge(id, [
        tcp(),
        res('plaintext', [fact(PlaintextServiceFact, { port: 8080, protocol: 'http', carries: 'unknown', how: 'every request timed out' }), looked]),
      ]).verdict,
    ).toBe('inconclusive'));
  it('inconclusive: no open port to look at', () =>
    expect(judge(id, [tcp(), res('plaintext', [fact(PlaintextScanFact, { open: [] })])]).verdict).toBe('inconclusive'));
  it('inconclusive: discovery stopped early', () => expect(judge(id, [tcpAborted(), res('plaintext', [looked])]).verdict).toBe('inconclusive'));
});

// ---- serial console --------------------------------------------------------------
const serial = (over: Partial<SerialFacts> = {}): ProbeResult =>
  res('serial', [
    fact(SerialConsoleFact, {
      path: '/dev/ttyUSB0',
      bytes: 2048,
      countdownOffered: false,
      bootloaderInterrupted: false,
      loginPrompt: true,
      shellWithoutLogin: false,
      secrets: [],
      canaries: [],
      bootObserved: true,
      ...over,
    }),
  ]);

describe('debug.serial-console', () => {
  const id = 'debug.serial-console';
  it('pass: a login prompt, nothing leaked, on a boot watched from its start', () => expect(judge(id, [serial()]).verdict).toBe('pass'));
  it('inconclusive: a login prompt without an observed boot (the bootloader and the boot output are unknown)', () => {
    const j = judge(id, [serial({ bootObserved: false })]);
    expect(j.verdict).toBe('inconclusive');
    expect(j.rationale).toMatch(/declare restart: .* or power\.cycle/);
  });
  it('fail: a shell without login', () => expect(judge(id, [serial({ shellWithoutLogin: true, loginPrompt: false })]).verdict).toBe('fail'));
  it('fail: the Wi-Fi key at boot', () => expect(judge(id, [serial({ secrets: [{ kind: 'wifi_psk=…', where: 'wifi_psk=ca••••' }] })]).verdict).toBe('fail'));
  it('inconclusive: silence (wrong port or baud rate cannot be told from a safe console)', () =>
    expect(judge(id, [serial({ bytes: 0, loginPrompt: false })]).verdict).toBe('inconclusive'));
  it('inconclusive: output, but neither a login nor a shell', () => expect(judge(id, [serial({ loginPrompt: false })]).verdict).toBe('inconclusive'));
  it('not-tested: no UART declared', () => expect(judge(id, [skipped('serial')]).verdict).toBe('not-tested'));
  const restart = {
    action: 'power.cycle',
    via: 'http' as const,
    request: 'POST',
    startedAt: '2026-12-01T00:00:00Z',
    durationMs: 5,
    attempts: 1,
    ok: true,
    clearText: true,
  };
  it('pass: a restart watched with interrupt keys pressed through the boot', () =>
    expect(judge(id, [serial({ restart, interruptKeys: 6 })]).verdict).toBe('pass'));
  it('inconclusive: a restart whose boot reached its prompt before any key was pressed', () => {
    const j = judge(id, [serial({ restart, interruptKeys: 0 })]);
    expect(j.verdict).toBe('inconclusive');
    expect(j.rationale).toMatch(/before an interrupt key could be pressed/);
  });
});

// ---- update ----------------------------------------------------------------------
const action = (ok = true): ActionRecord => ({
  action: 'update.install',
  via: 'http',
  request: 'POST',
  startedAt: '2026-12-01T00:00:00Z',
  durationMs: 5,
  attempts: 1,
  status: ok ? 200 : 403,
  ok,
  clearText: false,
});
const step = (s: UpdateStep['step'], installed: boolean | null, before = '1.0.0', after?: string): UpdateStep => ({
  step: s,
  image: s,
  sha256: 'ab',
  bytes: 10,
  versionBefore: before,
  versionAfter: after ?? (installed === null ? undefined : installed ? `${s}-version` : before),
  install: action(installed !== false),
  installed,
});
const update = (f: Partial<UpdateFacts>): ProbeResult =>
  res('update', [fact(UpdateSequenceFact, { versionStart: '1.0.0', steps: [], notAttempted: [], ...f })]);
const good = [step('tampered', false), step('unsigned', false), step('older', false), step('genuine', true, '1.0.0', '1.0.1')];

describe('update.integrity and update.rollback', () => {
  it("the check decides installed from the versions, not from the probe's reading", () => {
    // A probe that wrote installed: false for an image after which the version moved: the check sees an install.
    const lying = [{ ...step('tampered', true), installed: false }, ...good.slice(1)];
    expect(judge('update.integrity', [update({ steps: lying })]).verdict).toBe('fail');
  });
  it('inconclusive: the tampered upload got no answer at all and the version stayed (it may never have reached the device)', () => {
    const lost = { ...step('tampered', false), install: { ...action(false), status: undefined, error: 'socket hang up' } };
    const r = judge('update.integrity', [update({ steps: [lost, ...good.slice(1)] })]);
    expect(r).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringMatching(/upload got no answer/) });
    // The same for the older image: no rollback pass on an upload nobody answered.
    const lostOlder = { ...step('older', false), install: { ...action(false), status: undefined, error: 'timeout' } };
    expect(judge('update.rollback', [update({ steps: [good[0], good[1], lostOlder, good[3]] })]).verdict).toBe('inconclusive');
    // A refusal that was answered (403) is a refusal.
    expect(judge('update.integrity', [update({ steps: good })]).verdict).toBe('pass');
  });
  it('a pass rests on the steps it names: the harness refuses one whose cited step was not observed, and keeps one whose unknown step it does not cite', () => {
    const real = CHECKS.get('update.integrity')!;
    const device = deviceFrom(BASE);
    const on = (steps: UpdateStep[], basis: FactRef[]) =>
      judgeCheck('update.integrity', {
        device,
        checks: new Map([['update.integrity', { ...real, judge: () => ({ verdict: 'pass' as const, rationale: 'forgetful', findings: [], basis }) }]]),
        probes: PROBES,
        results: new Map([['update', update({ steps })]]),
        reveal: false,
      });
    const noOlderRead = [good[0], good[1], step('older', null), good[3]];
    const cites = (parts: string[]): FactRef[] => parts.map((part) => ({ probe: 'update', kind: 'update-sequence', part }));
    expect(on(noOlderRead, cites(['tampered', 'genuine'])).verdict).toBe('pass');
    expect(on(noOlderRead, cites(['older', 'genuine']))).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringMatching(/no version was read after the older image/),
    });
    // The whole fact rests on every part.
    expect(on(noOlderRead, [{ probe: 'update', kind: 'update-sequence' }]).verdict).toBe('inconclusive');
    // A part the fact does not have.
    expect(on(good, cites(['restore']))).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringMatching(/has no part "restore"/) });
    // The real check names its parts: tampered, unsigned (refused), genuine.
    expect(judge('update.integrity', [update({ steps: good })]).basis).toEqual(cites(['tampered', 'unsigned', 'genuine']));
    expect(judge('update.rollback', [update({ steps: good })]).basis).toEqual(cites(['older', 'genuine']));
  });
  it('pass both: refused tampered, unsigned and older; installed the genuine image', () => {
    expect(judge('update.integrity', [update({ steps: good })]).verdict).toBe('pass');
    expect(judge('update.rollback', [update({ steps: good })]).verdict).toBe('pass');
  });
  it('fail integrity: the tampered image installed', () =>
    expect(judge('update.integrity', [update({ steps: [step('tampered', true), ...good.slice(1)] })]).verdict).toBe('fail'));
  it('fail rollback: the older image installed', () =>
    expect(judge('update.rollback', [update({ steps: [good[0], good[1], step('older', true), good[3]] })]).verdict).toBe('fail'));
  it('inconclusive both: the genuine image was not accepted either (a device that refuses everything proves nothing)', () => {
    const none = [step('tampered', false), step('unsigned', false), step('older', false), step('genuine', false)];
    expect(judge('update.integrity', [update({ steps: none })]).verdict).toBe('inconclusive');
    expect(judge('update.rollback', [update({ steps: none })]).verdict).toBe('inconclusive');
  });
  it('inconclusive: whether the tampered image went in cannot be seen (late install, no version)', () =>
    expect(judge('update.integrity', [update({ steps: [step('tampered', null), ...good.slice(1)] })]).verdict).toBe('inconclusive'));
  it('inconclusive: the version could not be read at all', () =>
    expect(judge('update.integrity', [update({ versionStart: undefined, stopped: 'version action timed out' })]).verdict).toBe('inconclusive'));
  it('not-tested rollback: no older image declared', () =>
    expect(
      judge('update.rollback', [update({ steps: [good[0], good[1], good[3]], notAttempted: [{ step: 'older', why: 'no update.images.older declared' }] })])
        .verdict,
    ).toBe('not-tested'));
  it('not-tested: no install action declared', () => expect(judge('update.integrity', [skipped('update')]).verdict).toBe('not-tested'));
});

// ---- privacy -----------------------------------------------------------------------
const channel = (over: Partial<DataChannel> = {}): DataChannel => ({
  channel: 'https://198.18.9.2/config',
  authenticated: true,
  clearText: false,
  ok: true,
  categories: ['email'],
  detail: 'read',
  ...over,
});
const pd = (...channels: DataChannel[]): ProbeResult =>
  res('personal-data', [
    ...channels.map((c) => fact(PersonalDataChannelFact, c)),
    fact(PersonalDataSweepFact, { channels: channels.length, readBackDeclared: 1 }),
  ]);
const unauth = (...facts: Fact[]): ProbeResult => res('unauthenticated', [...facts, fact(UnauthenticatedScanFact, { ports: ['https 443'] })]);

describe('update.capability', () => {
  const id = 'update.capability';
  it('pass: the genuine image went in (the version moved to it)', () => {
    const r = judge(id, [update({ steps: good })]);
    expect(r).toMatchObject({ verdict: 'pass', rationale: expect.stringContaining('1.0.0 → 1.0.1') });
    expect(r.basis).toEqual([{ probe: 'update', kind: 'update-sequence', part: 'genuine' }]);
  });
  it('fail: the genuine image, declared newer than what runs, never installed; without the declared version that is unknown (it may be the same)', () => {
    const withVersion: DeviceFileInput = { ...BASE, update: { images: { genuine: './g.bin', genuineVersion: '1.0.1' } } };
    expect(judge(id, [update({ steps: [step('genuine', false)] })], withVersion)).toMatchObject({
      verdict: 'fail',
      rationale: expect.stringMatching(/did not install the genuine image 1\.0\.1/),
    });
    expect(judge(id, [update({ steps: [step('genuine', false)] })])).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringContaining('declare update.images.genuineVersion'),
    });
  });
  it('a version that moved down or sideways is not the genuine newer image', () =>
    expect(judge(id, [update({ steps: [step('genuine', true, '1.0.1', '1.0.0')] })]).verdict).toBe('inconclusive'));
  it('inconclusive: no version after the genuine image; not-tested: no genuine image declared', () => {
    expect(judge(id, [update({ steps: [step('genuine', null)] })]).verdict).toBe('inconclusive');
    expect(judge(id, [update({ steps: [], notAttempted: [{ step: 'genuine', why: 'no update.images.genuine declared' }] })]).verdict).toBe('not-tested');
  });
});

describe('privacy.personal-data-exposure', () => {
  const id = 'privacy.personal-data-exposure';
  it('pass: the canary shows only behind authentication and TLS', () => expect(judge(id, [pd(channel()), unauth(), tcp(), udp()]).verdict).toBe('pass'));
  it('fail: readable without credentials', () =>
    expect(
      judge(id, [
        pd(channel()),
        unauth(
          fact(UnauthenticatedFact, {
            port: 80,
            protocol: 'http',
            what: 'personal-data',
            where: 'http 80 /status',
            canaries: ['email'],
            detail: 'owner e-mail',
          }),
        ),
        tcp(),
        udp(),
      ]).verdict,
    ).toBe('fail'));
  it('fail: read with credentials, but over clear text', () =>
    expect(judge(id, [pd(channel({ clearText: true, channel: 'http://198.18.9.2/config' })), unauth(), tcp(), udp()]).verdict).toBe('fail'));
  it('inconclusive: no canary seen anywhere, not even with credentials (the search could not have found it)', () =>
    expect(judge(id, [pd(channel({ categories: [] })), unauth(), tcp(), udp()]).rationale).toMatch(/proves nothing/));
  it('inconclusive: a channel probe that should have searched failed', () =>
    expect(judge(id, [pd(channel()), unauth(), tcp(), failed('udp-services')]).verdict).toBe('inconclusive'));
});

describe('privacy.disclosure', () => {
  const id = 'privacy.disclosure';
  it('pass: every category seen is declared', () => expect(judge(id, [pd(channel()), unauth(), tcp()]).verdict).toBe('pass'));
  it('fail: location seen, not declared', () => expect(judge(id, [pd(channel({ categories: ['email', 'location'] })), unauth(), tcp()]).verdict).toBe('fail'));
  it('fail: nothing declared at all', () =>
    expect(judge(id, [pd(channel())], { ...BASE, personalData: { declared: [], canaries: { email: 'x@example.jp' } } }).verdict).toBe('fail'));
  it('not-tested: no personalData section', () => expect(judge(id, [pd(channel())], { ...BASE, personalData: undefined }).verdict).toBe('not-tested'));
  it('inconclusive: nothing seen anywhere', () => expect(judge(id, [pd(channel({ categories: [] })), unauth(), tcp()]).verdict).toBe('inconclusive'));
});

const reset = (over: Partial<ResetFacts>): ProbeResult =>
  res('reset', [
    fact(ResetFact, {
      before: [channel({ shape: { mediaType: 'application/json', skeleton: ['key:owner'], anchors: ['json:owner.email'] } })],
      reset: { ...action(), action: 'reset' },
      return: { returned: true, afterMs: 3000, polls: 2, how: 'version answered' },
      after: [channel({ categories: [], shape: { mediaType: 'application/json', skeleton: ['key:owner'], anchors: [], present: ['json:owner.email'] } })],
      survived: [],
      ...over,
    }),
  ]);

describe('privacy.data-deletion', () => {
  const id = 'privacy.data-deletion';
  it('pass: seen before, gone after, on the same channel, the same page with the field emptied', () => expect(judge(id, [reset({})]).verdict).toBe('pass'));
  it('inconclusive: the page after the reset no longer has the field that held the data', () =>
    expect(
      judge(id, [reset({ after: [channel({ categories: [], shape: { mediaType: 'application/json', skeleton: ['key:owner'], anchors: [], present: [] } })] })])
        .verdict,
    ).toBe('inconclusive'));
  it('fail: the e-mail survived the reset', () => expect(judge(id, [reset({ after: [channel()], survived: ['email'] })]).verdict).toBe('fail'));
  it("the check decides what survived from the channels, not from the probe's reading", () =>
    expect(judge(id, [reset({ after: [channel()], survived: [] })]).verdict).toBe('fail'));
  it('inconclusive: the reset request was refused (data still there means nothing)', () =>
    expect(judge(id, [reset({ reset: { ...action(false), action: 'reset' }, after: [channel()], survived: ['email'] })]).verdict).toBe('inconclusive'));
  it('inconclusive: the device did not come back', () =>
    expect(judge(id, [reset({ return: { returned: false, afterMs: 180000, polls: 60, how: 'no answer' }, after: [] })]).verdict).toBe('inconclusive'));
  it('inconclusive: after the reset the channel could not be read (a setup page is not "wiped")', () =>
    expect(judge(id, [reset({ after: [channel({ ok: false, categories: [], detail: 'could not read: 200 setup wizard' })] })]).verdict).toBe('inconclusive'));
  it('inconclusive: no canary before the reset, so it was not attempted', () =>
    expect(
      judge(id, [
        reset({
          before: [channel({ categories: [] })],
          reset: undefined,
          return: undefined,
          after: [],
          notAttempted: 'no canary was visible before the reset',
        }),
      ]).verdict,
    ).toBe('inconclusive'));
  it('not-tested: no reset action declared', () => expect(judge(id, [skipped('reset')]).verdict).toBe('not-tested'));
});

/**
 * The harness guard, check by check: take a scenario the check passes (or
 * finds not-applicable), make one fact it cites a look that could not tell,
 * and let the check "forget" — its judge returns the verdict it gave on the
 * clean facts. The harness must refuse it: inconclusive, never pass.
 */
describe('a pass or not-applicable that cites an unknown fact is refused by the harness', () => {
  const statusPage = fact(UnauthenticatedFact, {
    port: 80,
    protocol: 'http',
    what: 'status',
    where: 'http 80 /status',
    canaries: [],
    detail: 'model and uptime',
  });
  const unchecked = fact(UnauthenticatedFact, {
    port: 80,
    protocol: 'http',
    what: 'status',
    where: 'http 80 /status',
    canaries: [],
    detail: 'could not be checked: timed out',
  });
  const asked = fact(UnauthenticatedScanFact, { ports: ['http 80'] });
  const looked = fact(PlaintextScanFact, { open: [22, 80] });
  const cases: Array<{ id: string; verdict: Verdict; clean: ProbeResult[]; unknown: ProbeResult[]; device?: DeviceFileInput }> = [
    {
      id: 'exposure.undeclared-services',
      verdict: 'pass',
      clean: [tcp(), udp()],
      unknown: [tcp(port({ port: 22 }), scan({ aborted: 'the scan stopped after 30 s' })), udp()],
    },
    {
      id: 'auth.default-credentials',
      verdict: 'pass',
      clean: [tcp(), res('credentials', [attempts()])],
      unknown: [tcp(), res('credentials', [attempts({ complete: false, tried: 12, stopReason: 'budget' })])],
    },
    {
      id: 'auth.default-credentials',
      verdict: 'not-applicable',
      clean: [tcp(), res('credentials', [])],
      unknown: [tcp(port({ port: 22 }), scan({ aborted: 'nothing answered' })), res('credentials', [])],
    },
    {
      id: 'auth.unauthenticated-access',
      verdict: 'pass',
      clean: [tcp(), res('unauthenticated', [statusPage, asked])],
      unknown: [tcp(), res('unauthenticated', [unchecked, asked])],
    },
    {
      id: 'auth.brute-force',
      verdict: 'pass',
      clean: [tcp(), res('brute-force', [bf()])],
      unknown: [tcp(), res('brute-force', [bf({ mitigation: 'unknown', detail: 'connection reset at the first attempt' })])],
    },
    {
      id: 'auth.brute-force',
      verdict: 'not-applicable',
      clean: [tcp(), res('brute-force', [fact(NoPasswordLoginFact, {})])],
      unknown: [tcp(port({ port: 22 }), scan({ aborted: 'unreachable' })), res('brute-force', [fact(NoPasswordLoginFact, {})])],
    },
    { id: 'comms.tls', verdict: 'pass', clean: [tcp(), res('tls', [tlsService()])], unknown: [tcp(), res('tls', [tlsService({ accepted: { TLSv1: null } })])] },
    {
      id: 'comms.tls',
      verdict: 'not-applicable',
      clean: [tcp(), res('tls', [])],
      unknown: [tcp(port({ port: 22 }), scan({ aborted: 'unreachable' })), res('tls', [])],
    },
    { id: 'comms.ssh', verdict: 'pass', clean: [tcp(), res('ssh', [sshService()])], unknown: [tcp(), res('ssh', [sshService({ kexinit: false })])] },
    {
      id: 'comms.plaintext',
      verdict: 'pass',
      clean: [tcp(), res('plaintext', [fact(PlaintextServiceFact, { port: 80, protocol: 'http', carries: 'redirect-to-https', how: '301' }), looked])],
      unknown: [
        tcp(),
        res('plaintext', [fact(PlaintextServiceFact, { port: 80, protocol: 'http', carries: 'unknown', how: 'every request timed out' }), looked]),
      ],
    },
    { id: 'debug.serial-console', verdict: 'pass', clean: [serial()], unknown: [serial({ bytes: 0 })] },
    { id: 'update.integrity', verdict: 'pass', clean: [update({ steps: good })], unknown: [update({ steps: [...good.slice(0, 3), step('genuine', null)] })] },
    { id: 'update.rollback', verdict: 'pass', clean: [update({ steps: good })], unknown: [update({ steps: [...good.slice(0, 3), step('genuine', null)] })] },
    {
      id: 'privacy.personal-data-exposure',
      verdict: 'pass',
      clean: [pd(channel()), res('unauthenticated', [statusPage, asked]), tcp(), udp()],
      unknown: [pd(channel()), res('unauthenticated', [unchecked, asked]), tcp(), udp()],
    },
    {
      id: 'privacy.disclosure',
      verdict: 'pass',
      clean: [pd(channel()), tcp()],
      unknown: [pd(channel(), channel({ channel: 'mqtts 8883', ok: false, categories: [], detail: 'not accepted: timeout' })), tcp()],
    },
    {
      id: 'privacy.data-deletion',
      verdict: 'pass',
      clean: [reset({})],
      unknown: [reset({ after: [channel({ ok: false, categories: [], detail: 'could not read' })] })],
    },
  ];

  it.each(cases.map((c) => [`${c.id} (${c.verdict})`, c] as const))('%s', (_name, c) => {
    const real = CHECKS.get(c.id)!;
    const device = deviceFrom(c.device ?? BASE);
    const on = (results: ProbeResult[]) => ({ device, checks: CHECKS, probes: PROBES, results: new Map(results.map((x) => [x.probe, x])), reveal: false });
    const clean = judgeCheck(c.id, on(c.clean));
    expect({ verdict: clean.verdict, rationale: clean.rationale }).toEqual({ verdict: c.verdict, rationale: expect.any(String) });
    expect(clean.basis?.length).toBeGreaterThan(0);
    // A check that forgot the unknown case: the same judgement, whatever the facts say.
    const forgetful = { ...real, judge: () => ({ verdict: clean.verdict, rationale: clean.rationale, findings: [], basis: clean.basis }) };
    const refused = judgeCheck(c.id, { ...on(c.unknown), checks: new Map([[c.id, forgetful]]) });
    expect(refused.verdict).toBe('inconclusive');
    expect(refused.rationale).toMatch(/rests on facts that were not observed|come from a probe that|and there is none/);
    // And the real check, on the same facts, does not pass either.
    expect(judgeCheck(c.id, on(c.unknown)).verdict).not.toBe(c.verdict);
  });

  it('a pass that cites nothing is refused', () => {
    const real = CHECKS.get('comms.ssh')!;
    const bare = { ...real, judge: () => ({ verdict: 'pass' as const, rationale: 'looks fine', findings: [] }) };
    const r = judgeCheck('comms.ssh', {
      device: deviceFrom(BASE),
      checks: new Map([['comms.ssh', bare]]),
      probes: PROBES,
      results: new Map([['ssh', res('ssh', [sshService()])]]),
      reveal: false,
    });
    expect(r).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringMatching(/cites no fact it rests on/) });
  });

  it('a pass that cites a kind its probe does not declare is refused', () => {
    const real = CHECKS.get('comms.ssh')!;
    const wrong = {
      ...real,
      judge: () => ({ verdict: 'pass' as const, rationale: 'looks fine', findings: [], basis: [{ probe: 'ssh', kind: 'tls-service' }] }),
    };
    const r = judgeCheck('comms.ssh', {
      device: deviceFrom(BASE),
      checks: new Map([['comms.ssh', wrong]]),
      probes: PROBES,
      results: new Map([['ssh', res('ssh', [sshService()])]]),
      reveal: false,
    });
    expect(r.rationale).toMatch(/cites tls-service, which probe ssh does not declare/);
  });
});

describe('every check, when its probes did not complete', () => {
  // The one mapping (harness/gate.ts) from a probe that did not finish to a verdict: never pass.
  const cases: Array<[ProbeResult['status'], Verdict]> = [
    ['failed', 'error'],
    ['timed-out', 'inconclusive'],
    ['skipped', 'not-tested'],
    ['cancelled', 'not-tested'],
  ];
  for (const id of [...CHECKS.keys()]) {
    it.each(cases)(`${id}: probes %s → %s`, (status, verdict) => {
      const check = CHECKS.get(id)!;
      const results = check.probes.map((p) => res(p, [], { status, reason: status }));
      expect(judge(id, results).verdict).toBe(verdict);
    });
  }
});

describe('findings of an audit that tried to make checks pass devices that should not', () => {
  it('a dead host with nothing declared: no service is not-applicable when no port answered at all', () => {
    const dead = res('tcp-ports', [scan({ open: [], closed: 0, filtered: 0, unreachable: 65535 })]);
    const bare = { device: { name: 'u' }, target: { host: '198.18.9.2' }, services: [] };
    for (const [id, probe] of [
      ['comms.tls', 'tls'],
      ['comms.ssh', 'ssh'],
      ['auth.default-credentials', 'credentials'],
    ] as const) {
      expect({ id, verdict: judge(id, [dead, res(probe, [])], bare).verdict }).toEqual({ id, verdict: 'inconclusive' });
    }
  });
  it('exposure does not pass when UDP ports or part of the TCP range were unreachable', () => {
    const udpDead = res('udp-services', [fact(UdpScanFact, { ports: [161, 1900], open: [], silent: [], unreachable: [161, 1900] })]);
    expect(judge('exposure.undeclared-services', [tcp(), udpDead]).verdict).toBe('inconclusive');
    expect(judge('exposure.undeclared-services', [tcp(port({ port: 22 }), scan({ closed: 1000, unreachable: 64534 })), udp()]).verdict).toBe('inconclusive');
  });
  it('SSH that offers ssh-dss fails even when the DSA key itself could not be fetched', () => {
    const f = fact(SshServiceFact, {
      port: 22,
      protocolVersion: '2.0',
      kexinit: {
        kex: ['curve25519-sha256'],
        hostKey: ['ssh-ed25519', 'ssh-dss'],
        encryptionClientToServer: ['aes128-ctr'],
        encryptionServerToClient: ['aes128-ctr'],
        macClientToServer: ['hmac-sha2-256'],
        macServerToClient: ['hmac-sha2-256'],
        compressionClientToServer: ['none'],
        compressionServerToClient: ['none'],
      },
      hostKeys: [
        { algorithm: 'ssh-ed25519', type: 'ssh-ed25519', bits: 256 },
        { algorithm: 'ssh-dss', error: 'connection closed' },
      ],
    });
    expect(judge('comms.ssh', [tcp(), res('ssh', [f])]).verdict).toBe('fail');
  });
  it('a reset with no canary seen before it proves nothing (no positive control)', () => {
    expect(judge('privacy.data-deletion', [reset({ before: [channel({ categories: [] })], after: [channel({ categories: [] })] })]).verdict).toBe(
      'inconclusive',
    );
  });
});

describe('device.model-identification', () => {
  const id = 'device.model-identification';
  const cam: DeviceFileInput = { ...BASE, device: { name: 'cam', model: 'SB-CAM-Q', firmware: '3.1.0' } };
  const source = (where: string, read = true): Fact =>
    fact(IdentitySourceFact, { channel: 'web', where, read, ...(read ? { excerpt: 'page' } : { error: 'timed out after 5000 ms' }) });
  const seen = (what: 'model' | 'firmware', where: string): Fact => fact(IdentitySeenFact, { what, channel: 'web', where, context: `… ${what} …` });
  const ident = (...facts: Fact[]): ProbeResult =>
    res('identification', [...facts, fact(IdentityScanFact, { model: 'SB-CAM-Q', looked: facts.length, read: facts.length })]);
  it('pass: the model is shown on the web UI, with where (and the firmware beside it)', () => {
    const r = judge(id, [ident(source('https 443 /'), seen('model', 'https 443 / (HTTP 200)'), seen('firmware', 'https 443 /'))], cam);
    expect(r).toMatchObject({ verdict: 'pass', rationale: expect.stringMatching(/shown in https 443 \/ \(HTTP 200\); firmware 3\.1\.0 shown too/) });
    expect(r.basis).toEqual([{ probe: 'identification', kind: 'identity-seen' }]);
  });
  it('pass even when another place could not be read: the model was seen', () =>
    expect(judge(id, [ident(source('telnet 23 banner', false), seen('model', 'ssh 22 banner'))], cam).verdict).toBe('pass'));
  it('not seen anywhere that was read: not-tested with the label prompt, never fail', () =>
    expect(judge(id, [ident(source('http 80 /'), source('ssh 22 banner'))], cam)).toMatchObject({
      verdict: 'not-tested',
      rationale: expect.stringMatching(/not seen in the 2 place\(s\).*label of the device or its packaging/),
    }));
  it('only the firmware seen: still not the model', () =>
    expect(judge(id, [ident(source('http 80 /'), seen('firmware', 'http 80 /'))], cam).verdict).toBe('not-tested'));
  it('not seen, and a place could not be read: inconclusive', () =>
    expect(judge(id, [ident(source('http 80 /'), source('https 443 /', false))], cam)).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringContaining('https 443 /'),
    }));
  it('nowhere to look (no web UI, banner or discovery answer): not-tested', () =>
    expect(judge(id, [ident()], cam)).toMatchObject({ verdict: 'not-tested', rationale: expect.stringContaining('no web UI') }));
  it('no model declared, or one too short to search for: not-tested', () => {
    expect(judge(id, [ident(source('http 80 /'))]).rationale).toMatch(/declares no device.model/);
    expect(judge(id, [ident(source('http 80 /'))], { ...cam, device: { name: 'x', model: 'C1' } })).toMatchObject({
      verdict: 'not-tested',
      rationale: expect.stringContaining('too short'),
    });
  });
});

describe('auth.credential-change and resilience.restart-persistence', () => {
  const ok = { result: 'accepted' as const, detail: 'HTTP 200' };
  const no = { result: 'refused' as const, detail: 'HTTP 401' };
  const unk = { result: 'unknown' as const, detail: 'locked: HTTP 429' };
  const cam: DeviceFileInput = {
    ...BASE,
    credentials: { admin: { username: 'admin', password: 'lab-pass-8c1e' } },
    auth: [{ port: 443, protocol: 'https', path: '/admin', scheme: 'basic', credential: 'admin' }],
    credentialChange: {
      account: 'admin',
      http: { url: 'https://198.18.9.2/cgi-bin/passwd', method: 'POST', credential: 'admin', body: 'old={{old}}&new={{new}}' },
    },
    restart: { http: { url: 'https://198.18.9.2/cgi-bin/reboot', method: 'POST', credential: 'admin' } },
  };
  const action = (ok = true): ActionRecord => ({
    action: 'credentialChange',
    via: 'http',
    request: 'POST https://198.18.9.2/cgi-bin/passwd (body, 36 B) as credential "admin"',
    startedAt: new Date().toISOString(),
    durationMs: 40,
    attempts: 1,
    ok,
    status: ok ? 200 : 400,
    clearText: false,
  });
  const iface = (over: Partial<InterfaceLogins> = {}): InterfaceLogins => ({
    where: 'https 443 /admin',
    port: 443,
    protocol: 'https',
    before: ok,
    changed: { new: ok, old: no },
    restored: ok,
    ...over,
  });
  const cc = (over: Partial<CredentialChangeFacts> = {}): Fact =>
    fact(CredentialChangeFact, {
      account: 'admin',
      username: 'admin',
      interfaces: [iface()],
      change: action(),
      restored: true,
      restoreDetail: 'back',
      ...over,
    });
  const restart = (over: Partial<RestartFacts> = {}): Fact =>
    fact(RestartPersistenceFact, {
      restart: { ...action(), action: 'restart', request: 'POST https://198.18.9.2/cgi-bin/reboot' },
      returned: { returned: true, afterMs: 21000, polls: 12, how: 'polled the version action', awayAfterMs: 3000, missedPolls: 9, version: '3.1.2' },
      versionBefore: '3.1.2',
      versionAfter: '3.1.2',
      versionHow: 'the update.version action',
      ...over,
    });
  const probe = (...facts: Fact[]): ProbeResult => res('credential-change', facts);
  const C = 'auth.credential-change';
  const R = 'resilience.restart-persistence';

  it('pass: new accepted, old refused on every interface; the basis is the control and the change', () => {
    const r = judge(C, [probe(cc())], cam);
    expect(r).toMatchObject({ verdict: 'pass', rationale: expect.stringContaining('changed back to the lab value') });
    expect(r.basis).toEqual([
      { probe: 'credential-change', kind: 'credential-change', part: 'control' },
      { probe: 'credential-change', kind: 'credential-change', part: 'change' },
    ]);
  });
  it('fail: the old value still logs in on another interface (the web password changed, SSH kept the old one)', () => {
    const ssh = iface({ where: 'ssh 22', port: 22, protocol: 'ssh', changed: { new: no, old: ok } });
    expect(judge(C, [probe(cc({ interfaces: [iface(), ssh] }))], cam)).toMatchObject({
      verdict: 'fail',
      rationale: expect.stringMatching(/ssh 22 still accepts the old value; ssh 22 refuses the new value/),
    });
  });
  it('fail: the device said yes and nothing changed', () =>
    expect(judge(C, [probe(cc({ interfaces: [iface({ changed: { new: no, old: ok } })] }))], cam).verdict).toBe('fail'));
  it('inconclusive: the device refused the change itself and nothing changed (the declared action may be wrong)', () =>
    expect(judge(C, [probe(cc({ change: action(false), interfaces: [iface({ changed: { new: no, old: ok } })] }))], cam)).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringContaining('check credentialChange'),
    }));
  it('inconclusive: a lock instead of a refusal of the old value is not a refusal', () => {
    const r = judge(C, [probe(cc({ interfaces: [iface({ changed: { new: ok, old: unk } })] }))], cam);
    expect(r.verdict).toBe('inconclusive');
    // And a pass resting on it would be refused by the harness: the part is unknown.
    expect(CredentialChangeFact.parts!(CredentialChangeFact.schema.parse(cc({ interfaces: [iface({ changed: { new: ok, old: unk } })] })[1])).change).toMatch(
      /locked/,
    );
  });
  it('inconclusive: without the control (the lab value did not log in before), a refusal proves nothing', () =>
    expect(judge(C, [probe(cc({ interfaces: [iface({ before: unk, changed: { new: no, old: no } })] }))], cam).verdict).toBe('inconclusive'));
  it('not changed back: a high finding names the value the device may hold (masked in reports by the secret registry)', () => {
    const r = judgeCheck(C, {
      device: deviceFrom(cam),
      checks: CHECKS,
      probes: PROBES,
      results: new Map([
        [
          'credential-change',
          probe(cc({ restored: false, restoreDetail: 'the lab value does not log in again on https 443 /admin', currentValue: 'SbAbc123-42' })),
        ],
      ]),
      reveal: false,
    });
    expect(r.verdict).toBe('pass');
    expect(r.findings.find((f) => f.severity === 'high')?.message).toMatch(/could not be changed back .* may now be SbAbc123-42/);
  });
  it('not-tested: no credentialChange declared (the probe skips)', () => expect(judge(C, [skipped('credential-change')], cam).verdict).toBe('not-tested'));

  const afterRestart = (nu: LoginResult, old: LoginResult) => iface({ restarted: { new: nu, old } });
  it('restart pass: went away and came back, changed value kept, old refused, same firmware', () => {
    const r = judge(R, [probe(cc({ interfaces: [afterRestart(ok, no)] }), restart())], cam);
    expect(r).toMatchObject({ verdict: 'pass', rationale: expect.stringMatching(/stopped answering after 3 s.*firmware 3\.1\.2 as before/) });
  });
  it('restart pass on a boot seen on the UART when the device never stopped answering', () =>
    expect(
      judge(
        R,
        [probe(cc({ interfaces: [afterRestart(ok, no)] }), restart({ returned: { returned: true, afterMs: 2000, polls: 1, how: 'polled' }, bootSeen: true }))],
        cam,
      ).verdict,
    ).toBe('pass'));
  it('restart fail: the credential went back to the previous value', () =>
    expect(judge(R, [probe(cc({ interfaces: [afterRestart(no, ok)] }), restart())], cam)).toMatchObject({
      verdict: 'fail',
      rationale: expect.stringContaining('went back to the previous value'),
    }));
  it('restart fail: the firmware version changed (a fallback to the other slot)', () =>
    expect(judge(R, [probe(cc({ interfaces: [afterRestart(ok, no)] }), restart({ versionAfter: '3.1.0' }))], cam).verdict).toBe('fail'));
  it('restart inconclusive: one missed poll is a slow answer, and a refused restart request restarted nothing', () => {
    const slow = restart({ returned: { returned: true, afterMs: 6000, polls: 2, how: 'polled', awayAfterMs: 1000, missedPolls: 1 } });
    expect(judge(R, [probe(cc({ interfaces: [afterRestart(ok, no)] }), slow)], cam)).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringContaining('missed only 1 poll'),
    });
    const refused = restart({ restart: { ...action(false), action: 'restart', request: 'POST /reboot', status: 404 } });
    expect(judge(R, [probe(cc({ interfaces: [afterRestart(ok, no)] }), refused)], cam)).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringContaining('restart request was refused'),
    });
  });
  it('restart inconclusive: no sign the device restarted at all (it never went away, no UART boot)', () =>
    expect(
      judge(
        R,
        [probe(cc({ interfaces: [afterRestart(ok, no)] }), restart({ returned: { returned: true, afterMs: 2000, polls: 1, how: 'polled' }, bootSeen: false }))],
        cam,
      ),
    ).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringContaining('no sign the device restarted') }));
  it('restart inconclusive: never came back, or a login after it could not be judged, or the version not read', () => {
    expect(
      judge(
        R,
        [
          probe(
            cc({ interfaces: [afterRestart(ok, no)] }),
            restart({ returned: { returned: false, afterMs: 180000, polls: 180, how: 'polled', awayAfterMs: 1000 } }),
          ),
        ],
        cam,
      ).verdict,
    ).toBe('inconclusive');
    expect(judge(R, [probe(cc({ interfaces: [afterRestart(unk, no)] }), restart())], cam).verdict).toBe('inconclusive');
    expect(judge(R, [probe(cc({ interfaces: [afterRestart(ok, no)] }), restart({ versionAfter: undefined }))], cam).verdict).toBe('inconclusive');
  });
  it('restart: nothing to restart with is not-tested; a change that never took is inconclusive', () => {
    expect(judge(R, [probe(cc())], { ...cam, restart: undefined }).verdict).toBe('not-tested');
    expect(judge(R, [probe(cc({ interfaces: [iface({ changed: { new: no, old: ok } })] }))], cam)).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringContaining('did not take effect'),
    });
  });
});

describe('exposure.known-vulnerabilities', () => {
  const id = 'exposure.known-vulnerabilities';
  const svc = (over: Partial<ServiceVersion> = {}): Fact =>
    fact(ServiceVersionFact, { port: 22, protocol: 'ssh', product: 'Dropbear SSH', version: '2022.83', how: 'banner: "SSH-2.0-dropbear_2022.83"', ...over });
  const feed = (records = 250000): Fact => fact(VulnerabilitySourceFact, { file: '/feeds/nvdcve-2.0.json.gz', kind: 'feed', format: 'nvd-json-2.0', records });
  const vulns = (...facts: Fact[]): ProbeResult => res('known-vulnerabilities', facts);
  it('pass: identified versions match nothing in a non-empty feed; a service with no version is named, not hidden', () => {
    const r = judge(id, [tcp(), vulns(svc(), svc({ port: 80, protocol: 'http', product: undefined, version: undefined, how: 'no Server header' }), feed())]);
    expect(r).toMatchObject({
      verdict: 'pass',
      rationale: expect.stringMatching(
        /Dropbear SSH 2022\.83 \(ssh 22\) match nothing in 1 feed\(s\) of 250000 records; not matched, announcing no version: http 80/,
      ),
    });
  });
  it('fail: a match, with the CVE id', () =>
    expect(
      judge(id, [
        tcp(),
        vulns(
          svc(),
          feed(),
          fact(VulnerabilityMatchFact, {
            port: 22,
            protocol: 'ssh',
            product: 'Dropbear SSH',
            version: '2016.72',
            id: 'CVE-2016-7406',
            aliases: [],
            cvss: { version: '3.0', score: 9.8 },
            summary: 'format string',
            affected: 'dropbear_ssh_project:dropbear_ssh < 2016.74',
            feed: 'nvd.json',
          }),
        ),
      ]),
    ).toMatchObject({ verdict: 'fail', rationale: expect.stringContaining('CVE-2016-7406 on ssh 22') }));
  it('inconclusive: an empty feed could match nothing; a service that could not be asked; no version anywhere', () => {
    expect(judge(id, [tcp(), vulns(svc(), feed(0))]).verdict).toBe('inconclusive');
    expect(
      judge(id, [
        tcp(),
        vulns(svc(), svc({ port: 443, protocol: 'https', version: undefined, product: undefined, how: 'no HTTP answer', unreadable: true }), feed()),
      ]).verdict,
    ).toBe('inconclusive');
    expect(judge(id, [tcp(), vulns(svc({ version: undefined, product: undefined, how: 'no version' }), feed())]).verdict).toBe('inconclusive');
  });
  it('a pass resting on an empty feed is refused by the harness itself', () => {
    expect(VulnerabilitySourceFact.unknown!({ file: 'f', kind: 'feed', format: 'osv', records: 0 })).toMatch(/no vulnerability record/);
  });
  it('not-tested when no feed or report was given (the probe skips)', () =>
    expect(judge(id, [tcp(), skipped('known-vulnerabilities')]).verdict).toBe('not-tested'));
});

describe('identification: how the model and firmware are matched', () => {
  it('the model as a person would write it, but not inside a longer name', () => {
    const re = modelPattern('SB-CAM-Q')!;
    for (const t of ['Welcome to SB-CAM-Q', 'sb cam q', 'SBCAMQ setup', '(sb_cam_q)', 'SB-CAM-Q'.toLowerCase()])
      expect({ t, m: re.test(t) }).toEqual({ t, m: true });
    for (const t of ['SB-CAM-QX', 'XSB-CAM-Q', 'SB-CAM', 'SB-CAM-R']) expect({ t, m: re.test(t) }).toEqual({ t, m: false });
    expect(modelPattern('C1')).toBeNull();
    // one generic word matches too much ("Loading 100%", "Pro"): not a model to look for
    for (const m of ['Pro', 'Mini', '100', 'Tapo']) expect({ m, re: modelPattern(m) }).toEqual({ m, re: null });
    for (const m of ['C920', 'ARCHER', 'SB-CAM']) expect({ m, found: modelPattern(m) !== null }).toEqual({ m, found: true });
    expect(modelPattern('カメラ-100')!.test('ネットワークカメラ 100')).toBe(false);
    expect(modelPattern('カメラ-100')!.test('型番: カメラ100')).toBe(true);
  });
  it('the firmware version, not as part of a longer version', () => {
    const re = firmwarePattern('1.2.3')!;
    for (const t of ['firmware 1.2.3', 'v1.2.3', 'ver=1.2.3;']) expect({ t, m: re.test(t) }).toEqual({ t, m: true });
    for (const t of ['1.2.30', '11.2.3', '1.2.3.4', '1x2x3']) expect({ t, m: re.test(t) }).toEqual({ t, m: false });
  });
  it('the visible text of a page: no scripts, styles or tags; entities decoded', () => {
    expect(visibleText('<title>SB&#45;CAM</title><script>var m="HIDDEN"</script><style>.x{}</style><p>Model&nbsp;<b>X&amp;Y</b></p>')).toBe('SB-CAM Model X&Y');
    expect(visibleText('a<!-- SB-CAM -->b<SCRIPT type="x">SB-CAM</script >c')).toBe('a b c');
    // A hostile page of unclosed "<" and comment openers is read in one pass (a backtracking regex stalled for seconds).
    expect(visibleText('<'.repeat(128 * 1024))).toBe('');
    expect(visibleText('<!--'.repeat(32 * 1024) + 'end')).toBe('');
  });
});

describe('every check is covered here', () => {
  it('names all 24 stable checks', () => {
    const covered = [
      'exposure.undeclared-services',
      'auth.default-credentials',
      'auth.unauthenticated-access',
      'auth.brute-force',
      'comms.tls',
      'comms.ssh',
      'comms.plaintext',
      'debug.serial-console',
      'update.integrity',
      'update.rollback',
      'privacy.personal-data-exposure',
      'privacy.disclosure',
      'privacy.data-deletion',
      'device.model-identification',
      'auth.credential-change',
      'resilience.restart-persistence',
      'exposure.known-vulnerabilities',
      'update.capability',
      // every verdict of these four is in test/traffic.test.ts, beside the real capture they judge
      'comms.outbound-plaintext',
      'comms.outbound-tls',
      'comms.certificate-validation',
      'privacy.destinations',
      'crypto.unique-device-keys',
      // every verdict in test/network-load.test.ts, against services that fall over, late or for good
      'resilience.network-load',
    ];
    expect([...CHECKS.keys()].sort()).toEqual(covered.sort());
  });
});

// ---- CCK-3: unique keys per unit (compared from saved runs) ------------------------
describe('crypto.unique-device-keys', () => {
  const id = 'crypto.unique-device-keys';
  const withKey = (sha256: string | undefined): Fact => {
    const [k, data] = sshService();
    const d = data as { hostKeys: Array<Record<string, unknown>> };
    return [k, { ...d, hostKeys: d.hostKeys.map((h) => ({ ...h, sha256 })) }];
  };
  const peer = (keys: string[], over: Partial<UnitKeys> = {}): UnitKeys => ({
    runId: 'other-run',
    device: 'unit 2',
    keys: keys.map((sha256) => ({ where: 'SSH 22 ssh-ed25519 host key', kind: 'SSH ssh-ed25519', sha256 })),
    unread: [],
    ...over,
  });
  const judgeWith = (results: ProbeResult[], peers?: ReturnType<typeof peer>[]) =>
    judgeCheck(id, { device: deviceFrom(BASE), checks: CHECKS, probes: PROBES, results: new Map(results.map((x) => [x.probe, x])), reveal: false, peers });
  const own = (sha = 'SHA256:aaa') => [tcp(), res('ssh', [withKey(sha)]), res('tls', [])];
  it('fail: the same SSH host key on another unit', () => {
    const r = judgeWith(own(), [peer(['SHA256:zzz', 'SHA256:aaa'])]);
    expect(r.verdict).toBe('fail');
    expect(r.findings[0].message).toMatch(/SHA256:aaa.*unit 2 \(run other-run\)/);
  });
  it('pass: keys compared, none shared', () => expect(judgeWith(own(), [peer(['SHA256:zzz'])]).verdict).toBe('pass'));
  it('not-tested without another unit, naming how to compare', () =>
    expect(judgeWith(own())).toMatchObject({ verdict: 'not-tested', rationale: expect.stringContaining('--compare-keys') }));
  it('inconclusive: the other unit recorded no key (nothing compared is not unique)', () => expect(judgeWith(own(), [peer([])]).verdict).toBe('inconclusive'));
  it('inconclusive: this unit has SSH but no fingerprint was recorded (an older run)', () =>
    expect(judgeWith([tcp(), res('ssh', [withKey(undefined)]), res('tls', [])], [peer(['SHA256:zzz'])]).verdict).toBe('inconclusive'));
  it('inconclusive, not pass, when the SSH probe timed out and nothing shared was seen', () =>
    expect(judgeWith([tcp(), timedOut('ssh'), res('tls', [])], [peer(['SHA256:zzz'])]).verdict).toBe('inconclusive'));
  it('fail still shows when one probe timed out but the other found a shared key', () => {
    const tls = res('tls', [tlsService({ cert: { keySha256: 'abc123' } })]);
    expect(
      judgeWith([tcp(), timedOut('ssh'), tls], [peer([], { keys: [{ where: 'TLS 443 certificate key', kind: 'TLS rsa', sha256: 'abc123' }] })]).verdict,
    ).toBe('fail');
  });
  it('inconclusive, not pass, when the other unit did not read all its keys, has no key of this kind, or is another model', () => {
    expect(judgeWith(own(), [peer(['SHA256:zzz'], { unread: ['ssh: failed'] })]).rationale).toMatch(/did not read all its keys \(ssh: failed\)/);
    expect(judgeWith(own(), [peer([], { keys: [{ where: 'TLS 443 rsa certificate key', kind: 'TLS rsa', sha256: 'q' }] })])).toMatchObject({
      verdict: 'inconclusive',
      rationale: expect.stringContaining('recorded no SSH ssh-ed25519 key'),
    });
    const modelled = { ...BASE, device: { name: 'unit', model: 'CAM1' } };
    const r = judgeCheck(id, {
      device: deviceFrom(modelled),
      checks: CHECKS,
      probes: PROBES,
      results: new Map(own().map((x) => [x.probe, x])),
      reveal: false,
      peers: [peer(['SHA256:zzz'], { model: 'PLUG9' })],
    });
    expect(r).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringContaining('another model is no comparison') });
  });
  it('a malformed observation in a run is left out, never a crash', () => {
    const bad = res('ssh', []);
    bad.observations.push({ kind: 'ssh-service', summary: 'x', data: { port: 'twenty-two' } as never });
    expect(() => deviceKeys((p) => (p === 'ssh' ? bad : undefined))).not.toThrow();
    expect(deviceKeys((p) => (p === 'ssh' ? bad : undefined))).toEqual([]);
  });
});
