/**
 * A campaign job carries everything its run needs, so an agent on another
 * host needs nothing but the store: the device file (sealed: it holds the
 * credentials and canaries), every file it references (images, vulnerability
 * feeds and reports; key files sealed), the profile (a built-in id, or the
 * catalog file's text) and each plugin module, all by content hash. The
 * device file's references are rewritten to `files/N-NAME` beside it, so the
 * agent writes the bundle into a folder and runs it as it is.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { loadDeviceFile } from '../device-file/load';
import type { DeviceFile } from '../device-file/schema';
import { StarbenchError } from '../errors';
import { PROFILE_DIR } from '../profile';
import { seal, unseal, type Sealed } from './seal';

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** One file the run reads: where it goes beside the device file, its content hash, and whether it is sealed. */
export interface BundleFile {
  rel: string;
  sha256: string;
  sealed: boolean;
}

/** What a job's payload names (the contents are blobs in the store, by hash). */
export interface BundleManifest {
  version: 1;
  /** The device file name (for the run folder and messages) and the blob of its sealed text. */
  deviceName: string;
  /** The target host: one device is never run by two jobs at once. */
  target: string;
  deviceFileName: string;
  deviceBlob: string;
  files: BundleFile[];
  profile: { id: string } | { name: string; blob: string };
  plugins: Array<{ name: string; blob: string }>;
  bench?: string;
  /** Surveillance: where the certified run's journal (or report) sits in the bundle, for `campaign report`'s diff. */
  certifiedRun?: string;
}

export interface Packed {
  manifest: BundleManifest;
  /** Content by hash (sealed values are stored as the JSON of their Sealed form). */
  blobs: Map<string, Buffer>;
  /** The bundle's identity: the same files give the same key (re-running create adds nothing). */
  key: string;
  device: DeviceFile;
}

/** Every file a device file makes the run read, as absolute paths, with whether it is a secret. */
function referencedFiles(device: DeviceFile): Array<{ at: (string | number)[]; abs: string; secret: boolean; dir: boolean; certified?: boolean }> {
  const out: Array<{ at: (string | number)[]; abs: string; secret: boolean; dir: boolean; certified?: boolean }> = [];
  const add = (at: (string | number)[], p: string | undefined, secret: boolean): void => {
    if (p === undefined || p.startsWith('TODO')) return;
    const abs = path.resolve(device.baseDir, p);
    if (!existsSync(abs)) throw new StarbenchError('DEVICE_FILE_INVALID', `${device.sourcePath}: ${at.join('.')} (${p}) does not exist`);
    out.push({ at, abs, secret, dir: statSync(abs).isDirectory() });
  };
  add(['update', 'images', 'genuine'], device.update?.images?.genuine, false);
  add(['update', 'images', 'older'], device.update?.images?.older, false);
  for (const [name, c] of Object.entries(device.credentials)) {
    for (const field of ['privateKey', 'certificate', 'key'] as const) add(['credentials', name, field], c[field], field !== 'certificate');
  }
  (device.vulnerabilities?.feeds ?? []).forEach((f, i) => add(['vulnerabilities', 'feeds', i], f, false));
  (device.vulnerabilities?.reports ?? []).forEach((f, i) => add(['vulnerabilities', 'reports', i], f, false));
  // The certified run: its journal (what a diff re-judges), else its report; not the evidence.
  const certified = device.surveillance?.certifiedRun;
  if (certified !== undefined) {
    const dir = path.resolve(device.baseDir, certified);
    const file = ['journal.jsonl', 'report.json'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (!file)
      throw new StarbenchError('DEVICE_FILE_INVALID', `${device.sourcePath}: surveillance.certifiedRun (${certified}) holds no journal.jsonl or report.json`);
    out.push({ at: ['surveillance', 'certifiedRun'], abs: file, secret: false, dir: false, certified: true });
  }
  return out;
}

/** Every file under a folder (links followed: a feed folder of symlinks is packed, not skipped). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = path.join(dir, name);
      const st = statSync(p);
      return st.isDirectory() ? filesUnder(p) : st.isFile() ? [p] : [];
    })
    .sort();
}

/** A file name from a manifest: one plain name, nothing that climbs out of the job folder. */
export function checkName(name: string): string {
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(name) || name.startsWith('.'))
    throw new StarbenchError('JOB_INVALID', `a bundled file name is not a plain name: ${JSON.stringify(name)}`);
  return name;
}

const safeName = (n: string): string => n.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'file';

/**
 * Pack one device file for a campaign. The device file is loaded and validated first (a broken one is refused
 * with file:line, exactly as `run` refuses it); `bench` is the device's own `bench:` unless given.
 */
