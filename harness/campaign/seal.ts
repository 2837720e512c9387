/**
 * What a campaign stores about a device in secret (its device file, with the
 * credentials and canaries in it, and any key files) is sealed to the agents'
 * public key: RSA-OAEP (SHA-256) wraps a fresh AES-256-GCM key per value.
 * Whoever can enqueue holds only the public key, so cannot read what others
 * enqueued; only agents hold the private key.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { StarbenchError } from '../errors';

export const SEAL_ALG = 'RSA-OAEP-256+A256GCM';

export interface Sealed {
  alg: typeof SEAL_ALG;
  key: string;
  iv: string;
  tag: string;
  data: string;
}

/** A new agent key pair (PEM): the private half stays on the bench hosts, the public half goes to whoever enqueues. */
export function generateAgentKeys(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 3072,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

export function seal(plain: Buffer, publicKeyPem: string): Sealed {
  let key;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (err) {
    throw new StarbenchError('USAGE', `the agents' public key does not load: ${(err as Error).message}`);
  }
  const aes = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', aes, iv);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  return {
    alg: SEAL_ALG,
    key: publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aes).toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

export function unseal(sealed: Sealed, privateKeyPem: string): Buffer {
  if (sealed?.alg !== SEAL_ALG) throw new StarbenchError('JOB_INVALID', `a sealed value is not ${SEAL_ALG}`);
  try {
    const key = createPrivateKey(privateKeyPem);
    const aes = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(sealed.key, 'base64'));
    const decipher = createDecipheriv('aes-256-gcm', aes, Buffer.from(sealed.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
  } catch (err) {
    throw new StarbenchError('JOB_INVALID', `a sealed value does not open with this agent's key (another key pair, or altered): ${(err as Error).message}`);
  }
}
