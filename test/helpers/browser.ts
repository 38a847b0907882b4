/**
 * Launches Debian's chromium through playwright-core for the browser tests. CI installs chromium when it
 * is missing (.ci/run) and sets VIGO_REQUIRE_BROWSER=1, so there a missing browser fails the run; on a
 * machine without chromium and without that variable the browser tests are skipped, saying why.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { repoRoot } from './server-process.ts';

/** Debian's chromium; VIGO_CHROMIUM_PATH names another (a path that does not exist: as if none were installed). */
export const chromiumPath = process.env['VIGO_CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const screenshotDir = join(repoRoot, 'test-artifacts', 'screenshots');

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Why the browser tests are skipped here, or undefined when they run: chromium is missing and nobody asked
 * for them with VIGO_REQUIRE_BROWSER=1 (which makes requireChromium fail instead).
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(chromiumPath) || process.env['VIGO_REQUIRE_BROWSER'] === '1') return undefined;
  return `no browser at ${chromiumPath}: install it with "apt-get install chromium" to run these tests (VIGO_REQUIRE_BROWSER=1 makes its absence a failure)`;
}

/** Throws, with what to do, when Chromium is not installed. */
export function requireChromium(): void {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `the browser tests need Chromium at ${chromiumPath}; install it with "apt-get install chromium" ` +
        '(.ci/run does this in CI)',
    );
  }
}

/** Chromium's pin format: base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo. */
export function spkiPin(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Chromium that trusts exactly one extra key: the test server's (its CA is private and made for the
 * test). Every other certificate is checked as usual, so nothing else is waved through.
 */
export async function launchChromium(trustedServerCertPem: string): Promise<Browser> {
  requireChromium();
  const pin = `--ignore-certificate-errors-spki-list=${spkiPin(trustedServerCertPem)}`;
  return chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, pin], headless: true });
}

/** A fresh browser profile (its own cookies) at laptop size. */
export async function laptopContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-US' });
  context.setDefaultTimeout(10_000);
  return context;
}

/** Saves a full-page screenshot as test-artifacts/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Clicks `button` (or runs `act`) and waits until the page has landed on the answer of the navigation it
 * caused, past any redirects; returns that answer's status.
 */
export async function submit(p: Page, button: Locator | (() => Promise<void>)): Promise<number> {
  const landed = p.waitForResponse(
    (r) =>
      r.request().isNavigationRequest() &&
      r.request().frame() === p.mainFrame() &&
      (r.status() < 300 || r.status() >= 400),
  );
  await (typeof button === 'function' ? button() : button.click());
  const response = await landed;
  await p.waitForLoadState();
  return response.status();
}

/** Signs in through the login form of the server at `apiUrl`; returns the status the page landed on. */
export async function signIn(
  p: Page,
  apiUrl: string,
  who: { username: string; password: string },
): Promise<number> {
  await p.goto(`${apiUrl}/login`);
  await p.getByLabel('Username').fill(who.username);
  await p.getByLabel('Password').fill(who.password);
  return submit(p, p.getByRole('button', { name: 'Sign in' }));
}
