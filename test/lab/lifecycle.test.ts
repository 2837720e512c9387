/**
 * A second, isolated lab instance (prefix "sbl", addresses in 198.19.0.0/16)
 * comes up, the booting camera included, in under 30 s and goes down leaving
 * nothing behind (no QEMU either).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEVICE_NAMES, labConfig, REQUIRED_PACKAGES } from '../../fixtures/lab/config';
import { labDown, labUp, leftovers, TRUTH_DIR } from '../../fixtures/lab';
import { BUILDERS } from '../../fixtures/lab/devices';
import { LIGHTTPD_MODULES, prerequisiteProblems } from '../../fixtures/lab/prereq';
import { namespaces } from '../../fixtures/lab/net';
import { labDevice } from './lab-state';

describe('lab up / down', () => {
  const cfg = labConfig({ STARBENCH_LAB_PREFIX: 'sbl', STARBENCH_LAB_NET: '198.19' });

  it('brings the four devices up in under 30 s (the VM boots U-Boot and Linux meanwhile) and down with no process, namespace, veth or state left', async () => {
    labDevice('weak'); // the main lab must be up for this test to mean anything
    const started = Date.now();
    try {
      const status = await labUp(undefined, cfg);
      const ms = Date.now() - started;
      expect(status.devices.map((d) => [d.name, d.address])).toEqual([
        ['weak', '198.19.1.2'],
        ['strong', '198.19.2.2'],
        ['mixed', '198.19.3.2'],
        ['qemu-cam', '198.19.4.2'],
      ]);
      expect(namespaces()).toEqual(expect.arrayContaining(['sbl-weak', 'sbl-strong', 'sbl-mixed', 'sbl-qemu-cam']));
      expect(ms).toBeLessThan(30_000);
    } finally {
      await labDown(undefined, cfg);
    }
    expect(leftovers(cfg)).toEqual([]);
    // the main lab is untouched
    expect(namespaces()).toEqual(expect.arrayContaining(['sb-weak', 'sb-strong', 'sb-mixed', 'sb-qemu-cam']));
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
    expect(namespaces()).toEqual(expect.arrayContaining(['sb-weak', 'sb-strong', 'sb-mixed', 'sb-qemu-cam']));
  }, 60_000);
});

describe('lab devices and their truth', () => {
  it('every lab device has its truth.json and its truth test file', () => {
    for (const name of DEVICE_NAMES) {
      expect(existsSync(path.join(TRUTH_DIR, name, 'truth.json'))).toBe(true);
      expect(existsSync(path.join(__dirname, `truth-${name}.test.ts`))).toBe(true);
    }
  });
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