export function packDevice(file: string, opts: { profile: string; plugins: readonly string[]; bench?: string; publicKey: string }): Packed {
  const device = loadDeviceFile(file);
  const bench = opts.bench ?? device.bench;
  if (!bench && device.target.serial)
    throw new StarbenchError('DEVICE_FILE_INVALID', `${device.sourcePath}: target.serial ties the device to one bench host: name it (bench: NAME, or --bench)`);
  if (!bench && device.traffic?.interface)
    throw new StarbenchError(
      'DEVICE_FILE_INVALID',
      `${device.sourcePath}: traffic.interface is a network segment of one bench host: name it (bench: NAME, or --bench)`,
    );
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer): string => {
    const h = sha256(b);
    blobs.set(h, b);
    return h;
  };
  const files: BundleFile[] = [];
  let n = 0;
  let certifiedRun: string | undefined;
  for (const ref of referencedFiles(device)) {
    if (ref.certified) {
      // A run folder of its own, holding the one file under its usual name.
      const folder = `files/${n++}-certified-run`;
      const content = readFileSync(ref.abs);
      files.push({ rel: `${folder}/${path.basename(ref.abs)}`, sha256: put(content), sealed: false });
      doc.setIn(ref.at, folder);
      certifiedRun = folder;
      continue;
    }
    const rel = `files/${n++}-${safeName(path.basename(ref.abs))}`;
    const parts = ref.dir ? filesUnder(ref.abs).map((f) => ({ f, rel: `${rel}/${path.relative(ref.abs, f)}` })) : [{ f: ref.abs, rel }];
    for (const p of parts) {
      const content = readFileSync(p.f);
      // A secret is sealed; its identity for the bundle key is the plain content's hash, never stored.
      const stored = ref.secret ? Buffer.from(JSON.stringify(seal(content, opts.publicKey))) : content;
      files.push({ rel: p.rel, sha256: put(stored), sealed: ref.secret });
    }
    doc.setIn(ref.at, rel);
  }
  // A relative serial path (a lab pty) means the folder the device file was in: on the bench it names that path.
  if (device.target.serial) doc.setIn(['target', 'serial', 'path'], device.target.serial.path);
  if (bench && !device.bench) doc.set('bench', bench);
  const deviceText = doc.toString();
  const deviceBlob = put(Buffer.from(JSON.stringify(seal(Buffer.from(deviceText), opts.publicKey))));
  const profile =
    opts.profile.endsWith('.yaml') || opts.profile.endsWith('.yml') || opts.profile.includes('/') ? packProfile(opts.profile, put) : { id: opts.profile };
  const plugins = opts.plugins.map((p) => {
    const abs = path.resolve(p);
    if (!existsSync(abs)) throw new StarbenchError('PLUGIN_INVALID', `plugin ${p}: no such file`);
    return { name: safeName(path.basename(abs)), blob: put(readFileSync(abs)) };
  });
  const manifest: BundleManifest = {
    version: 1,
    deviceName: device.device.name,
    target: device.target.host,
    deviceFileName: safeName(path.basename(file)),
    deviceBlob,
    files,
    profile,
    plugins,
    ...(bench ? { bench } : {}),
    ...(certifiedRun ? { certifiedRun } : {}),
  };
  // Identity from plain contents (sealing is randomised): the device text, each file, profile, plugins and bench.
  const key = sha256(
    JSON.stringify({
      device: sha256(deviceText),
      files: referencedFiles(device).map((r) => (r.dir ? filesUnder(r.abs).map((f) => sha256(readFileSync(f))) : sha256(readFileSync(r.abs)))),
      profile: 'id' in profile ? profile.id : sha256(blobs.get(profile.blob)!),
      plugins: plugins.map((p) => p.blob),
      bench: bench ?? null,
    }),
  );
  return { manifest, blobs, key, device };
}

function packProfile(ref: string, put: (b: Buffer) => string): { name: string; blob: string } {
  const abs = path.resolve(ref);
  if (!existsSync(abs)) {
    if (existsSync(path.join(PROFILE_DIR, ref))) return { name: path.basename(ref), blob: put(readFileSync(path.join(PROFILE_DIR, ref))) };
    throw new StarbenchError('PROFILE_UNKNOWN', `profile ${ref}: no such catalog file`);
  }
  return { name: safeName(path.basename(abs)), blob: put(readFileSync(abs)) };
}

/** Where an agent wrote a job's bundle: the device file to run, the profile reference and the plugin files. */
export interface Unpacked {
  deviceFile: string;
  profile: string;
  plugins: string[];
}

/** A fetcher of content by hash whose every answer is checked against the hash it was asked for. */
export function verifiedFetch(blob: (sha: string) => Promise<Buffer>): (sha: string) => Promise<Buffer> {
  return async (sha) => {
    const stored = await blob(sha);
    if (sha256(stored) !== sha) throw new StarbenchError('JOB_INVALID', `stored content ${sha.slice(0, 12)}… does not match its hash`);
    return stored;
  };
}

/** Write a bundle into `dir` (the agent's private key opens the sealed parts). `blob` fetches content by hash. */
export async function unpackBundle(manifest: BundleManifest, dir: string, blob: (sha: string) => Promise<Buffer>, privateKey: string): Promise<Unpacked> {
  const fetch = verifiedFetch(blob);
  const open = async (sha: string, sealed: boolean): Promise<Buffer> => {
    const stored = await fetch(sha);
    return sealed ? unseal(JSON.parse(stored.toString('utf8')) as Sealed, privateKey) : stored;
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const f of manifest.files) {
    if (f.rel.includes('..') || path.isAbsolute(f.rel)) throw new StarbenchError('JOB_INVALID', `a bundled file leaves the job folder: ${f.rel}`);
    const to = path.join(dir, f.rel);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, await open(f.sha256, f.sealed), { mode: f.sealed ? 0o600 : 0o644 });
  }
  const deviceFile = path.join(dir, checkName(manifest.deviceFileName));
  writeFileSync(deviceFile, await open(manifest.deviceBlob, true), { mode: 0o600 });
  let profile: string;
  if ('id' in manifest.profile) profile = manifest.profile.id;
  else {
    profile = path.join(dir, 'profile', checkName(manifest.profile.name));
    mkdirSync(path.dirname(profile), { recursive: true });
    writeFileSync(profile, await open(manifest.profile.blob, false));
  }
  const plugins: string[] = [];
  for (const p of manifest.plugins) {
    const to = path.join(dir, 'plugins', `${checkName(p.blob.slice(0, 12))}-${checkName(p.name)}`);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, await open(p.blob, false));
    plugins.push(to);
  }
  return { deviceFile, profile, plugins };
}
