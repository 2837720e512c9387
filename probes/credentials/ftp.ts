/** FTP USER/PASS logins. */
import { Socket } from 'node:net';
import { ftpLogin } from '../util/ftp';
import { connectForAttempt, type LoginAdapter } from './adapter';

export const ftpLoginAdapter: LoginAdapter = {
  name: 'ftp',
  async attempt(ctx, target, username, password) {
    const sock = await connectForAttempt(ctx, target.port);
    if (!(sock instanceof Socket)) return sock;
    try {
      const r = await ftpLogin(sock, username, password);
      if (r.result === 'accepted') return { kind: 'accepted', detail: `FTP ${r.codes.join(' ')}` };
      if (r.result === 'rejected') return { kind: 'rejected', detail: `FTP ${r.codes.join(' ')}` };
      return { kind: 'error', detail: r.result === 'no-greeting' ? 'no FTP 220 greeting' : `unexpected FTP replies ${r.codes.join(' ')}` };
    } finally {
      sock.destroy();
    }
  },
};
