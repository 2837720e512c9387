/**
 * The HTML report in a real browser: a saved lab run's report.html, in both
 * languages, opened in headless Chromium (Debian `chromium`, installed with
 * the lab's packages) — no console error, no request leaves the file — and
 * printed to PDF, whose text (read back with poppler's pdftotext) holds every
 * requirement.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import type { Report } from '../../harness/report';
import { starbench } from '../helpers/cli';
import { labDevice } from './lab-state';

const CHROMIUM = '/usr/bin/chromium';
const RUNS = path.resolve(__dirname, '..', '..', 'fixtures', 'runs');
let browser: Browser;

beforeAll(async () => {
  // The lab's package set includes chromium and poppler-utils; its absence is a lab failure, never a skip.
  labDevice('weak');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run fixtures/lab/lab install`);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}, 60_000);
afterAll(async () => browser?.close());

const pdfText = (file: string): string => execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });

describe.each([
  ['lab-weak', 'jc-star-1', 'ja'],
  ['lab-weak', 'jc-star-1', 'en'],
  ['lab-mixed', 'etsi-en-303-645', 'en'],
  ['lab-strong', 'etsi-en-303-645', 'ja'],
])('%s under %s in %s', (run, profile, lang) => {
  it('renders with no console error and no network request, and its PDF lists every requirement', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'sb-render-')), run);
    cpSync(path.join(RUNS, run), dir, { recursive: true });
    const r = await starbench(['report', dir, '--profile', profile, '--lang', lang, '--format', 'html,json', '--quiet']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    page.on('requestfailed', (q) => problems.push(`request failed: ${q.url()}`));
    page.on('request', (q) => {
      if (!q.url().startsWith('file:') && !q.url().startsWith('data:')) problems.push(`network request: ${q.url()}`);
    });
    await page.goto(`file://${path.join(dir, 'report.html')}`, { waitUntil: 'load' });
    expect(await page.$eval('html', (el) => el.getAttribute('lang'))).toBe(lang);
    const pdf = path.join(dir, 'report.pdf');
    await page.pdf({ path: pdf, format: 'A4', printBackground: true });
    await page.close();
    expect(problems).toEqual([]);
    // pdftotext may break a long id across lines; compare without whitespace.
    const text = pdfText(pdf).replace(/\s+/g, '');
    const missing = report.requirements.map((q) => q.id).filter((id) => !text.includes(id.replace(/\s+/g, '')));
    expect({ requirements: report.requirements.length, missing }).toEqual({ requirements: report.requirements.length, missing: [] });
    if (lang === 'ja') for (const word of ['総合判定', '要求事項', '評価方法']) expect(text).toContain(word);
    else expect(text).toContain('Overallverdict');
  }, 60_000);
});
