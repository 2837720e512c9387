/**
 * Evidence bundles a lab can file: a manifest with the SHA-256 of every file
 * of a run folder, a detached signature over the manifest (RSA-PSS with
 * node-forge, or ECDSA P-256/P-384 with Node's crypto, which forge lacks),
 * one .tar.gz archive, and a verifier that names every file that changed.
 */
import { SECRETS_FILE } from '../harness/secrets';
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import type * as TarModule from 'tar';
import { writeFileAtomic } from '../harness/atomic';
import { StarbenchError } from '../harness/errors';
import { sha256Hex } from '../harness/hash';
import { TOOL_VERSION } from '../harness/version';

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig.json';
const MANIFEST_FORMAT = 'starbench-manifest/1';
/** A bundle larger than this is refused when extracted (a hostile archive). */
const MAX_EXTRACT_BYTES = 2 * 1024 * 1024 * 1024;

export interface ManifestFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  runId: string;
  tool: string;
  created: string;
  files: ManifestFile[];
}

export interface SignatureFile {
  algorithm: 'RSASSA-PSS-SHA256' | 'ECDSA-SHA256';
  /** SHA-256 of the signer's public key (SPKI DER), hex. */
  keyId: string;
  publicKey: string;
  signedAt: string;
  manifestSha256: string;
  signature: string;
}

/** Every regular file under `dir`, relative, sorted; the manifest, the signature and secrets.json excluded. */
export function runFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && r !== MANIFEST && r !== SIGNATURE && r !== SECRETS_FILE) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

function runIdOf(dir: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as { run: { id: string } }).run.id;
  } catch {
    return path.basename(dir);
  }
}

export function buildManifest(dir: string): Manifest {
  const files = runFiles(dir).map((p) => {
    const b = readFileSync(path.join(dir, p));
    return { path: p, sha256: sha256Hex(b), bytes: b.length };
  });
  return { format: MANIFEST_FORMAT, runId: runIdOf(dir), tool: `starbench ${TOOL_VERSION}`, created: new Date().toISOString(), files };
}

export function writeManifest(dir: string): Manifest {
  const m = buildManifest(dir);
  writeFileAtomic(path.join(dir, MANIFEST), JSON.stringify(m, null, 2) + '\n');
  return m;
}

function keyId(pub: KeyObject): string {
  return sha256Hex(pub.export({ type: 'spki', format: 'der' }));
}

/** Sign the run folder's manifest (written fresh) with a PEM private key. */
export function signRun(dir: string, privatePem: string, passphrase?: string): SignatureFile {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privatePem, passphrase });
  } catch (err) {
    throw new StarbenchError('USAGE', `cannot read the signing key: ${(err as Error).message}`);
  }
  writeManifest(dir);
  const manifestBytes = readFileSync(path.join(dir, MANIFEST));
  const pub = createPublicKey(key);
  let algorithm: SignatureFile['algorithm'];
  let signature: string;
  if (key.asymmetricKeyType === 'rsa') {
    // node-forge RSA-PSS: SHA-256, MGF1 with SHA-256, 32-byte salt.
    const forgeKey = forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }) as string);
    const md = forge.md.sha256.create();
    md.update(manifestBytes.toString('binary'));
    const pss = forge.pss.create({ md: forge.md.sha256.create(), mgf: forge.mgf.mgf1.create(forge.md.sha256.create()), saltLength: 32 });
    signature = Buffer.from(forgeKey.sign(md, pss), 'binary').toString('base64');
    algorithm = 'RSASSA-PSS-SHA256';
  } else if (key.asymmetricKeyType === 'ec') {
    signature = nodeSign('sha256', manifestBytes, key).toString('base64');
    algorithm = 'ECDSA-SHA256';
  } else {
    throw new StarbenchError('USAGE', `signing keys must be RSA or EC (ECDSA); this one is ${key.asymmetricKeyType}`);
  }
  const sig: SignatureFile = {
    algorithm,
    keyId: keyId(pub),
    publicKey: pub.export({ type: 'spki', format: 'pem' }) as string,
    signedAt: new Date().toISOString(),
    manifestSha256: sha256Hex(manifestBytes),
    signature,
  };
  writeFileAtomic(path.join(dir, SIGNATURE), JSON.stringify(sig, null, 2) + '\n');
  return sig;
}

function signatureValid(sig: SignatureFile, manifestBytes: Buffer): boolean {
  const pub = createPublicKey(sig.publicKey);
  const raw = Buffer.from(sig.signature, 'base64');
  if (sig.algorithm === 'RSASSA-PSS-SHA256') {
    const forgePub = forge.pki.publicKeyFromPem(sig.publicKey) as forge.pki.rsa.PublicKey;
    const md = forge.md.sha256.create();
    md.update(manifestBytes.toString('binary'));
    const pss = forge.pss.create({ md: forge.md.sha256.create(), mgf: forge.mgf.mgf1.create(forge.md.sha256.create()), saltLength: 32 });
    try {
      return forgePub.verify(md.digest().getBytes(), raw.toString('binary'), pss);
    } catch {
      return false;
    }
  }
  if (sig.algorithm === 'ECDSA-SHA256') return nodeVerify('sha256', manifestBytes, pub, raw);
  return false;
}

export interface VerifyResult {
  ok: boolean;
  signed: boolean;
  /** Files that changed, went missing, or appeared; the manifest or signature when they are the problem. */
  problems: Array<{ file: string; problem: string }>;
  checked: number;
  keyId?: string;
  algorithm?: string;
  /** When a public key was given: whether it is the one that signed. */
  pinned?: boolean;
}

