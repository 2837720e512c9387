/**
 * Telnet logins. Success is proven by running `echo SB$((1234+4321))` and
 * seeing SB5555, which neither an echoing login prompt nor a banner can
 * produce; refusal is a "Login incorrect" or a new login prompt.
 */
import { Socket } from 'node:net';
import { connectForAttempt, loginWaitMs, type LoginAdapter } from './adapter';
import { LOCK_TEXT } from '../util/http';
import { TelnetSession } from '../util/telnet';

const LOGIN_PROMPT = /(login|user ?name)\s*:\s*$/i;
const PASSWORD_PROMPT = /password\s*:\s*$/i;
const REFUSAL = /(incorrect|denied|failed|invalid)|(login|user ?name)\s*:\s*$/i;
const SHELL_PROMPT = /[#$>%] ?$/;
const PROOF = 'SB5555';

export const telnetLogin: LoginAdapter = {
  name: 'telnet',
  async attempt(ctx, target, username, password) {
    const sock = await connectForAttempt(ctx, target.port);
    if (!(sock instanceof Socket)) return sock;
    const t = new TelnetSession(sock);
    const onAbort = (): void => {
      sock.destroy();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const promptMs = loginWaitMs(ctx, 5000);
      const first = await t.waitFor(new RegExp(`${LOGIN_PROMPT.source}|${PASSWORD_PROMPT.source}|${SHELL_PROMPT.source}|${LOCK_TEXT.source}`, 'i'), promptMs);
      if (!first)
        return { kind: 'error', detail: t.closed ? 'connection closed before a login prompt' : `no login prompt within ${Math.round(promptMs / 1000)} s` };
      if (LOCK_TEXT.test(first[0])) return { kind: 'locked', detail: `before the login prompt: "${first[0].trim()}"` };
      if (!LOGIN_PROMPT.test(t.text) && !PASSWORD_PROMPT.test(t.text)) {
        // A prompt but no login: prove it is a shell before saying so.
        const mark = t.text.length;
        t.send(`echo SB$((1234+4321))`);
        if (await t.waitFor(new RegExp(PROOF), 3000, mark)) return { kind: 'accepted', detail: 'a shell with no login at all' };
        return { kind: 'error', detail: 'a prompt that is neither a login nor a shell' };
      }
      if (LOGIN_PROMPT.test(t.text)) {
        t.send(username);
        const mark = t.text.length;
        if (!(await t.waitFor(PASSWORD_PROMPT, promptMs, mark)))
          return { kind: t.closed ? 'hung-up' : 'error', detail: t.closed ? 'connection closed after the username' : 'no password prompt after the username' };
      }
      const afterPassword = t.text.length;
      t.send(password);
      // busybox login sleeps ~3 s before "Login incorrect": wait for a refusal or a prompt, whichever comes.
      const next = await t.waitFor(new RegExp(`${LOCK_TEXT.source}|${REFUSAL.source}|${SHELL_PROMPT.source}`, 'i'), loginWaitMs(ctx, 8000), afterPassword + 2);
      if (next && LOCK_TEXT.test(next[0])) return { kind: 'locked', detail: `after the password: "${next[0].trim()}"` };
      if (next && REFUSAL.test(next[0])) return { kind: 'rejected', detail: next[0].trim() };
      if (!next && t.closed) return { kind: 'hung-up', detail: 'connection closed after the password, with neither a shell nor a refusal' };
      const beforeProof = t.text.length;
      t.send(`echo SB$((1234+4321))`);
      const proof = await t.waitFor(new RegExp(`${PROOF}|${REFUSAL.source}`, 'i'), 6000, beforeProof);
      if (proof?.[0] === PROOF) return { kind: 'accepted', detail: 'shell ran echo $((1234+4321))' };
      if (proof) return { kind: 'rejected', detail: proof[0].trim() };
      if (t.closed) return { kind: 'hung-up', detail: 'connection closed after the password, with neither a shell nor a refusal' };
      return { kind: 'error', detail: 'neither a shell nor a refusal after the password' };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      sock.destroy();
    }
  },
};
