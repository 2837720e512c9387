/** The built-ins register through the same validated path a plugin takes. */
import { z } from 'zod';
import { defineFact } from '../../harness/facts';
import { Registry } from '../../harness/registry';
import { loadRegistry } from '../../cli/plugins';

describe('registry', () => {
  it('every built-in probe and check registers and validates (24 checks, each reading registered probes)', () => {
    const r = loadRegistry();
    expect(r.checks.size).toBe(24);
    expect(r.probes.size).toBe(17);
    for (const p of r.probes.values()) expect(p.facts.length).toBeGreaterThan(0);
    expect(r.sourceOf('check', 'comms.tls')).toBe('built-in');
  });

  it('refuses a probe whose schema is not a zod schema, and a fact kind declared twice', () => {
    const r = new Registry();
    expect(() =>
      r.addProbe({ id: 'p', title: 'p', needs: [], facts: [{ kind: 'k', schema: {} as never }], run: async () => ({ observations: [] }) }, 'plugin x'),
    ).toThrow(/plugin x: probe p: facts\.0\.schema must be a zod schema/);
    const k = defineFact('k', z.object({}));
    expect(() => r.addProbe({ id: 'q', title: 'q', needs: [], facts: [k, k], run: async () => ({ observations: [] }) })).toThrow(
      /declares fact kind "k" twice/,
    );
  });
});
