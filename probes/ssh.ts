/**
 * ssh: for every SSH port, the server's identification, the algorithm lists
 * of its first (unencrypted) KEXINIT, each host key it serves with its size,
 * and the authentication methods it offers to a "none" request.
 */
import { Client, type AuthenticationType } from 'ssh2';
import { z } from 'zod';
import { defineFact } from '../harness/facts';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { openPorts } from './ports';
import { hostKeyFacts, readServerHello, type KexInit } from './util/ssh-wire';

// ssh2 negotiates only what it is told to; offer everything it implements so
// an old device with only legacy algorithms still shows its host key.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SSH2: Record<'SUPPORTED_KEX' | 'SUPPORTED_CIPHER' | 'SUPPORTED_MAC', string[]> = require('ssh2/lib/protocol/constants');
const TIMEOUT_MS = 6000;
export const OUR_IDENT = 'SSH-2.0-starbench_0.1';

/** One host-key algorithm per key type: the keys behind rsa-sha2-* and ssh-rsa are the same. */
const KEY_FAMILY: Record<string, string> = {
  'rsa-sha2-512': 'rsa',
  'rsa-sha2-256': 'rsa',
  'ssh-rsa': 'rsa',
  'ssh-dss': 'dsa',
  'ecdsa-sha2-nistp256': 'ecdsa-256',
  'ecdsa-sha2-nistp384': 'ecdsa-384',
  'ecdsa-sha2-nistp521': 'ecdsa-521',
  'ssh-ed25519': 'ed25519',
};

const hostKey = z.object({
  algorithm: z.string(),
  type: z.string().optional(),
  bits: z.number().optional(),
  /** OpenSSH-style SHA256 fingerprint (absent in runs recorded before it was kept). */
  sha256: z.string().optional(),
  error: z.string().optional(),
});
export type HostKey = z.infer<typeof hostKey>;
const names = z.array(z.string());

/** One SSH service: banner, the server's KEXINIT lists, every host key sized, the auth methods offered. */
export const SshServiceFact = defineFact(
  'ssh-service',
  z.object({
    port: z.number().int(),
    banner: z.string().optional(),
    protocolVersion: z.string().optional(),
    kexinit: z
      .object({
        kex: names,
        hostKey: names,
        encryptionClientToServer: names,
        encryptionServerToClient: names,
        macClientToServer: names,
        macServerToClient: names,
        compressionClientToServer: names,
        compressionServerToClient: names,
      })
      .optional(),
    hostKeys: z.array(hostKey),
    authMethods: names.optional(),
    error: z.string().optional(),
  }),
  (s) =>
    !s.kexinit
      ? `SSH ${s.port}: no KEXINIT (${s.error ?? 'no answer'})`
      : s.hostKeys.some((k) => k.bits !== undefined)
        ? null
        : `SSH ${s.port}: no host key read`,
);

export type SshServiceFacts = Omit<z.infer<typeof SshServiceFact.schema>, 'kexinit'> & { kexinit?: KexInit };

export function sshPorts(ctx: ProbeContext): number[] {
  const ports = new Set(ctx.device.services.filter((s) => s.transport === 'tcp' && s.protocol === 'ssh').map((s) => s.port));
  for (const r of openPorts(ctx)) if (r.service === 'ssh') ports.add(r.port);
  return [...ports].sort((a, b) => a - b);
}

function fetchHostKey(ctx: ProbeContext, port: number, algorithm: string): Promise<{ key?: Buffer; methods?: string[]; error?: string }> {
  return ctx.connector.tcp(port, { signal: ctx.signal }).then(
    (sock) =>
      new Promise((resolve) => {
        const c = new Client();
        let key: Buffer | undefined;
        let methods: string[] | undefined;
        let asked = false;
        let settled = false;
        const done = (error?: string): void => {
          if (settled) return;
          settled = true;
          c.end();
          sock.destroy();
          resolve({ key, methods, error: key ? undefined : error });
        };
        c.on('error', (err: Error & { level?: string }) => done(err.level === 'client-authentication' ? undefined : err.message));
        c.on('ready', () => done());
        c.on('close', () => done('connection closed'));
        c.connect({
          sock,
          username: 'starbench',
          readyTimeout: TIMEOUT_MS,
          algorithms: {
            serverHostKey: [algorithm] as never,
            kex: SSH2.SUPPORTED_KEX as never,
            cipher: SSH2.SUPPORTED_CIPHER as never,
            hmac: SSH2.SUPPORTED_MAC as never,
          },
          hostVerifier: (k: Buffer) => {
            key = Buffer.from(k);
            return true;
          },
          authHandler: (left, _partial, next) => {
            // RFC 4252 §5.2: the answer to "none" lists the methods that can continue.
            if (!asked) {
              asked = true;
              return next({ type: 'none', username: 'starbench' });
            }
            methods = left ?? [];
            next(false as unknown as AuthenticationType);
          },
        });
      }),
    (err: Error) => ({ error: err.message }),
  );
}

export async function probeSshService(ctx: ProbeContext, port: number): Promise<SshServiceFacts> {
  const facts: SshServiceFacts = { port, hostKeys: [] };
  try {
    const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
    const hello = await readServerHello(sock, OUR_IDENT, TIMEOUT_MS);
    facts.banner = hello.banner;
    facts.protocolVersion = hello.banner.split('-')[1];
    facts.kexinit = hello.kexinit;
  } catch (err) {
    facts.error = (err as Error).message;
    return facts;
  }
  const families = new Map<string, string>();
  for (const alg of facts.kexinit!.hostKey) {
    const fam = KEY_FAMILY[alg];
    if (fam && !families.has(fam)) families.set(fam, alg);
  }
  for (const alg of families.values()) {
    const got = await fetchHostKey(ctx, port, alg);
    if (got.methods && !facts.authMethods) facts.authMethods = got.methods;
    facts.hostKeys.push(got.key ? { algorithm: alg, ...hostKeyFacts(got.key) } : { algorithm: alg, error: got.error ?? 'no key' });
  }
  for (const alg of facts.kexinit!.hostKey.filter((a) => !KEY_FAMILY[a]))
    facts.hostKeys.push({ algorithm: alg, error: 'algorithm starbench cannot negotiate' });
  return facts;
}

export const sshProbe: Probe = {
  id: 'ssh',
  title: 'SSH algorithms (KEXINIT), host keys and offered authentication methods',
  needs: ['host'],
  facts: [SshServiceFact],
  dependsOn: ['tcp-ports'],
  clauses: ['EN 303 645 5.5-1', 'EN 303 645 5.1-3', 'TS 103 701 5.5-1-2'],
  async run(ctx) {
    const ports = sshPorts(ctx);
    const facts = await Promise.all(ports.map((p) => probeSshService(ctx, p)));
    const observations: Observation[] = facts.map((f) => ({
      kind: 'ssh-service',
      port: f.port,
      protocol: 'ssh',
      summary: f.error
        ? `SSH ${f.port}: ${f.error}`
        : `SSH ${f.port}: ${f.banner}; host keys ${f.hostKeys.map((k) => (k.bits ? `${k.type} ${k.bits}` : `${k.algorithm} (${k.error})`)).join(', ')}; auth ${f.authMethods?.join(',') ?? '?'}`,
      data: { ...f },
    }));
    return { observations };
  },
};
