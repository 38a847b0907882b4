/**
 * The /integrations page in a real browser (Debian's chromium) against a real vigosrv with two webhook
 * targets: one receiver that accepts, one port where nothing listens. A viewer finds the page in the
 * navigation and sees each target's health, queue and last error. A screenshot lands in
 * test-artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  browserSkipReason,
  laptopContext,
  launchChromium,
  requireChromium,
  screenshot,
} from '../helpers/browser.ts';
import { waitFor } from '../helpers/deadline.ts';
import type { ReadyServer } from '../helpers/server-process.ts';
import { makeTempDir, startServer } from '../helpers/server-process.ts';
import { deadPort } from '../helpers/sink-receivers.ts';

const serverDir = makeTempDir('vigo-integrations-ui-');
const viewer = { username: 'vera', password: 'viewer passphrase for tests' };
const skip = browserSkipReason();
let server: ReadyServer;
let browser: Browser;
let receiver: http.Server;

before(async () => {
  if (skip !== undefined) return;
  requireChromium();
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const livePort = (receiver.address() as AddressInfo).port;
  const secret = 'secret:hooks/key';
  server = await startServer({
    dataDir: serverDir.path,
    env: {
      VIGO_INTEGRATIONS: JSON.stringify([
        { name: 'chatops', type: 'webhook', url: `http://127.0.0.1:${livePort}/hook`, secret },
        {
          name: 'pager',
          type: 'webhook',
          url: `http://127.0.0.1:${await deadPort()}/`,
          secret,
          max_attempts: 2,
          backoff_initial: '10ms',
        },
      ]),
    },
  });
  const admin = `Bearer ${readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim()}`;
  const call = async (path: string, body: unknown): Promise<void> => {
    const reply = await server.request(path, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(reply.status === 200 || reply.status === 201, `${path}: ${reply.status} ${reply.body}`);
  };
  await call('/api/v1/secrets', { path: 'hooks/key', value: 'k3y' });
  // Its user.created event goes to both targets: delivered to chatops, dead at pager after two tries.
  await call('/api/v1/users', { ...viewer, role: 'viewer' });
  browser = await launchChromium(readFileSync(join(serverDir.path, 'tls', 'server.crt'), 'utf8'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  receiver?.closeAllConnections();
  receiver?.close();
  serverDir.remove();
});

describe('integrations page', { skip }, () => {
  it('shows a viewer each target with its health, queue and last error', async () => {
    const context = await laptopContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.apiUrl}/login`);
    await page.getByLabel('Username').fill(viewer.username);
    await page.getByLabel('Password').fill(viewer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.apiUrl}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click();
    await page.waitForURL(`${server.apiUrl}/integrations`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Integrations');
    const row = (name: string) =>
      page.getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
    await waitFor('both targets settled', async () => {
      await page.reload();
      const live = await row('chatops').textContent();
      const dead = await row('pager').textContent();
      return live?.includes('healthy') === true && dead?.includes('failing') === true ? true : undefined;
    });
    const pager = (await row('pager').textContent()) ?? '';
    assert.match(pager, /ECONNREFUSED/);
    assert.match(pager, /webhook/);
    assert.match((await row('chatops').textContent()) ?? '', /http:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(await page.content(), /\/hook/, 'no URL path is shown');
    await screenshot(page, 'integrations');
    await context.close();
  });
});
