/** A credential's TLS client certificate and key, read from their files. */
import { readFileSync } from 'node:fs';
import type { DeviceFile } from '../../harness/device-file/schema';

export function clientCertificate(cred: DeviceFile['credentials'][string] | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (!cred?.certificate || !cred.key) return undefined;
  return { cert: readFileSync(cred.certificate), key: readFileSync(cred.key) };
}