/** Check every hash in the manifest and the signature over it. */
export function verifyRunDir(dir: string, trustedPublicPem?: string): VerifyResult {
  const problems: VerifyResult['problems'] = [];
  const mPath = path.join(dir, MANIFEST);
  if (!existsSync(mPath))
    return {
      ok: false,
      signed: false,
      checked: 0,
      problems: [{ file: MANIFEST, problem: 'missing: nothing to verify against (run starbench sign or bundle first)' }],
    };
  const manifestBytes = readFileSync(mPath);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
    if (manifest.format !== MANIFEST_FORMAT || !Array.isArray(manifest.files)) throw new Error(`not a ${MANIFEST_FORMAT} manifest`);
  } catch (err) {
    return {
      ok: false,
      signed: existsSync(path.join(dir, SIGNATURE)),
      checked: 0,
      problems: [{ file: MANIFEST, problem: `unreadable: ${(err as Error).message}` }],
    };
  }
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    const p = path.join(dir, f.path);
    if (!existsSync(p)) problems.push({ file: f.path, problem: 'missing' });
    else if (sha256Hex(readFileSync(p)) !== f.sha256) problems.push({ file: f.path, problem: 'changed (SHA-256 differs from the manifest)' });
  }
  for (const f of runFiles(dir)) if (!listed.has(f)) problems.push({ file: f, problem: 'not in the manifest (added after it was written)' });
  const sPath = path.join(dir, SIGNATURE);
  const result: VerifyResult = { ok: false, signed: existsSync(sPath), problems, checked: manifest.files.length };
  if (result.signed) {
    try {
      const sig = JSON.parse(readFileSync(sPath, 'utf8')) as SignatureFile;
      result.keyId = sig.keyId;
      result.algorithm = sig.algorithm;
      const valid = signatureValid(sig, manifestBytes);
      if (!valid) problems.push({ file: MANIFEST, problem: `signature does not match (${MANIFEST} or ${SIGNATURE} changed)` });
      if (keyId(createPublicKey(sig.publicKey)) !== sig.keyId) problems.push({ file: SIGNATURE, problem: 'keyId does not match the public key it carries' });
      if (trustedPublicPem) {
        result.pinned = keyId(createPublicKey(trustedPublicPem)) === keyId(createPublicKey(sig.publicKey));
        if (!result.pinned) problems.push({ file: SIGNATURE, problem: 'signed with a different key than the one given with --key' });
      }
    } catch (err) {
      problems.push({ file: SIGNATURE, problem: `unreadable: ${(err as Error).message}` });
    }
  }
  result.ok = problems.length === 0;
  return result;
}

/** tar, loaded when a bundle is written or read: an assessment never needs it. */
function loadTar(): typeof TarModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('tar') as typeof TarModule;
}

/** Write `<dir>.tar.gz` (or `out`) holding the run folder with its manifest (and signature, when signed). */
export async function bundleRun(dir: string, out?: string): Promise<{ file: string; manifest: Manifest; signed: boolean }> {
  const signed = existsSync(path.join(dir, SIGNATURE));
  if (signed) {
    // Never bundle a signed folder that changed since it was signed.
    const v = verifyRunDir(dir);
    if (!v.ok)
      throw new StarbenchError(
        'USAGE',
        `the run folder changed since it was signed: ${v.problems.map((p) => `${p.file} ${p.problem}`).join('; ')}; sign it again`,
      );
  } else writeManifest(dir);
  const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  const file = path.resolve(out ?? `${dir.replace(/\/+$/, '')}.tar.gz`);
  const base = path.basename(path.resolve(dir));
  // A credential the device may still hold stays with the lab (mode 600 in the run folder), never in a bundle.
  const secret = `${base}/${SECRETS_FILE}`;
  const tar = loadTar();
  await tar.c({ gzip: true, file, cwd: path.dirname(path.resolve(dir)), portable: true, filter: (p) => p.replace(/^\.\//, '') !== secret }, [base]);
  return { file, manifest, signed };
}

/** Extract a bundle into a fresh temp folder (regular files and folders only, bounded) and verify it. */
export async function verifyBundle(file: string, trustedPublicPem?: string): Promise<VerifyResult & { root: string }> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'sb-verify-'));
  let total = 0;
  try {
    const tar = loadTar();
    await tar.x({
      file,
      cwd: tmp,
      strict: true,
      filter: (_p, entry) => {
        const e = entry as TarModule.ReadEntry;
        if (e.type !== 'File' && e.type !== 'Directory') return false;
        total += e.size ?? 0;
        if (total > MAX_EXTRACT_BYTES) throw new StarbenchError('USAGE', `${file} expands beyond ${MAX_EXTRACT_BYTES} bytes; refusing`);
        return true;
      },
    });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof StarbenchError) throw err;
    throw new StarbenchError('USAGE', `cannot read ${file} as a starbench bundle: ${(err as Error).message}`);
  }
  const tops = readdirSync(tmp);
  const root = tops.length === 1 && statSync(path.join(tmp, tops[0])).isDirectory() ? path.join(tmp, tops[0]) : tmp;
  const r = verifyRunDir(root, trustedPublicPem);
  rmSync(tmp, { recursive: true, force: true });
  return { ...r, root: tops.length === 1 ? tops[0] : '.' };
}
