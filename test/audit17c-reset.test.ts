/**
 * A fourth audit. privacy.data-deletion: "the places that held the data must be there AND empty". "Empty" is judged too
 * narrowly, so a page whose data place still holds the owner's data in another form (masked, nested, upper-case
 * hex) passes as "the same page, emptied".
 */
import { deletionVerdict } from './audit-helpers';

const C = 'owner-5b2c@canary.example';
const MASKED = 'o***-5b2c@canary.example'.replace('-5b2c', '');

it('text anchor: the value now wrapped in a tag is read as empty (textAfter stops at "<")', async () => {
  const page = (v: string) => `<html><head><title>Account</title></head><body><table>\n<tr><td>E-mail</td><td>${v}</td></tr>\n</table></body></html>`;
  const c = await deletionVerdict(C, 'text/html', page(C), page(`<span class="v">${MASKED}</span>`));
  expect(c.verdict).not.toBe('pass');
}, 60_000);

it('JSON anchor: the string replaced by an object holding it is read as empty (filled = leaves only)', async () => {
  const c = await deletionVerdict(
    C,
    'application/json',
    JSON.stringify({ owner: { email: C } }),
    JSON.stringify({ owner: { email: { masked: MASKED, verified: true } } }),
  );
  expect(c.verdict).not.toBe('pass');
}, 60_000);

it('form field: data-value="" ahead of value="…" makes the field read as empty', async () => {
  const page = (attrs: string) => `<html><head><title>Account</title></head><body><form>\n<input name="email" ${attrs}>\n</form></body></html>`;
  const c = await deletionVerdict(C, 'text/html', page(`value="${C}"`), page(`data-value="" value="${MASKED}"`));
  expect(c.verdict).not.toBe('pass');
}, 60_000);

it('canary forms: upper-case hex of the canary elsewhere on the emptied page is not found', async () => {
  const hex = Buffer.from(C).toString('hex').toUpperCase();
  const c = await deletionVerdict(
    C,
    'application/json',
    JSON.stringify({ owner: { email: C } }),
    JSON.stringify({ owner: { email: '' }, diag: { lastOwnerHex: hex } }),
  );
  expect(c.verdict).not.toBe('pass');
}, 60_000);
