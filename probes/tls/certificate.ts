/**
 * The certificate a TLS service presents: key type and size (Node's
 * X509Certificate), signature algorithm (node-forge's ASN.1 reader and OID
 * table), validity, self-signature, and whether it names the address.
 */
import { createHash, X509Certificate } from 'node:crypto';
import net from 'node:net';
import forge from 'node-forge';

export interface CertificateFacts {
  subject: string;
  issuer: string;
  keyType: string;
  keyBits?: number;
  curve?: string;
  signatureAlgorithm: string;
  notBefore: string;
  notAfter: string;
  selfSigned: boolean;
  matchesTarget: boolean;
  sha256: string;
  /** SHA-256 of the public key (SubjectPublicKeyInfo, DER): the same key under two certificates is one key. */
  keySha256?: string;
}

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp224r1: 224, prime192v1: 192, secp256k1: 256 };

function signatureAlgorithm(der: Buffer): string {
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signature } (RFC 5280 §4.1)
  const asn = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const algId = (asn.value as forge.asn1.Asn1[])[1];
  const oid = forge.asn1.derToOid((algId.value as forge.asn1.Asn1[])[0].value as string);
  return forge.pki.oids[oid] ?? oid;
}

export function certificateFacts(der: Buffer, target: string): CertificateFacts {
  const x = new X509Certificate(der);
  const key = x.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve;
  const keyBits = details.modulusLength ?? (curve ? CURVE_BITS[curve] : key.asymmetricKeyType === 'ed25519' ? 256 : undefined);
  let selfSigned: boolean;
  try {
    selfSigned = x.subject === x.issuer && x.verify(key);
  } catch {
    // A key the verifier cannot use (an odd curve, say): not provably self-signed.
    selfSigned = false;
  }
  return {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    keyType: key.asymmetricKeyType ?? 'unknown',
    keyBits,
    curve,
    signatureAlgorithm: signatureAlgorithm(der),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    selfSigned,
    matchesTarget: Boolean(net.isIP(target) ? x.checkIP(target) : x.checkHost(target)),
    sha256: x.fingerprint256,
    keySha256: createHash('sha256')
      .update(key.export({ type: 'spki', format: 'der' }))
      .digest('hex'),
  };
}
