/** The lab's devices really are Debian's daemons, reachable only through their namespaces. */
import { execFileSync } from 'node:child_process';
import { readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import mqtt from 'mqtt';
import { SerialPort } from 'serialport';
import { pidsIn } from '../../fixtures/lab/net';
import { bootRequestFile } from '../../fixtures/lab/daemons';
import { holdDevice, labDevice } from './lab-state';

/** What a port says first: read until `until` matches (the readiness signal) or 10 s pass. */
function firstBytes(host: string, port: number, until: RegExp): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host, port });
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    s.on('data', (c) => {
      chunks.push(c);
      if (until.test(Buffer.concat(chunks).toString('latin1'))) done();
    });
    s.on('error', reject);
    s.on('close', done);
    const timer = setTimeout(done, 10_000);
  });
}

function packageOf(file: string): string {
  return execFileSync('dpkg', ['-S', file], { encoding: 'utf8' }).split(':')[0];
}

describe('reference lab daemons', () => {
  it.each(['weak', 'strong', 'mixed'] as const)('%s runs Debian binaries inside its own namespace', (name) => {
    const d = labDevice(name);
    const exes = new Set(
      pidsIn(d.namespace).map((p) => {
        try {
          return readlinkSync(`/proc/${p}/exe`);
        } catch {
          return '';
        }
      }),
    );
    for (const [exe, pkg] of [
      ['/usr/sbin/dropbear', 'dropbear-bin'],
      ['/usr/sbin/lighttpd', 'lighttpd'],
      ['/usr/sbin/mosquitto', 'mosquitto'],
    ]) {
      expect(exes).toContain(exe);
      expect(packageOf(exe)).toBe(pkg);
    }
    if (name !== 'strong') {
      expect(exes).toContain('/usr/bin/busybox');
      expect(packageOf('/bin/busybox')).toBe('busybox-static');
    }
  });

  it.each(['weak', 'strong', 'mixed'] as const)('%s answers SSH as dropbear', async (name) => {
    const banner = (await firstBytes(labDevice(name).address, 22, /\r\n/)).toString('latin1');
    expect(banner).toMatch(/^SSH-2\.0-dropbear_20\d\d\.\d+\r\n/);
  });

  it('weak telnet negotiates (IAC) and shows a busybox login prompt; 2323 gives a shell', async () => {
    const d = labDevice('weak');
    const login = await firstBytes(d.address, 23, /login: $/);
    expect(login[0]).toBe(0xff);
    expect(login.toString('latin1')).toMatch(/login: $/);
    const shell = await firstBytes(d.address, 2323, /# $/);
    expect(shell[0]).toBe(0xff);
    expect(shell.toString('latin1')).toMatch(/# $/);
  });

  it('strong serves HTTPS from lighttpd and only redirects on port 80', async () => {
    const d = labDevice('strong');
    const head = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: d.address, port: 443, rejectUnauthorized: false }, () => s.write(`HEAD / HTTP/1.0\r\nHost: ${d.address}\r\n\r\n`));
      let text = '';
      s.on('data', (c) => (text += c));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    expect(head).toMatch(/^HTTP\/1\.0 200/);
    expect(head.toLowerCase()).toContain('server: lighttpd/1.4');
    const plain = (
      await new Promise<Buffer>((resolve, reject) => {
        const s = net.connect({ host: d.address, port: 80 }, () => s.write(`GET /cgi-bin/admin HTTP/1.0\r\nHost: ${d.address}\r\n\r\n`));
        const chunks: Buffer[] = [];
        s.on('data', (c) => chunks.push(c));
        s.on('end', () => resolve(Buffer.concat(chunks)));
        s.on('error', reject);
      })
    ).toString();
    expect(plain).toMatch(/^HTTP\/1\.0 301/);
    expect(plain).toContain(`Location: https://${d.address}/cgi-bin/admin`);
  });

  it('weak MQTT broker is mosquitto and lets anyone read the retained owner e-mail', async () => {
    const d = labDevice('weak');
    const client = await mqtt.connectAsync(`mqtt://${d.address}:1883`, { reconnectPeriod: 0, connectTimeout: 3000 });
    const seen = new Map<string, string>();
    client.on('message', (t, p) => seen.set(t, p.toString()));
    await client.subscribeAsync(['$SYS/broker/version', 'cam/owner']);
    for (let i = 0; i < 200 && seen.size < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await client.endAsync();
    expect(seen.get('$SYS/broker/version')).toMatch(/^mosquitto version 2\./);
    expect(seen.get('cam/owner')).toContain('hanako.weak.canary@example.jp');
  });

  it('strong MQTT refuses anonymous clients', async () => {
    const d = labDevice('strong');
    await expect(mqtt.connectAsync(`mqtts://${d.address}:8883`, { reconnectPeriod: 0, connectTimeout: 3000, rejectUnauthorized: false })).rejects.toThrow(
      /Not authorized|not authorised|Connection refused/i,
    );
  });

  it('serial consoles are ptys: weak has an interruptible bootloader and a shell, strong a login prompt', async () => {
    /** Open the console, then for each step send its input and wait for its expected text. */
    const session = async (path: string, steps: Array<[send: string, expect: RegExp]>, onOpen?: () => void): Promise<string> => {
      const port = new SerialPort({ path, baudRate: 115200 });
      let text = '';
      port.on('data', (c: Buffer) => (text += c.toString('latin1')));
      try {
        // Like a real UART, nothing is printed on open (the wait also lets the device side start, as the serial probe does).
        await new Promise((r) => setTimeout(r, 1500));
        expect(text).toBe('');
        onOpen?.();
        for (const [send, expected] of steps) {
          const from = text.length;
          if (send) port.write(send);
          // Bounded, but ends at the readiness signal: the expected text.
          for (let i = 0; i < 300 && !expected.test(text.slice(from)); i++) await new Promise((r) => setTimeout(r, 50));
          expect(text.slice(from)).toMatch(expected);
        }
      } finally {
        await new Promise<void>((r) => port.close(() => r()));
      }
      return text;
    };
    // One reader per UART: the truth runs read these consoles too (another jest worker).
    const releaseWeak = await holdDevice('weak');
    // The device boots only when restarted (the admin-reboot CGI creates this file); the boot shows from its first line.
    const restart = (name: 'weak' | 'strong') => () => writeFileSync(bootRequestFile({ dir: path.dirname(labDevice(name).deviceFile) }), '');
    const weak = await session(
      labDevice('weak').serial,
      [
        ['', /Hit any key to stop autoboot/],
        ['\n', /=> $/],
        ['printenv\n', /wifi_psk=canary-psk-weak-1234/],
        ['boot\n', /built-in shell \(ash\)/],
        // only the shell can print 5555: what was typed is $((1234+4321))
        ['echo $((1234+4321))\n', /5555/],
      ],
      restart('weak'),
    ).finally(releaseWeak);
    expect(weak).toContain('U-Boot');
    const releaseStrong = await holdDevice('strong');
    // Opened on a running device, a key gives the login prompt and no boot log.
    const running = await session(labDevice('strong').serial, [['\n', /login: $/]]);
    expect(running).not.toContain('U-Boot');
    await new Promise((r) => setTimeout(r, 1000));
    const strong = await session(
      labDevice('strong').serial,
      [
        ['', /login: $/],
        ['\n', /login: $/],
      ],
      restart('strong'),
    ).finally(releaseStrong);
    expect(strong).toContain('interruption disabled');
    expect(strong).not.toContain('5555');
  }, 900_000);
});
