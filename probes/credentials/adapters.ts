/** Every login adapter by name. */
import type { LoginAdapter } from './adapter';
import { ftpLoginAdapter } from './ftp';
import { httpBasicLogin } from './http-basic';
import { httpDigestLogin } from './http-digest';
import { httpFormLogin } from './http-form';
import { mqttLogin } from './mqtt';
import { sshLogin } from './ssh';
import { telnetLogin } from './telnet';

/** The adapter for a password login by its protocol (web logins go by their scheme: basic, digest, form). */
export const ADAPTER_FOR: Record<string, { adapter: string; tls?: boolean }> = {
  ssh: { adapter: 'ssh' },
  telnet: { adapter: 'telnet' },
  mqtt: { adapter: 'mqtt' },
  mqtts: { adapter: 'mqtt', tls: true },
  ftp: { adapter: 'ftp' },
};

export const ADAPTERS: Record<string, LoginAdapter> = {
  ssh: sshLogin,
  telnet: telnetLogin,
  'http-basic': httpBasicLogin,
  'http-digest': httpDigestLogin,
  'http-form': httpFormLogin,
  mqtt: mqttLogin,
  ftp: ftpLoginAdapter,
};
