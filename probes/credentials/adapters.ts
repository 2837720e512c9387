/** Every login adapter by name. */
import type { LoginAdapter } from './adapter';
import { ftpLoginAdapter } from './ftp';
import { httpBasicLogin } from './http-basic';
import { httpDigestLogin } from './http-digest';
import { httpFormLogin } from './http-form';
import { mqttLogin } from './mqtt';
import { sshLogin } from './ssh';
import { telnetLogin } from './telnet';

export const ADAPTERS: Record<string, LoginAdapter> = {
  ssh: sshLogin,
  telnet: telnetLogin,
  'http-basic': httpBasicLogin,
  'http-digest': httpDigestLogin,
  'http-form': httpFormLogin,
  mqtt: mqttLogin,
  ftp: ftpLoginAdapter,
};
