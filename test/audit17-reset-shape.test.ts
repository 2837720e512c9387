/**
 * After a factory reset, "the data is gone" needs the same data page to come
 * back, empty: a device that answers every page with a setup wizard (or a
 * login page, or an error with 200) after the reset says nothing about
 * whether the data was wiped.
 */
import { resetScenario } from './audit-helpers';
import { pageShape, sameShape } from '../probes/util/shape';

const CANARY = 'taro.reset.canary@example.jp';

type After = 'setup-wizard' | 'emptied-json' | 'nulled-json' | 'emptied-fields' | 'html-login' | 'kept';

const ACCOUNT = (email: string) =>
  `<html><head><title>Account</title></head><body><form method="post"><input name="email" value="${email}"><input name="tz" value="JST"></form></body></html>`;

/** /config shows the owner's e-mail; POST /reset resets; what the device answers afterwards is the scenario. */
const deletion = (after: After, json: boolean) =>
  resetScenario(CANARY, (url, wasReset): [string, string] | undefined => {
    if (wasReset && after === 'setup-wizard')
      return ['text/html', '<html><head><title>Welcome</title></head><body><h1>Set up your camera</h1><a href="/step1">Start</a></body></html>'];
    if (wasReset && after === 'html-login')
      return ['text/html', '<html><title>Sign in</title><form><input name="user"><input name="pass" type="password"></form></html>'];
    if (url !== '/config') return undefined;
    const email = wasReset && after !== 'kept' ? '' : CANARY;
    if (json) {
      const body = wasReset && after === 'nulled-json' ? { owner: null, settings: { tz: 'UTC' } } : { owner: { email }, settings: { tz: 'JST' } };
      return ['application/json', JSON.stringify(body)];
    }
    return ['text/html; charset=utf-8', ACCOUNT(email)];
  });

describe('a factory reset is judged on the same data page, now empty', () => {
  it.each([
    ['a setup wizard on every page after the reset (HTML read-back)', 'setup-wizard', false],
    ['a setup wizard on every page after the reset (JSON read-back)', 'setup-wizard', true],
    ['a sign-in page with 200 after the reset', 'html-login', false],
    ['the JSON with the owner object gone (owner: null): where the data sat is not there', 'nulled-json', true],
  ] as const)(
    '%s: inconclusive, never pass',
    async (_name, after, json) => {
      const c = await deletion(after, json);
      expect(c.verdict).toBe('inconclusive');
      expect(c.rationale).toMatch(/no longer looks like the data page/);
    },
    60_000,
  );

  it.each([
    ['the account form with its fields emptied', 'emptied-fields', false],
    ['the JSON with the owner e-mail emptied, same keys', 'emptied-json', true],
  ] as const)(
    '%s: pass, and says the page was the same',
    async (_name, after, json) => {
      const c = await deletion(after, json);
      expect(c.verdict).toBe('pass');
      expect(c.findings.map((f) => f.message).join(' ')).toMatch(/same (text\/html|application\/json) page/);
    },
    60_000,
  );

  it('the data still there after the reset is a fail', async () => {
    expect((await deletion('kept', false)).verdict).toBe('fail');
  }, 60_000);
});

describe('page shapes', () => {
  const shape = (t: string, ct: string, look: string[] = []) => pageShape(t, ct, [CANARY], look);
  it('locates the data by its JSON key path, its form field, or the word before it on its line', () => {
    expect(shape(JSON.stringify({ owner: { email: CANARY } }), 'application/json').anchors).toEqual(['json:owner.email']);
    expect(shape(ACCOUNT(CANARY), 'text/html').anchors).toEqual(['field:email']);
    expect(shape(`<table><tr><td>Owner e-mail</td><td>${CANARY}</td></tr></table>`, 'text/html').anchors).toEqual(['text:e-mail</td><td>']);
    expect(shape(`user.email=${CANARY}\nuser.tz=JST\n`, 'text').anchors).toEqual(['text:user.email=']);
    // Nothing of an earlier value on the line is kept.
    expect(shape(`password=hunter2 email=${CANARY}`, 'text').anchors).toEqual(['text:email=']);
  });
  it('a different media type, a lost structure or a lost place for the data is not the same page', () => {
    const before = shape(`email=${CANARY}\n`, 'text');
    expect(sameShape(before, shape('', 'text', before.anchors)).same).toBe(false);
    expect(sameShape(before, shape('email=\n', 'text', before.anchors)).same).toBe(true);
    const j = shape(JSON.stringify({ owner: { email: CANARY } }), 'application/json');
    expect(sameShape(j, shape('<html></html>', 'text/html', j.anchors)).same).toBe(false);
    expect(sameShape(j, shape('{"setup":true}', 'application/json', j.anchors)).same).toBe(false);
    expect(sameShape(j, shape('{"owner":null}', 'application/json', j.anchors)).same).toBe(false);
    expect(sameShape(j, shape('{"owner":{"email":""}}', 'application/json', j.anchors)).same).toBe(true);
    // Nothing to compare with is not "the same".
    const bare = shape(CANARY, 'text');
    expect(sameShape(bare, shape('', 'text', bare.anchors)).same).toBe(false);
  });
});
