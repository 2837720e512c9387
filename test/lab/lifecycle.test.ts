/**
 * A second, isolated lab instance (prefix "sbl", addresses in 198.19.0.0/16)
 * comes up in under 10 s and goes down leaving nothing behind.
 */
import { labConfig, REQUIRED_PACKAGES } from '../../fixtures/lab/config';
import { labDown, labUp, leftovers } from '../../fixtures/lab';
import { BUILDERS } from '../../fixtures/lab/devices';
import { LIGHTTPD_MODULES, prerequisiteProblems } from '../../fixtures/lab/prereq';
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

  it('a lab that fails half-way takes down what it had started: no namespace, daemon, console loop or state left', async () => {
    labDevice('weak');
    const failing = {
      ...BUILDERS,
      strong: () => {
        throw new Error('strong: a daemon refused to start');
      },
    };
    await expect(labUp(['weak', 'strong'], cfg, failing)).rejects.toThrow('strong: a daemon refused to start');
    expect(leftovers(cfg)).toEqual([]);
    expect(namespaces()).not.toContain('sbl-weak');
    expect(namespaces()).toEqual(expect.arrayContaining(['sb-weak', 'sb-strong', 'sb-mixed']));
  }, 60_000);
});

describe('lab prerequisites', () => {
  it('a missing package is named in one line, before anything starts', () => {
    expect(prerequisiteProblems([...REQUIRED_PACKAGES, ['lighttpd-mod-starbench', '/usr/lib/lighttpd/mod_starbench.so']])).toEqual([
      'missing Debian packages: lighttpd-mod-starbench (run: fixtures/lab/lab install)',
    ]);
  });

  it('a lighttpd module that cannot load is named with its package, from lighttpd -tt itself', () => {
    expect(prerequisiteProblems(REQUIRED_PACKAGES, [...LIGHTTPD_MODULES, ['mod_starbench', 'lighttpd-mod-starbench']])).toEqual([
      'lighttpd cannot load mod_starbench: install Debian package lighttpd-mod-starbench',
    ]);
  });

  it('on this machine every prerequisite is in place (the lab is up)', () => {
    labDevice('weak');
    expect(prerequisiteProblems()).toEqual([]);
  });
});
