/**
 * The values of a credential change: a fresh one most password rules accept, the declared action with them
 * filled in (each encoded where it lands), and the run folder's secrets.json that lets an interrupted change be
 * undone (mode 600; never evidence, never bundled).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Action, CredentialChange } from '../../harness/device-file/schema';
import { SECRETS_FILE } from '../../harness/secrets';
import type { ProbeContext } from '../../harness/types';
import { bodyType } from './actions';

/** A fresh value most password rules accept: upper and lower case, digits and a hyphen, 17 characters, safe in a URL and a shell. */
export function freshValue(): string {
  const letters = randomBytes(12)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(12, 'q')
    .slice(0, 12);
  return `Sb${letters}-${randomInt(10, 100)}`;
}

const SHELL_SAFE = /^[A-Za-z0-9._~+=:@%,/-]*$/;

/**
 * The declared action with {{old}}, {{new}} and {{username}} filled in, each
 * encoded where it lands: a URL component, a form or JSON body, a shell
 * command (only values that need no quoting), a serial line (no line breaks).
 */
export function fillAction(cc: CredentialChange, values: { old: string; new: string; username: string }): Action {
  const fill = (text: string, encode: (v: string, name: string) => string): string =>
    text.replace(/\{\{\s*(old|new|username)\s*\}\}/g, (_m, name: 'old' | 'new' | 'username') => encode(values[name], name));
  if (cc.http) {
    const type = bodyType(cc.http);
    const inBody =
      type === 'application/json'
        ? (v: string) => JSON.stringify(v).slice(1, -1)
        : type === 'application/x-www-form-urlencoded'
          ? encodeURIComponent
          : (v: string) => v;
    return {
      http: { ...cc.http, url: fill(cc.http.url, encodeURIComponent), ...(cc.http.body !== undefined ? { body: fill(cc.http.body, inBody) } : {}) },
    };
  }
  if (cc.ssh)
    return {
      ssh: {
        ...cc.ssh,
        command: fill(cc.ssh.command, (v, name) => {
          if (!SHELL_SAFE.test(v))
            throw new Error(`the ${name} value has characters a shell would interpret: it cannot be put in credentialChange.ssh.command`);
          return v;
        }),
      },
    };
  if (cc.serial)
    return {
      serial: {
        ...cc.serial,
        send: fill(cc.serial.send, (v, name) => {
          if (/[\r\n]/.test(v)) throw new Error(`the ${name} value has a line break: it cannot be typed on the serial line`);
          return v;
        }),
      },
    };
  const instructions = fill(cc.operator!.instructions, (v) => v);
  return {
    operator: { instructions: /\{\{\s*new\s*\}\}/.test(cc.operator!.instructions) ? instructions : `${instructions}\nSet the new value to: ${values.new}` },
  };
}

export interface Secrets {
  account: string;
  username: string;
  original: string;
  new: string;
  at: string;
}

function secretsPath(ctx: ProbeContext): string | undefined {
  return ctx.runDir ? path.join(ctx.runDir, SECRETS_FILE) : undefined;
}

export function writeSecrets(ctx: ProbeContext, s: Secrets): void {
  const p = secretsPath(ctx);
  if (p) writeFileSync(p, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
}

export function readSecrets(ctx: ProbeContext): Secrets | undefined {
  const p = secretsPath(ctx);
  if (!p || !existsSync(p)) return undefined;
  try {
    const s = JSON.parse(readFileSync(p, 'utf8')) as Secrets;
    return typeof s.new === 'string' && typeof s.original === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

export function dropSecrets(ctx: ProbeContext): void {
  const p = secretsPath(ctx);
  if (p) rmSync(p, { force: true });
}
