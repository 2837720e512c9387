/**
 * A second, isolated lab instance (prefix "sbl", addresses in 198.19.0.0/16)
 * comes up in under 10 s and goes down leaving nothing behind.
 */
import { labConfig } from '../../fixtures/lab/config';
import { labDown, labUp, leftovers } from '../../fixtures/lab';
import { namespaces } from '../../fixtures/lab/net';
import { labDevice } from './lab-state';

describe('lab up / down', () => {
  const cfg = labConfig({ STARBENCH_LAB_PREFIX: 'sbl', STARBENCH_LAB_NET: '198.19' });

  it('brings three devices up in under 10 s and down with no process, namespace, veth or state left', async () => {
    labDevice('weak'); // the main lab must be up for this test to mean anything
    const started = Date.now();
    try {
      const status = await labUp(undefined, cfg);
      const ms = Date.now() - started;
      expect(status.devices.map((d) => [d.name, d.address])).toEqual([
        ['weak', '198.19.1.2'],
        ['strong', '198.19.2.2'],
        ['mixed', '198.19.3.2'],
      ]);
      expect(namespaces()).toEqual(expect.arrayContaining(['sbl-weak', 'sbl-strong', 'sbl-mixed']));
      expect(ms).toBeLessThan(10_000);
    } finally {
      await labDown(undefined, cfg);
    }
    expect(leftovers(cfg)).toEqual([]);
    // the main lab is untouched
    expect(namespaces()).toEqual(expect.arrayContaining(['sb-weak', 'sb-strong', 'sb-mixed']));
  }, 60_000);
});
