/**
 * The layout, first run, audit and Add hosts pages in a real browser (Debian's chromium) against a real
 * vigosrv and a real agent: a fresh server sends the first visit to /setup, a refused setup keeps what was
 * typed, a successful one signs the admin in; Add hosts creates a token and shows the install command with
 * the CA pinned; the audit log filters by actor, action and time and shows the envoy by hostname; dark mode
 * follows the system; at 390 px no page scrolls sideways. Screenshots land in test-artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { caFingerprintSha256 } from '../../server/bootstrap/index.ts';
import { createEnrollToken } from '../helpers/agent-client.ts';
import {
  browserSkipReason,
  laptopContext,
  launchChromium,
  requireChromium,
  screenshot,
  submit,
} from '../helpers/browser.ts';
import type { ReadyServer } from '../helpers/server-process.ts';
import { makeTempDir, repoRoot, startServer } from '../helpers/server-process.ts';
import { cleanCliEnv } from '../helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-kit-srv-');
const work = makeTempDir('vigo-kit-work-');
const admin = { username: 'kit', password: 'a passphrase long enough' };
const skip = browserSkipReason();

let server: ReadyServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

/** Clicks `button` and returns the status of the page the browser lands on (after redirects). */
function enrollAgent(hostname: string, token: string): Promise<void> {
  const stateDir = join(work.path, hostname);
  return new Promise((resolve, reject) => {
    execFile(
      join(repoRoot, 'bin', 'vigo'),
      [
        'enroll',
        '--server',
        `127.0.0.1:${server.apiPort}`,
        '--token',
        token,
        '--ca',
        join(serverDir.path, 'tls', 'ca.crt'),
        '--hostname',
        hostname,
        '--state-dir',
        stateDir,
        '--log-level',
        'warn',
      ],
      { env: cleanCliEnv(work.path), timeout: 60_000 },
      (err, _stdout, stderr) => (err === null ? resolve() : reject(new Error(stderr))),
    );
  });
}

