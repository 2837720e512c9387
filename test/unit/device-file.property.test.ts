/**
 * Bad input, generated: thousands of mutations of a valid device file
 * (values of the wrong type, huge or negative numbers, missing and unknown
 * keys, duplicate ports, paths out of the folder, aliases and anchors, junk
 * text). Each is either accepted or refused with a StarbenchError whose
 * message names the file and the field — never another exception, never a hang.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseDeviceFile } from '../../harness/device-file/load';
import { StarbenchError } from '../../harness/errors';

const VALID = {
  device: { name: 'Cam', model: 'C1', firmware: '1.0.0' },
  target: { host: '127.0.0.1' },
  services: [
    { port: 22, protocol: 'ssh' },
    { port: 80, protocol: 'http' },
  ],
  credentials: { admin: { username: 'admin', password: 'secret-pass' } },
  auth: [{ port: 80, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin', bruteForce: 'lockout', lockoutAfter: 5, lockoutSeconds: 60 }],
  update: { version: { http: { url: 'http://127.0.0.1/version', jsonPath: 'fw' } }, images: { genuine: './fw.bin' } },
  personalData: { declared: ['email'], canaries: { email: 'a@example.jp' } },
  limits: { connections: 4 },
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values of every kind a hostile or careless writer could put anywhere. */
const weird: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.constantFrom(1e308, -1, 0, 65536, 2 ** 53 + 1, -0),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('../../etc/passwd', '/etc/shadow', 'http://203.0.113.9/x', '\u0000', 'ssh', '', ' '.repeat(2000), 'x'.repeat(100_000)),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 }),
);

/** Every path (as keys) into the valid file. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const out: (string | number)[][] = prefix.length ? [prefix] : [];
  for (const [k, child] of Object.entries(v)) out.push(...paths(child, [...prefix, Array.isArray(v) ? Number(k) : k]));
  return out;
}
const PATHS = paths(VALID);

type Mutation =
  | { op: 'set'; at: (string | number)[]; value: Json }
  | { op: 'delete'; at: (string | number)[] }
  | { op: 'unknown-key'; at: (string | number)[]; key: string }
  | { op: 'duplicate-port' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.constantFrom(...PATHS), value: weird }),
  fc.record({ op: fc.constant('delete' as const), at: fc.constantFrom(...PATHS) }),
  fc.record({
    op: fc.constant('unknown-key' as const),
    at: fc.constantFrom(...PATHS.filter((p) => typeof p[p.length - 1] === 'string')),
    key: fc.string({ minLength: 1, maxLength: 10 }),
  }),
  fc.record({ op: fc.constant('duplicate-port' as const) }),
);

function apply(base: unknown, muts: Mutation[]): unknown {
  const doc = structuredClone(base) as Record<string, unknown>;
  for (const m of muts) {
    if (m.op === 'duplicate-port') {
      if (Array.isArray(doc.services)) doc.services.push({ port: 22, protocol: 'telnet' });
      continue;
    }
    let parent: Record<string | number, unknown> | undefined = doc;
    for (const k of m.at.slice(0, -1)) parent = parent && typeof parent === 'object' ? (parent[k] as Record<string | number, unknown>) : undefined;
    const last = m.at[m.at.length - 1];
    if (!parent || typeof parent !== 'object') continue;
    if (m.op === 'set') parent[last] = m.value;
    else if (m.op === 'delete') delete parent[last];
    else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[m.key] = 1;
    }
  }
  return doc;
}

function outcome(text: string): 'accepted' | 'refused' {
  try {
    parseDeviceFile(text, '/lab/dev.yaml');
    return 'accepted';
  } catch (err) {
    if (!(err instanceof StarbenchError)) throw new Error(`not a StarbenchError: ${(err as Error)?.stack ?? String(err)}`, { cause: err });
    if (!['DEVICE_FILE_INVALID', 'TARGET_OUT_OF_SCOPE'].includes(err.code)) throw new Error(`unexpected code ${err.code}: ${err.message}`, { cause: err });
    if (!err.message.startsWith('/lab/dev.yaml')) throw new Error(`message does not name the file: ${err.message}`, { cause: err });
    if (/\n\s+at /.test(err.message)) throw new Error(`stack trace in the message: ${err.message}`, { cause: err });
    return 'refused';
  }
}

describe('device files, mutated', () => {
  it('the unmutated file is accepted', () => {
    expect(outcome(stringify(VALID))).toBe('accepted');
  });

  it('every mutation is accepted or refused with a message naming the file and the field', () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
        const doc = apply(VALID, muts);
        const started = Date.now();
        const r = outcome(stringify(doc));
        seen[r] += 1;
        return Date.now() - started < 2000;
      }),
      { numRuns: 1500, seed: 20261129 },
    );
    // both outcomes happened: the generator reaches valid and invalid files
    expect(seen.refused).toBeGreaterThan(500);
    expect(seen.accepted).toBeGreaterThan(10);
  });

  it('junk text, anchors and aliases are refused cleanly', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (junk) => {
        outcome(junk);
        outcome(`device: &a { name: x }\ntarget: { host: h }\nextra: *a\n${junk}`);
        return true;
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
