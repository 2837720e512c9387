/** SSH password and keyboard-interactive logins with ssh2. */
import { Client, type AuthenticationType } from 'ssh2';
import type { LoginAdapter } from './adapter';

const READY_TIMEOUT_MS = 8000;

export const sshLogin: LoginAdapter = {
  protocol: 'ssh',
  async attempt(ctx, target, username, password) {
    let sock;
    try {
      sock = await ctx.connector.tcp(target.port, { signal: ctx.signal });
    } catch (err) {
      return { kind: 'error', detail: (err as Error).message };
    }
    return new Promise((resolve) => {
      const client = new Client();
      let settled = false;
      const done = (o: Awaited<ReturnType<LoginAdapter['attempt']>>): void => {
        if (settled) return;
        settled = true;
        ctx.signal.removeEventListener('abort', onAbort);
        client.end();
        sock.destroy();
        resolve(o);
      };
      const onAbort = (): void => done({ kind: 'error', detail: 'aborted' });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const methods: AuthenticationType[] = ['password', 'keyboard-interactive'];
      client.on('ready', () => done({ kind: 'accepted', detail: 'session opened' }));
      client.on('error', (err: Error & { level?: string }) => {
        if (err.level === 'client-authentication') done({ kind: 'rejected', detail: 'all authentication methods failed' });
        else done({ kind: 'error', detail: err.message });
      });
      client.on('close', () => done({ kind: 'error', detail: 'connection closed before authentication finished' }));
      client.connect({
        sock,
        username,
        readyTimeout: READY_TIMEOUT_MS,
        // The device's host key is the SSH probe's business; a login test accepts any.
        hostVerifier: () => true,
        authHandler: (methodsLeft, _partial, next) => {
          const offered = methodsLeft ?? methods;
          const m = methods.find((x) => offered.includes(x));
          if (!m) return next(false as unknown as AuthenticationType);
          methods.splice(methods.indexOf(m), 1);
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
