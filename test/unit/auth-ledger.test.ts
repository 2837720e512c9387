/** The lockout ledger's bookkeeping and the lock signals, without a device. */
import { AuthLedger } from '../../harness/auth-ledger';
import { lockSignal, retryAfterSeconds } from '../../probes/util/http';
import { secretsIn } from '../../probes/unauthenticated';
import { deviceFrom, minimalDevice } from '../helpers/device';

const res = (status: number, body = '', headers: Record<string, string> = {}) => ({ status, headers, body: Buffer.from(body) });

describe('lock signals', () => {
  it.each<[string, ReturnType<typeof res>, boolean]>([
    ['429', res(429), true],
    ['423', res(423), true],
    ['503 with Retry-After', res(503, '', { 'retry-after': '30' }), true],
    ['503 without', res(503, 'maintenance'), false],
    ['401 "try again in"', res(401, 'Too many failed attempts, try again in 60 s'), true],
    ['401 wrong password', res(401, 'wrong password'), false],
    ['403 "Account locked"', res(403, 'Account locked'), true],
    ['200 "Door locked" (a status page, not a login)', res(200, 'Door locked'), false],
  ])('%s → locked: %s', (_name, r, locked) => expect(lockSignal(r) !== null).toBe(locked));
  it('a form answer page may carry the lock words with a 200', () => expect(lockSignal(res(200, 'Too many login attempts'), true)).not.toBeNull());
  it('Retry-After in seconds or as an HTTP date, bounded', () => {
    expect(retryAfterSeconds('120')).toBe(120);
    expect(retryAfterSeconds('999999')).toBe(86400);
    const now = Date.parse('2026-12-02T00:00:00Z');
    expect(retryAfterSeconds('Wed, 02 Dec 2026 00:01:00 GMT', now)).toBe(60);
    expect(retryAfterSeconds('soon')).toBeUndefined();
    expect(lockSignal(res(429, '', { 'retry-after': '7' }))).toMatchObject({ retryAfterS: 7 });
  });
});

describe('the ledger', () => {
  const device = deviceFrom({
    ...minimalDevice,
    credentials: { a: { username: 'a', password: 'p' } },
    auth: [
      { port: 80, protocol: 'http', scheme: 'basic', credential: 'a', bruteForce: 'lockout', lockoutAfter: 5, lockoutSeconds: 30 },
      { port: 22, protocol: 'ssh', scheme: 'password', credential: 'a' },
      { port: 8883, protocol: 'mqtts', scheme: 'password', credential: 'a', lockoutGroup: 'broker', bruteForce: 'lockout', lockoutAfter: 3 },
    ],
  });
  it('one group for the whole device unless a lockoutGroup says otherwise; undeclared ports count in the device group', () => {
    const l = new AuthLedger(device);
    expect(l.groupOf(80)).toBe(l.groupOf(22));
    expect(l.groupOf(8080)).toBe(l.groupOf(22));
    expect(l.groupOf(8883).id).toBe('broker');
    // The device group's declared limit is the strictest of its entries; a wrong password on SSH counts against the web lockout.
    l.groupOf(22).failed(3);
    expect(l.groupOf(80).room()).toBe(1);
    expect(l.groupOf(8883).room()).toBe(2);
  });
  it('the lab credential working resets the count and opens a new epoch; a learned limit lower than the declared one wins', () => {
    const g = new AuthLedger(device).groupOf(80);
    g.failed(4);
    expect(g.room()).toBe(0);
    const e = g.epoch;
    g.good();
    expect(g.room()).toBe(4);
    expect(g.epoch).toBe(e + 1);
    g.learnedAfter = 3;
    expect(g.limit).toBe(3);
  });
  it('a lock signal sets when the lock should lift: Retry-After, else the declared seconds', () => {
    const g = new AuthLedger(device).groupOf(80);
    g.signalled({ at: '2026-12-02T00:00:00.000Z', port: 80, detail: 'HTTP 429', retryAfterS: 10 });
    expect(g.lockedUntil).toBe(Date.parse('2026-12-02T00:00:10.000Z'));
    const h = new AuthLedger(device).groupOf(80);
    h.signalled({ at: '2026-12-02T00:00:00.000Z', port: 80, detail: 'HTTP 429' });
    expect(h.lockedUntil).toBe(Date.parse('2026-12-02T00:00:30.000Z'));
  });
  it('exclusive steps in a group run one at a time, in order', async () => {
    const g = new AuthLedger(device).groupOf(80);
    const log: string[] = [];
    const step = (id: string, ms: number) =>
      g.exclusive(async () => (log.push(`start ${id}`), await new Promise((r) => setTimeout(r, ms)), log.push(`end ${id}`)));
    await Promise.all([step('a', 20), step('b', 1), step('c', 1)]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
  it('the summary names every group, its limit and the waits', () => {
    const l = new AuthLedger(device);
    l.groupOf(22).failed(2);
    l.waited({ group: 'device', port: 80, purpose: 'update install', waitedMs: 1200, why: 'the device signalled a lock', ok: true, signalled: true });
    expect(l.summary()).toMatchObject({
      groups: expect.arrayContaining([
        expect.objectContaining({ id: 'device', failures: 2, declaredAfter: 5 }),
        expect.objectContaining({ id: 'broker', declaredAfter: 3 }),
      ]),
      waits: [expect.objectContaining({ purpose: 'update install', ok: true })],
    });
  });
});

describe('secrets in what a device serves', () => {
  it.each<[string, string, string[]]>([
    ['JSON config', '{"wifi":{"ssid":"home","psk":"S3cretWifiKey"},"admin":{"password":"hunter22"}}', ['psk', 'password']],
    ['a binary dump', '\u0000\u0001hostapd\nwpa_passphrase=CorrectHorse9\n\u0000', ['wpa_passphrase']],
    ['a login form is no secret', '<form><input type="password" name="password"><input name="user"></form>', []],
    ['masked values are no secret', '{"password":"********","token":null}', []],
    [
      'a settings form on / that fills in the Wi-Fi key',
      '<form action="/save"><input name="ssid" value="home"><input type="password" name="wifi_psk" value="CorrectHorse9"></form>',
      ['wifi_psk'],
    ],
    ['a login form with its fields empty', '<form><input name="username" value=""><input type="password" name="password" value=""></form>', []],
  ])('%s', (_name, body, keys) => expect(secretsIn(Buffer.from(body, 'latin1')).sort()).toEqual(keys.sort()));
});
