/**
 * The web UI in a real browser (Debian's chromium through playwright-core) against a real vigosrv with
 * real `vigo` agents: create the first admin, sign in, see the agents on the dashboard and in the envoy
 * list, open one, approve a pending publish, watch the dashboard update live, revoke an envoy and see its
 * next check-in refused; a viewer gets no Revoke button and a 403 when posting anyway. Screenshots of
 * every page land in test-artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createEnrollToken } from '../helpers/agent-client.ts';
import {
  browserSkipReason,
  laptopContext,
  launchChromium,
  requireChromium,
  screenshot,
  signIn,
  submit,
} from '../helpers/browser.ts';
import type { ReadyServer } from '../helpers/server-process.ts';
import { makeTempDir, repoRoot, startServer } from '../helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from '../helpers/vigocli.ts';

const vigoBin = join(repoRoot, 'bin', 'vigo');
const serverDir = makeTempDir('vigo-ui-srv-');
const work = makeTempDir('vigo-ui-work-');
const admin = { username: 'ada', password: 'correct horse battery staple' };
const viewer = { username: 'vic', password: 'viewer passphrase for tests' };
const agents = { web: join(work.path, 'state-web'), db: join(work.path, 'state-db') };

let server: ReadyServer;
let browser: Browser;
let adminContext: BrowserContext;
let page: Page;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function vigo(stateDir: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      vigoBin,
      [...args, '--state-dir', stateDir, '--log-level', 'warn'],
      { env: cleanCliEnv(work.path), timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

function envoyIdOf(stateDir: string): string {
  return (JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8')) as { envoyId: string }).envoyId;
}

function writeStack(): string {
  const dir = join(work.path, 'stack');
  mkdirSync(join(work.path, 'managed'), { recursive: true });
  const files: Record<string, string> = {
    'configcrates/motd.vgo': `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: ${join(work.path, 'managed', 'motd')}\n    content: "managed by vigo\\n"\n`,
    'roles.vgo': 'roles:\n  base:\n    configcrates: [motd]\n',
    'envoys.vgo': 'envoys:\n  - match: "ui-*"\n    roles: [base]\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

async function enrollAndRun(stateDir: string, hostname: string, token: string): Promise<void> {
  const caFile = join(serverDir.path, 'tls', 'ca.crt');
  const server_ = `127.0.0.1:${server.apiPort}`;
  const enrolled = await vigo(stateDir, [
    'enroll',
    '--server',
    server_,
    '--token',
    token,
    '--ca',
    caFile,
    '--hostname',
    hostname,
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const run = await vigo(stateDir, ['run', '--once']);
  assert.equal(run.code, 0, run.stderr);
}

/**
 * Submits a form by clicking `button`, or by the keyboard action given instead; returns the status of the
 * page the browser ends on (after redirects).
 */
const skip = browserSkipReason();

before(async () => {
  if (skip !== undefined) return;
  requireChromium();
  server = await startServer({ dataDir: serverDir.path, env: { VIGO_PUBLISH_APPROVAL: 'required' } });
  const token = await createEnrollToken(server, ['ui-*'], 5);
  await enrollAndRun(agents.web, 'ui-web-1', token);
  await enrollAndRun(agents.db, 'ui-db-1', token);
  browser = await launchChromium(readFileSync(join(serverDir.path, 'tls', 'server.crt'), 'utf8'));
  adminContext = await laptopContext(browser);
  page = await adminContext.newPage();
  // Confirmation dialogs (revoke, approve) are answered yes; the test asserts their effect.
  page.on('dialog', (dialog) => void dialog.accept());
});

