/** SSH password and keyboard-interactive logins with ssh2. */
import { Socket } from 'node:net';
import { Client, type AuthenticationType } from 'ssh2';
import { connectForAttempt, type AttemptOutcome, type LoginAdapter } from './adapter';

const READY_TIMEOUT_MS = 8000;

export const sshLogin: LoginAdapter = {
  name: 'ssh',
  async attempt(ctx, target, username, password) {
    const sock = await connectForAttempt(ctx, target.port);
    if (!(sock instanceof Socket)) return sock;
    return new Promise<AttemptOutcome>((resolve) => {
      const client = new Client();
      let settled = false;
      let offered: string[] | undefined;
      const done = (o: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        ctx.signal.removeEventListener('abort', onAbort);
        client.end();
        sock.destroy();
        resolve(o);
      };
      const onAbort = (): void => done({ kind: 'error', detail: 'aborted' });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const tryable: AuthenticationType[] = ['password', 'keyboard-interactive'];
      let asked = false;
      client.on('ready', () => done({ kind: 'accepted', detail: offered ? 'session opened' : 'session opened with method "none" (no credentials)' }));
      client.on('error', (err: Error & { level?: string }) => {
        if (err.level !== 'client-authentication') return done({ kind: 'error', detail: err.message });
        if (offered && !offered.includes('password') && !offered.includes('keyboard-interactive')) {
          return done({ kind: 'no-password-login', detail: `server offers only ${offered.join(', ') || 'nothing'}` });
        }
        done({ kind: 'rejected', detail: 'password refused' });
      });
      client.on('close', () => done({ kind: 'error', detail: 'connection closed before authentication finished' }));
      client.connect({
        sock,
        username,
        readyTimeout: READY_TIMEOUT_MS,
        // The device's host key is the SSH probe's business; a login test accepts any.
        hostVerifier: () => true,
        authHandler: (methodsLeft, _partial, next) => {
          // RFC 4252 §5.2: a "none" request makes the server list the methods it accepts.
          if (!asked) {
            asked = true;
            return next({ type: 'none', username });
          }
          offered ??= methodsLeft ?? [];
          const m = tryable.find((x) => offered!.includes(x));
          if (!m) return next(false as unknown as AuthenticationType);
          tryable.splice(tryable.indexOf(m), 1);
          if (m === 'password') return next({ type: 'password', username, password });
          return next({
            type: 'keyboard-interactive',
            username,
            prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
          });
        },
      });
    });
  },
};
