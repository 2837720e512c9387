/**
 * Campaign bundles and sealing, without a store: a device file and every file
 * it references packed by content, secrets sealed to the agents' public key,
 * written back into a folder that runs as the original did; the same files
 * give the same key; a wrong key, an altered blob or a path that leaves the
 * job folder are refused.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packDevice, sha256, unpackBundle } from '../../harness/campaign/bundle';
import { generateAgentKeys, seal, unseal } from '../../harness/campaign/seal';
import { loadDeviceFile } from '../../harness/device-file/load';
import { StarbenchError } from '../../harness/errors';

const keys = generateAgentKeys();
const other = generateAgentKeys();

function deviceFolder(extra = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-bundle-'));
  mkdirSync(path.join(dir, 'images'));
  mkdirSync(path.join(dir, 'feeds'));
  writeFileSync(path.join(dir, 'images', 'fw-2.bin'), Buffer.from('genuine image bytes'));
  writeFileSync(path.join(dir, 'feeds', 'a.json'), '{"vulnerabilities":[]}');
  writeFileSync(path.join(dir, 'id_lab'), '-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-material\n-----END OPENSSH PRIVATE KEY-----\n');
  writeFileSync(
    path.join(dir, 'device.yaml'),
    `device:
  name: bundle cam
target:
  host: 127.0.0.31
services:
  - port: 22
    protocol: ssh
credentials:
  lab:
    username: lab
    password: lab-Secret-99
  keyed:
    username: root
    privateKey: id_lab
personalData:
  declared: [email]
  canaries:
    email: taro.bundle.canary@example.jp
update:
  images:
    genuine: images/fw-2.bin
vulnerabilities:
  feeds: [feeds]
${extra}`,
  );
  return dir;
}

describe('campaign bundles', () => {
  it('packs the device file sealed, key files sealed, images and feeds by hash; unpacks into a folder that loads the same', async () => {
    const dir = deviceFolder();
    const p = packDevice(path.join(dir, 'device.yaml'), { profile: 'jc-star-1', plugins: [], publicKey: keys.publicKey });
    const stored = [...p.blobs.values()].map((b) => b.toString('latin1')).join('\n');
    for (const secret of ['lab-Secret-99', 'taro.bundle.canary', 'secret-key-material']) expect(stored).not.toContain(secret);
    expect(stored).toContain('genuine image bytes');
    expect(p.manifest.files.map((f) => [f.rel, f.sealed])).toEqual([
      ['files/0-fw-2.bin', false],
      ['files/1-id_lab', true],
      ['files/2-feeds/a.json', false],
    ]);
    const out = mkdtempSync(path.join(tmpdir(), 'sb-unbundle-'));
    const u = await unpackBundle(p.manifest, out, async (h) => p.blobs.get(h)!, keys.privateKey);
    expect(u.profile).toBe('jc-star-1');
    const again = loadDeviceFile(u.deviceFile);
    expect(again.credentials.lab.password).toBe('lab-Secret-99');
    expect(readFileSync(again.update!.images!.genuine!, 'utf8')).toBe('genuine image bytes');
    expect(readFileSync(again.credentials.keyed.privateKey!, 'utf8')).toContain('secret-key-material');
    expect(readFileSync(path.join(path.dirname(u.deviceFile), again.vulnerabilities!.feeds[0], 'a.json'), 'utf8')).toContain('vulnerabilities');
  });

  it('the same files give the same key (sealing is randomised, the key is not); a changed image gives another', () => {
    const dir = deviceFolder();
    const a = packDevice(path.join(dir, 'device.yaml'), { profile: 'jc-star-1', plugins: [], publicKey: keys.publicKey });
    const b = packDevice(path.join(dir, 'device.yaml'), { profile: 'jc-star-1', plugins: [], publicKey: keys.publicKey });
    expect(a.key).toBe(b.key);
    expect(a.manifest.deviceBlob).not.toBe(b.manifest.deviceBlob);
    writeFileSync(path.join(dir, 'images', 'fw-2.bin'), 'another image');
    expect(packDevice(path.join(dir, 'device.yaml'), { profile: 'jc-star-1', plugins: [], publicKey: keys.publicKey }).key).not.toBe(a.key);
  });

  it('a device with a serial console or a traffic interface must name its bench', () => {
    const dir = deviceFolder();
    writeFileSync(
      path.join(dir, 'serial.yaml'),
      'device:\n  name: s\ntarget:\n  host: 127.0.0.31\n  serial:\n    path: /dev/ttyUSB9\n    baudRate: 115200\nservices: []\n',
    );
    expect(() => packDevice(path.join(dir, 'serial.yaml'), { profile: 'jc-star-1', plugins: [], publicKey: keys.publicKey })).toThrow(
      /target\.serial ties the device to one bench host/,
    );
    const withBench = packDevice(path.join(dir, 'serial.yaml'), { profile: 'jc-star-1', plugins: [], bench: 'b7', publicKey: keys.publicKey });
    expect(withBench.manifest.bench).toBe('b7');
  });

  it('refuses a broken device file with file:line, as run does', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-bundle-'));
    writeFileSync(path.join(dir, 'bad.yaml'), 'device:\n  name: x\ntarget:\n  host: 127.0.0.31\nservices:\n  - port: nope\n');
    expect(() => packDevice(path.join(dir, 'bad.yaml'), { profile: 'jc-star-1', plugins: [], publicKey: keys.publicKey })).toThrow(
      /bad\.yaml:6: services\[0\]\.port/,
    );
  });

  it('another key pair, an altered blob or a path out of the folder: refused, never run', async () => {
    const dir = deviceFolder();
    const p = packDevice(path.join(dir, 'device.yaml'), { profile: 'jc-star-1', plugins: [], publicKey: keys.publicKey });
    const out = () => mkdtempSync(path.join(tmpdir(), 'sb-unbundle-'));
    await expect(unpackBundle(p.manifest, out(), async (h) => p.blobs.get(h)!, other.privateKey)).rejects.toThrow(/does not open with this agent's key/);
    await expect(unpackBundle(p.manifest, out(), async (h) => Buffer.concat([p.blobs.get(h)!, Buffer.from('x')]), keys.privateKey)).rejects.toThrow(
      /does not match its hash/,
    );
    const evil = { ...p.manifest, files: [{ ...p.manifest.files[0], rel: '../../etc/x' }] };
    await expect(unpackBundle(evil, out(), async (h) => p.blobs.get(h)!, keys.privateKey)).rejects.toThrow(/leaves the job folder/);
    for (const bad of [
      { deviceFileName: '../device.yaml' },
      { plugins: [{ name: '/../../x.js', blob: p.manifest.deviceBlob }] },
      { profile: { name: '..', blob: p.manifest.deviceBlob } },
    ])
      await expect(unpackBundle({ ...p.manifest, ...bad }, out(), async (h) => p.blobs.get(h)!, keys.privateKey)).rejects.toThrow(/not a plain name/);
  });

  it('seal/unseal: a round trip, and a tampered tag is refused', () => {
    const s = seal(Buffer.from('canary'), keys.publicKey);
    expect(unseal(s, keys.privateKey).toString()).toBe('canary');
    expect(() => unseal({ ...s, data: Buffer.from('cbnary').toString('base64') }, keys.privateKey)).toThrow(StarbenchError);
    expect(sha256('a')).toHaveLength(64);
  });
});