after(async () => {
  await browser?.close();
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('web UI against a real server and real agents', { skip }, () => {
  it('creates the first admin with the bootstrap secret and signs in; a wrong password is refused', async () => {
    const line = await server.waitForLog('the admin bootstrap secret', (l) =>
      l.msg.startsWith('admin bootstrap secret'),
    );
    const secret = readFileSync(line['file'] as string, 'utf8').trim();
    await page.goto(`${server.apiUrl}/`);
    assert.equal(new URL(page.url()).pathname, '/setup', 'with nobody to sign in as, a visit goes to setup');
    await page.getByLabel('Bootstrap secret').fill(secret);
    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Password again').fill(admin.password);
    await screenshot(page, 'setup');
    assert.equal(await submit(page, page.getByRole('button', { name: 'Create admin' })), 200);
    assert.equal(new URL(page.url()).pathname, '/', 'the new admin is signed in');
    await submit(page, page.getByRole('button', { name: 'Sign out' }));
    await page.goto(`${server.apiUrl}/`);
    assert.match(page.url(), /\/login\?next=%2F$/, 'an anonymous visit is sent to the login page');
    await screenshot(page, 'login');

    const refused = await signIn(page, server.apiUrl, {
      username: admin.username,
      password: 'not the password at all',
    });
    assert.equal(refused, 401);
    assert.match(await page.getByRole('alert').innerText(), /username or password is wrong/);
    await screenshot(page, 'login-refused');

    assert.equal(await signIn(page, server.apiUrl, admin), 200);
    assert.equal(new URL(page.url()).pathname, '/');
  });

  it('shows the real envoys on the dashboard', async () => {
    await page.goto(`${server.apiUrl}/`);
    assert.equal(await page.locator('[data-state="active"]').innerText(), '2');
    assert.equal(await page.locator('[data-state="revoked"]').innerText(), '0');
    await screenshot(page, 'dashboard');
    await page.keyboard.press('Tab');
    assert.equal(
      await page.locator(':focus').innerText(),
      'Skip to content',
      'the first Tab offers the skip link',
    );
  });

  it('lists the agents by hostname and filters the list as one types', async () => {
    await page.goto(`${server.apiUrl}/envoys`);
    const rows = page.locator('table.envoys tbody tr');
    assert.deepEqual(await rows.locator('th').allInnerTexts(), ['ui-db-1', 'ui-web-1']);
    await page.getByLabel('Hostname').fill('ui-web');
    await page.waitForURL(/\/envoys\?q=ui-web/);
    await rows.nth(1).waitFor({ state: 'detached' });
    assert.deepEqual(await rows.locator('th').allInnerTexts(), ['ui-web-1']);
    await screenshot(page, 'envoys');
  });

  it('opens an envoy with its traits tree and runs', async () => {
    await page.getByRole('link', { name: 'ui-web-1' }).click();
    await page.getByRole('heading', { name: 'ui-web-1' }).waitFor();
    assert.ok((await page.locator('.traits-tree summary').count()) > 0, 'traits are shown as a tree');
    assert.match(
      await page.locator('section', { hasText: 'Recent runs' }).locator('tbody').innerText(),
      /converged/,
    );
    await screenshot(page, 'envoy');
  });

  it('approves a pending publish, which then becomes active and reaches the agent', async () => {
    const published = await runVigocli(
      ['--server', server.apiUrl, '--data-dir', serverDir.path, 'config', 'publish', writeStack()],
      cleanCliEnv(work.path),
      work.path,
    );
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /Version 2 is waiting for approval/);
    await page.goto(`${server.apiUrl}/config`);
    assert.match(await page.locator('#pending-version').innerText(), /^2 by local-admin/);
    await screenshot(page, 'config-pending');
    await page.getByRole('link', { name: '2', exact: true }).first().click();
    await page.getByRole('heading', { name: /Version 2/ }).waitFor();
    await screenshot(page, 'config-version');
    assert.equal(await submit(page, page.getByRole('button', { name: 'Approve version 2' })), 200);
    await page.getByText('The version is approved and now active').waitFor();
    assert.match(await page.locator('#active-version').innerText(), /^2 by local-admin/);
    assert.equal(await page.locator('#pending-version').innerText(), 'none');
    await screenshot(page, 'config-approved');

    const run = await vigo(agents.web, ['run', '--once']);
    assert.equal(run.code, 0, run.stderr);
    await page.goto(`${server.apiUrl}/envoys/${envoyIdOf(agents.web)}`);
    assert.match(await page.locator('table.outcomes tbody').innerText(), /motd\/motd[\s\S]*created/);
    await screenshot(page, 'envoy-converged');
    await page.locator('section', { hasText: 'Recent runs' }).getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Run/ }).waitFor();
    assert.match(await page.locator('table.outcomes tbody').innerText(), /motd\/motd[\s\S]*created/);
    await screenshot(page, 'run');
  });

  it('shows a viewer no Revoke button and refuses the viewer a revoke with 403', async () => {
    await page.goto(`${server.apiUrl}/admin/users`);
    await page.locator('summary', { hasText: 'New user' }).click();
    await page.locator('#new-username').fill(viewer.username);
    await page.locator('#new-role').selectOption('viewer');
    await page.locator('#new-password').fill(viewer.password);
    await submit(page, page.getByRole('button', { name: 'Create user' }));
    await page.getByText('The user was created.').waitFor();
    await screenshot(page, 'users');

    const viewerContext = await laptopContext(browser);
    try {
      const viewerPage = await viewerContext.newPage();
      assert.equal(await signIn(viewerPage, server.apiUrl, viewer), 200);
      const envoyUrl = `${server.apiUrl}/envoys/${envoyIdOf(agents.db)}`;
      await viewerPage.goto(envoyUrl);
      await viewerPage.getByRole('heading', { name: 'ui-db-1' }).waitFor();
      assert.equal(await viewerPage.getByRole('button', { name: 'Revoke' }).count(), 0);
      assert.equal(
        await viewerPage.getByRole('link', { name: 'Users' }).count(),
        0,
        'no admin pages in the nav',
      );
      await screenshot(viewerPage, 'envoy-as-viewer');
      // The browser itself posts (with the viewer's session and CSRF token), as a crafted form would.
      const headers = JSON.parse(
        (await viewerPage.locator('body').getAttribute('hx-headers')) ?? '{}',
      ) as object;
      const refused = await viewerPage.evaluate(
        async ({ url, csrf }) => {
          const body = new URLSearchParams({ reason: 'a viewer tries' });
          const response = await fetch(url, {
            method: 'POST',
            headers: csrf as Record<string, string>,
            body,
          });
          return { status: response.status, text: await response.text() };
        },
        { url: `${envoyUrl}/revoke`, csrf: headers },
      );
      assert.equal(refused.status, 403);
      // The CSRF token was right (that refusal would be auth.csrf): the missing permission refuses it, and a
      // page route says so as a page, not as the API's JSON envelope.
      assert.match(refused.text, /^<!doctype html>/i);
      assert.match(refused.text, /needs the (&quot;|")fleet\.write(&quot;|") permission/);
      assert.doesNotMatch(refused.text, /auth\.csrf/);
    } finally {
      await viewerContext.close();
    }
  });

  it('revokes an envoy: the dashboard updates live and the agent’s next check-in is refused', async () => {
    const dashboard = await adminContext.newPage();
    await dashboard.goto(`${server.apiUrl}/`);
    assert.equal(await dashboard.locator('[data-state="revoked"]').innerText(), '0');

    await page.goto(`${server.apiUrl}/envoys/${envoyIdOf(agents.db)}`);
    // By keyboard alone: type the reason, Tab to Revoke, Enter (the confirmation is accepted).
    await page.getByLabel('Reason').fill('decommissioned in the UI test');
    await page.keyboard.press('Tab');
    assert.equal(await page.locator(':focus').innerText(), 'Revoke');
    assert.equal(await submit(page, () => page.keyboard.press('Enter')), 200);
    await page.getByText('The envoy is revoked').waitFor();
    assert.match(await page.locator('.facts').innerText(), /revoked/);
    await screenshot(page, 'envoy-revoked');

    // No reload: app.js hears envoy.revoked on /api/v1/events and htmx refreshes the counters.
    await dashboard.locator('[data-state="revoked"]', { hasText: '1' }).waitFor();
    assert.equal(await dashboard.locator('[data-state="active"]').innerText(), '1');
    await screenshot(dashboard, 'dashboard-after-revoke');
    await dashboard.close();

    const refused = await vigo(agents.db, ['run', '--once']);
    assert.match(refused.stderr, /has been revoked/);
  });

  it('shows the audit log with an intact chain, enrollment tokens and API tokens', async () => {
    await page.goto(`${server.apiUrl}/audit`);
    await page.getByText('Chain intact').waitFor();
    assert.match(
      await page.locator('table.audit tbody').innerText(),
      /envoy\.revoked[\s\S]*config\.approved/,
    );
    await screenshot(page, 'audit');

    await page.goto(`${server.apiUrl}/admin/enroll-tokens`);
    assert.match(await page.locator('table tbody').innerText(), /ui-\*/);
    await screenshot(page, 'enroll-tokens');

    await page.goto(`${server.apiUrl}/admin/tokens`);
    await page.getByLabel('Name').fill('ui-test');
    assert.equal(await submit(page, page.getByRole('button', { name: 'Create token' })), 201);
    assert.match(await page.locator('#new-secret').inputValue(), /^vgot_/);
    await screenshot(page, 'api-tokens');
  });
});
