import { deviceFloor, type FloorDevice } from '../../bench/floor';
import type { JournalEvent } from '../../harness/journal';

const end = (probe: string, observations: Array<{ kind: string; data: Record<string, unknown> }>, durationMs = 3_600_000): JournalEvent => ({
  type: 'probe-end',
  result: { probe, status: 'completed', durationMs, evidence: [], observations: observations.map((o) => ({ ...o, summary: o.kind })) },
});
const series = (port: number, ms: number, extra: Record<string, unknown> = {}) => ({
  kind: 'brute-force',
  data: { port, protocol: 'x', attempts: Array.from({ length: 20 }, (_, n) => ({ n: n + 1, outcome: 'rejected', ms })), labLoginMs: 100, ...extra },
});

const device = (auth: FloorDevice['auth'], more: Partial<FloorDevice> = {}): FloorDevice => ({ limits: { connections: 4 }, auth, ...more });

describe('the floor a device imposes (bench/floor.ts)', () => {
  it('wrong passwords cost their refusal delay, spread over the logins allowed at once; a lockout allows one', () => {
    const journal = [end('brute-force', [series(23, 3000), series(443, 500)])];
    const free = deviceFloor(journal, device([{ port: 23 }, { port: 443 }]));
    // One lockout group (the default): one login after the other, four attempts at once.
    expect(free.parts.find((p) => p.probe === 'brute-force')?.ms).toBe((20 * 3000) / 4 + (20 * 500) / 4);
    const locked = deviceFloor(journal, device([{ port: 23 }, { port: 443, bruteForce: 'lockout', lockoutAfter: 5 }]));
    expect(locked.parts.find((p) => p.probe === 'brute-force')?.ms).toBe((20 * 3000) / 4 + 20 * 500);
  });

  it('independent lockout groups side by side: the longest group, or every attempt through the connection limit', () => {
    const journal = [end('brute-force', [series(23, 3000), series(22, 400), series(80, 10)])];
    const f = deviceFloor(
      journal,
      device([
        { port: 23, lockoutGroup: 'telnet' },
        { port: 22, lockoutGroup: 'ssh' },
        { port: 80, lockoutGroup: 'web' },
      ]),
    );
    const all = (20 * 3000 + 20 * 400 + 20 * 10) / 4;
    expect(f.parts.find((p) => p.probe === 'brute-force')?.ms).toBe(Math.round(Math.max((20 * 3000) / 4, all)));
  });

  it('the ordinary phase counts its longest part; disruptive steps add up, with declared windows and actions', () => {
    const journal = [
      end('credentials', [{ kind: 'login-attempts', data: { port: 23, protocol: 'telnet', tried: 5 } }]),
      end('unauthenticated', [{ kind: 'unauthenticated', data: { what: 'mqtt-anonymous' } }]),
      end('brute-force', [series(23, 3000)]),
      end('traffic', [{ kind: 'traffic-capture', data: { phase: 'watch', seconds: 10.7 } }]),
      end('update', [
        { kind: 'update-sequence', data: { steps: [{ step: 'genuine', install: { durationMs: 900 }, return: { afterMs: 4000 }, watchedMs: 3000 }] } },
      ]),
      end('reset', [{ kind: 'reset', data: { reset: { durationMs: 50 }, return: { afterMs: 20000 } } }]),
      end('credential-change', [
        {
          kind: 'credential-change',
          data: {
            change: { durationMs: 40 },
            interfaces: [
              {
                port: 23,
                before: { result: 'accepted' },
                anyValue: { result: 'refused' },
                changed: { new: { result: 'refused' }, old: { result: 'accepted' } },
                restored: { result: 'accepted' },
              },
            ],
          },
        },
      ]),
    ];
    const f = deviceFloor(journal, device([{ port: 23 }], { traffic: { seconds: 10 }, credentialChange: { settleSeconds: 1 }, update: { stableSeconds: 2 } }));
    // Six logins (five entries and the random pair) at 3 s, three at once (one slot kept for the other probes).
    expect(f.ordinaryMs).toBe((6 * 3000) / 3);
    const part = (probe: string) => f.parts.filter((p) => p.probe === probe).reduce((s, p) => s + p.ms, 0);
    // The declared window, not the capture's own drain.
    expect(part('traffic')).toBe(10_000);
    // The image's install, then its return (the watch, from the install's answer, was shorter), and the watch after the last image.
    expect(part('update')).toBe(900 + 4000 + 2000);
    expect(part('reset')).toBe(20_050);
    // Change, settle, the new value refused twice (before and after the late-change window) and the random value once,
    // four good logins at the lab login's latency, and the late-change window.
    expect(part('credential-change')).toBe(40 + 1000 + 3 * 3000 + 4 * 100 + 5000);
    expect(f.ms).toBe(f.ordinaryMs + f.disruptiveMs);
  });

  it('never more than the probe took: an estimate from another probe’s latencies is clamped to the probe’s own time', () => {
    const journal = [
      end('credentials', [{ kind: 'login-attempts', data: { port: 23, protocol: 'telnet', tried: 59 } }], 9000),
      end('brute-force', [series(23, 3000)]),
    ];
    const f = deviceFloor(journal, device([{ port: 23 }]));
    // 60 logins at 3 s, three at once, would be 60 s; the probe ran 9 s.
    expect(f.ordinaryMs).toBe(9000);
    expect(f.parts.find((p) => p.probe === 'credentials')?.what).toMatch(/clamped/);
  });

  it('a run that measured nothing has no floor to speak of (everything is overhead), never a negative one', () => {
    const f = deviceFloor([end('tcp-ports', [])], device([]));
    expect(f).toMatchObject({ ms: 0, ordinaryMs: 0, disruptiveMs: 0, parts: [] });
  });
});