before(async () => {
  if (skip !== undefined) return;
  requireChromium();
  server = await startServer({ dataDir: serverDir.path });
  await enrollAgent('kit-web-1', await createEnrollToken(server, ['kit-*'], 1));
  browser = await launchChromium(readFileSync(join(serverDir.path, 'tls', 'server.crt'), 'utf8'));
  context = await laptopContext(browser);
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('view kit, layout, first run, audit and Add hosts in a browser', { skip }, () => {
  it('sends the first visit to /setup, keeps the secret after a refusal and signs the new admin in', async () => {
    const line = await server.waitForLog('the admin bootstrap notice', (l) =>
      l.msg.startsWith('admin bootstrap secret'),
    );
    const secret = readFileSync(line['file'] as string, 'utf8').trim();
    await page.goto(`${server.apiUrl}/`);
    assert.equal(new URL(page.url()).pathname, '/setup');

    const wrong = `${secret.slice(0, -4)}XXXX`;
    await page.getByLabel('Bootstrap secret').fill(wrong);
    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Password again').fill(admin.password);
    const refused = await submit(page, page.getByRole('button', { name: 'Create admin' }));
    assert.equal(refused, 401);
    assert.match(await page.getByRole('alert').innerText(), /bootstrap secret is wrong/);
    assert.equal(await page.getByLabel('Bootstrap secret').inputValue(), wrong, 'the secret field is kept');
    assert.equal(await page.getByLabel('Username').inputValue(), admin.username);
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'passwords are not');
    await screenshot(page, 'setup-refused');

    await page.getByLabel('Bootstrap secret').fill(secret);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Password again').fill(admin.password);
    assert.equal(await submit(page, page.getByRole('button', { name: 'Create admin' })), 200);
    assert.equal(new URL(page.url()).pathname, '/', 'signed in, on the dashboard');
    assert.match(await page.locator('.account .who').innerText(), /kit \(admin\)/);
    await screenshot(page, 'setup-signed-in');
  });

  it('has a favicon that is served and cached, and a link to the API docs', async () => {
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    assert.match(href ?? '', /^\/static\/favicon\.svg\?v=[0-9a-f]{16}$/);
    // Fetched by the page itself, over the connection the browser already trusts.
    const fetched = (url: string) =>
      page.evaluate<{ status: number; type: string; cache: string }>(
        `fetch(${JSON.stringify(url)}).then((r) => ({ status: r.status, type: r.headers.get('content-type'), cache: r.headers.get('cache-control') }))`,
      );
    const icon = await fetched(href ?? '');
    assert.equal(icon.status, 200);
    assert.equal(icon.type, 'image/svg+xml');
    assert.match(icon.cache, /max-age=31536000, immutable/);
    assert.equal((await fetched('/favicon.ico')).status, 200);
    await page.getByRole('link', { name: 'API documentation' }).click();
    await page.waitForURL(`${server.apiUrl}/docs`);
  });

  it('creates a token on Add hosts and shows the install command with the CA pinned', async () => {
    await page.goto(`${server.apiUrl}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Add hosts' }).click();
    await page.getByRole('heading', { name: 'Add hosts', level: 1 }).waitFor();
    await page.getByLabel('Hostnames').fill('kit-*');
    await page.getByLabel('Description').fill('from the browser');
    assert.equal(await submit(page, page.getByRole('button', { name: /Create token/ })), 201);
    const token = await page.locator('#new-secret').inputValue();
    assert.match(token, /^vget_[0-9a-f]{16}_/);
    const command = await page.getByLabel('Run the install command in the same directory:').inputValue();
    const fingerprint = caFingerprintSha256(server.ca);
    assert.match(command, /^curl -sSfk .*\/bootstrap\/ca\.crt'/);
    assert.ok(command.includes(`= ${fingerprint} ]`), command);
    assert.ok(command.endsWith(`--ca-sha256 ${fingerprint} --token-file 'vigo-enroll-token'`), command);
    assert.equal(command.includes(token), false, 'the token is not in the command');
    assert.match(await page.getByLabel(/Save the token in a file/).inputValue(), /umask 077; cat >/);
    await screenshot(page, 'add-hosts');
  });

  it('filters the audit log by actor, action and time, with envoys by hostname and hashes to copy', async () => {
    await page.goto(`${server.apiUrl}/audit`);
    const rows = page.locator('table.audit tbody tr');
    assert.ok((await rows.count()) > 3);
    assert.ok(
      (await page.locator('table.audit a', { hasText: 'kit-web-1' }).count()) > 0,
      'the enrolled envoy is named by its hostname',
    );
    assert.ok((await page.locator('table.audit button[data-copy-text]').count()) > 0, 'hashes can be copied');

    await page.getByLabel('Actor').fill('user:kit');
    await page.getByLabel('Action').fill('enroll_token.created');
    await submit(page, page.getByRole('button', { name: 'Filter' }));
    assert.match(page.url(), /actor=user%3Akit&action=enroll_token\.created/);
    const actions = await rows.locator('td:nth-child(4)').allInnerTexts();
    assert.deepEqual(actions, ['enroll_token.created'], 'only the token created in the browser');
    await screenshot(page, 'audit-filtered');

    await page.getByLabel('Actor').fill('kit-web-1');
    await page.getByLabel('Action').fill('');
    await submit(page, page.getByRole('button', { name: 'Filter' }));
    assert.ok((await rows.count()) >= 0);
    for (const actor of await rows.locator('td:nth-child(3)').allInnerTexts())
      assert.equal(actor, 'kit-web-1');

    await page.getByLabel('Actor').fill('');
    await page.getByLabel('From (UTC)').fill('2099-01-01T00:00');
    await submit(page, page.getByRole('button', { name: 'Filter' }));
    await page.getByText('No entries match.').waitFor();
    await page.getByLabel('From (UTC)').fill('2000-01-01T00:00');
    await page.getByLabel('Until (UTC)').fill('1999-01-01T00:00');
    assert.equal(await submit(page, page.getByRole('button', { name: 'Filter' })), 400);
    assert.match(await page.getByRole('alert').innerText(), /Until: must be later than From/);
  });

  it('follows the system dark mode', async () => {
    // The page background is the root element's (the body's is transparent): the sum of its RGB values.
    const background = () =>
      page.evaluate<number>(
        `getComputedStyle(document.documentElement).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number).reduce((a, b) => a + b, 0)`,
      );
    await page.goto(`${server.apiUrl}/audit`);
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.ok((await background()) < 150, 'a dark background');
    await screenshot(page, 'audit-dark');
    await page.goto(`${server.apiUrl}/admin/add-hosts`);
    await screenshot(page, 'add-hosts-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    assert.ok((await background()) > 600, 'a light background');
  });

  it('never scrolls sideways at 390 px', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const paths = [
      '/',
      '/envoys',
      '/audit',
      '/admin/enroll-tokens',
      '/admin/add-hosts',
      '/admin/users',
      '/admin/tokens',
      '/setup',
    ];
    for (const path of paths) {
      await page.goto(`${server.apiUrl}${path}`);
      // The page's width, the window's, and what sticks out (to say which element is too wide).
      const { scrollWidth, innerWidth, wide } = await page.evaluate<{
        scrollWidth: number;
        innerWidth: number;
        wide: string[];
      }>(`({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        wide: [...document.querySelectorAll('main *, header *')]
          .filter((e) => !e.parentElement.closest('.table-wrap') && e.getBoundingClientRect().right > window.innerWidth + 1)
          .slice(0, 5)
          .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)),
      })`);
      assert.ok(
        scrollWidth <= innerWidth,
        `${path}: ${scrollWidth} px wide in a ${innerWidth} px window: ${wide.join(', ')}`,
      );
      const name = path === '/' ? 'dashboard' : path.slice(1).replaceAll('/', '-');
      await screenshot(page, `phone-${name}`);
    }
  });
});
