/** comms.ssh — EN 303 645 5.5-1, 5.1-3: SSH services offer no broken algorithms or weak host keys. */
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';
import { noServiceJudgement } from './discovery';
import { factsOf, basis } from '../../harness/facts';
import { SshServiceFact } from '../../probes/ssh';

// RFC 9142 §4 / RFC 8732: group1 and group-exchange-sha1 are no longer acceptable on their own.
const LEGACY_ONLY_KEX = new Set(['diffie-hellman-group1-sha1', 'diffie-hellman-group-exchange-sha1']);
// Key-exchange pseudo-algorithms (RFC 8308 ext-info, OpenSSH strict kex, dropbear's kexguess2) are not real choices.
const PSEUDO_KEX = /^(ext-info-|kex-strict-|kexguess2@)/;
const SHA1_VARIANTS = /^(ssh-rsa|diffie-hellman-group14-sha1|hmac-sha1(-etm@openssh\.com)?)$/;

export const sshCheck: Check = {
  id: 'comms.ssh',
  title: 'SSH services offer no broken algorithms or weak host keys',
  failsWhen: 'an SSH service offers broken algorithms or weak host keys',
  probes: ['ssh'],
  implemented: true,
  fix: 'Use an Ed25519 or ECDSA host key (or RSA ≥ 3072), drop DSA; offer curve25519/ECDH and DH group14+ with SHA-2, AES-CTR/GCM or ChaCha20-Poly1305, and SHA-2 MACs only.',
  judge(input) {
    const g = gate(input, 'ssh');
    if (!g.ok) return g.judgement;
    const services = factsOf(g.result, SshServiceFact);
    if (services.length === 0) return noServiceJudgement(input, 'SSH');
    const findings: Finding[] = [];
    const unsure: string[] = [];
    for (const s of services) {
      const at = { port: s.port, protocol: 'ssh' };
      const bad = (message: string): number => findings.push({ ...at, severity: 'high', message: `SSH ${s.port}: ${message}` });
      const warn = (message: string): number => findings.push({ ...at, severity: 'low', message: `SSH ${s.port}: ${message}` });
      if (!s.kexinit) {
        unsure.push(`${s.port}: ${s.error}`);
        continue;
      }
      if (s.protocolVersion && !['2.0', '1.99'].includes(s.protocolVersion)) bad(`speaks SSH protocol ${s.protocolVersion}`);
      else if (s.protocolVersion === '1.99') bad('also accepts SSH protocol 1 (identification 1.99)');
      for (const k of s.hostKeys) {
        if (k.type === 'ssh-dss' || k.algorithm === 'ssh-dss') bad(`DSA host key${k.bits ? ` (${k.bits} bit)` : ' offered'}`);
        else if (k.type === 'ssh-rsa' && k.bits !== undefined && k.bits < 2048) bad(`RSA host key of ${k.bits} bit (minimum 2048)`);
        if (k.error) findings.push({ ...at, severity: 'info', message: `SSH ${s.port}: advertises ${k.algorithm} but no key could be fetched (${k.error})` });
      }
      if (!s.hostKeys.some((k) => k.bits !== undefined)) unsure.push(`${s.port}: no host key could be read`);
      const enc = [...new Set([...s.kexinit.encryptionClientToServer, ...s.kexinit.encryptionServerToClient])];
      const mac = [...new Set([...s.kexinit.macClientToServer, ...s.kexinit.macServerToClient])];
      const weakCiphers = enc.filter((c) => /-cbc(@|$)|arcfour|^rc4|blowfish|cast128|^des|^3des|^none$/i.test(c));
      if (weakCiphers.length) bad(`offers weak ciphers ${weakCiphers.join(', ')}`);
      const weakMacs = mac.filter((m) => /md5|-96(-etm@openssh\.com)?$|^none$/i.test(m));
      if (weakMacs.length) bad(`offers weak MACs ${weakMacs.join(', ')}`);
      const kex = s.kexinit.kex.filter((k) => !PSEUDO_KEX.test(k));
      if (kex.length > 0 && kex.every((k) => LEGACY_ONLY_KEX.has(k))) bad(`offers only legacy key exchange ${kex.join(', ')}`);
      else if (kex.some((k) => LEGACY_ONLY_KEX.has(k))) warn(`also offers legacy key exchange ${kex.filter((k) => LEGACY_ONLY_KEX.has(k)).join(', ')}`);
      const sha1 = [...s.kexinit.hostKey, ...kex, ...mac].filter((a) => SHA1_VARIANTS.test(a));
      if (sha1.length) warn(`offers SHA-1 variants alongside modern algorithms: ${[...new Set(sha1)].join(', ')}`);
    }
    const failures = findings.filter((f) => f.severity === 'high');
    if (failures.length)
      return { verdict: 'fail', rationale: `${failures.length} SSH weakness(es) on ${[...new Set(failures.map((f) => f.port))].join(', ')}`, findings };
    if (unsure.length) return { verdict: 'inconclusive', rationale: `no weakness seen, but: ${unsure.join('; ')}`, findings };
    return {
      verdict: 'pass',
      rationale: `current algorithms and host keys on ${services
        .map(
          (s) =>
            `${s.port} (${s.hostKeys
              .filter((k) => k.bits)
              .map((k) => `${k.type} ${k.bits}`)
              .join(', ')})`,
        )
        .join(', ')}`,
      findings,
      basis: basis(['ssh', SshServiceFact]),
    };
  },
};
