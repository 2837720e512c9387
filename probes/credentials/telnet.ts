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
/** Words of a refusal: read only when no shell could be shown (a welcome banner says "failed login attempts" too). */
const REFUSAL_WORDS = /\b(incorrect|denied|failed|invalid)\b/i;
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
      const first = await t.waitFor(new RegExp(`${LOGIN_PROMPT.source}|${PASSWORD_PROMPT.source}|${SHELL_PROMPT.source}`, 'i'), promptMs);
      if (!first) {
        // A banner that says the account is locked, then nothing: not a judged password.
        if (LOCK_TEXT.test(t.text)) return { kind: 'locked', detail: `before any login prompt: "${LOCK_TEXT.exec(t.text)![0]}"` };
        return { kind: 'error', detail: t.closed ? 'connection closed before a login prompt' : `no login prompt within ${Math.round(promptMs / 1000)} s` };
      }
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
      // busybox login sleeps ~3 s before "Login incorrect": wait for a new login prompt (refused), a shell prompt, or the end.
      const next = await t.waitFor(new RegExp(`${LOGIN_PROMPT.source}|${SHELL_PROMPT.source}`, 'i'), loginWaitMs(ctx, 8000), afterPassword + 2);
      if (next && LOGIN_PROMPT.test(t.text.slice(afterPassword + 2)))
        return { kind: 'rejected', detail: REFUSAL_WORDS.exec(t.text.slice(afterPassword))?.[0] ?? 'a new login prompt' };
      // Whatever was said, a session is proven only by what only a shell can do; no word is read as a refusal before that.
      if (!t.closed) {
        const beforeProof = t.text.length;
        t.send(`echo SB$((1234+4321))`);
        const proof = await t.waitFor(new RegExp(`${PROOF}|${LOGIN_PROMPT.source}`, 'i'), 6000, beforeProof);
        if (proof?.[0] === PROOF) return { kind: 'accepted', detail: 'shell ran echo $((1234+4321))' };
        if (proof) return { kind: 'rejected', detail: 'a new login prompt' };
      }
      const said = t.text.slice(afterPassword);
      if (REFUSAL_WORDS.test(said)) return { kind: 'rejected', detail: REFUSAL_WORDS.exec(said)![0] };
      if (LOCK_TEXT.test(said)) return { kind: 'locked', detail: `after the password: "${LOCK_TEXT.exec(said)![0]}"` };
      if (t.closed) return { kind: 'hung-up', detail: 'connection closed after the password, with neither a shell nor a refusal' };
      return { kind: 'error', detail: 'neither a shell nor a refusal after the password' };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      sock.destroy();
    }
  },
};
