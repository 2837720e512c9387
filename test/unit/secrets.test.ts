import { MASK, SecretRegistry } from '../../harness/secrets';

describe('secret registry', () => {
  const reg = new SecretRegistry();
  reg.add('1234');
  reg.add('hanako.canary@example.jp');
  reg.add('p4ss(word)+[x]');
  reg.add('ab');

  it('masks secrets where they stand as tokens', () => {
    expect(reg.mask('admin:1234')).toBe(`admin:${MASK}`);
    expect(reg.mask('{"email":"hanako.canary@example.jp"}')).toBe(`{"email":"${MASK}"}`);
    expect(reg.mask('pw=p4ss(word)+[x];')).toBe(`pw=${MASK};`);
  });

  it('masks a secret URL-encoded (a filled-in action URL or form body) and JSON-escaped too', () => {
    const r = new SecretRegistry();
    r.add('p@ss w0rd"x');
    expect(r.mask('POST /passwd?old=p%40ss%20w0rd%22x&new=abc')).toBe(`POST /passwd?old=${MASK}&new=abc`);
    expect(r.mask('{"old":"p@ss w0rd\\"x"}')).toBe(`{"old":"${MASK}"}`);
  });

  it('leaves numbers that merely contain a numeric secret alone', () => {
    expect(reg.mask('port 21234 open, 12345 too')).toBe('port 21234 open, 12345 too');
  });

  it('ignores values too short to mask safely, except in password fields', () => {
    expect(reg.mask('tab')).toBe('tab');
    expect(reg.maskDeep({ password: 'ab', nested: [{ psk: 'x' }], note: 'ab' })).toEqual({ password: MASK, nested: [{ psk: MASK }], note: 'ab' });
  });

  it('reveals nothing unless asked, everything when asked', () => {
    const open = new SecretRegistry(true);
    open.add('1234');
    expect(open.mask('admin:1234')).toBe('admin:1234');
    expect(open.maskDeep({ password: 'x' })).toEqual({ password: 'x' });
  });
});
