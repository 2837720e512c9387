/** Self-signed certificates (node-forge, keys from Node's crypto): throwaway client certificates for probes, and fixture TLS servers. */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface CertOptions {
  commonName?: string;
  bits?: number;
  /** Days from now; negative for an expired certificate. */
  notAfterDays?: number;
  notBeforeDays?: number;
  hash?: 'sha256' | 'sha1';
  /** IP address for the subjectAltName (default 127.0.0.1). */
  ip?: string;
}

export function selfSignedCert(opts: CertOptions = {}): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  const day = 24 * 3600 * 1000;
  cert.validity.notBefore = new Date(Date.now() + (opts.notBeforeDays ?? -1) * day);
  cert.validity.notAfter = new Date(Date.now() + (opts.notAfterDays ?? 365) * day);
  const attrs = [{ name: 'commonName', value: opts.commonName ?? 'starbench-fixture' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: opts.ip ?? '127.0.0.1' }] }]);
  cert.sign(forgeKey, opts.hash === 'sha1' ? forge.md.sha1.create() : forge.md.sha256.create());
  return { key: keyPem, cert: forge.pki.certificateToPem(cert) };
}
