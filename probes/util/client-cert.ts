/** A credential's TLS client certificate and key, read from their files. */
import { readFileSync } from 'node:fs';
import type { DeviceFile } from '../../harness/device-file/schema';

export function clientCertificate(cred: DeviceFile['credentials'][string] | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (!cred?.certificate || !cred.key) return undefined;
  return { cert: readFileSync(cred.certificate), key: readFileSync(cred.key) };
}

/** The lab's TLS client certificate for a port: the first auth[] entry on it whose credential carries one. */
export function labClientCert(device: Pick<DeviceFile, 'auth' | 'credentials'>, port: number): { cert: Buffer; key: Buffer } | undefined {
  for (const a of device.auth.filter((x) => x.port === port && x.credential)) {
    const cert = clientCertificate(device.credentials[a.credential!]);
    if (cert) return cert;
  }
  return undefined;
}

/** The port is declared `scheme: client-certificate`. */
export const declaredCertificateOnly = (device: Pick<DeviceFile, 'auth'>, port: number): boolean =>
  device.auth.some((a) => a.port === port && a.scheme === 'client-certificate');
