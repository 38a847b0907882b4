/**
 * Config history in a real browser against a real vigosrv: a version page shows its changes field by
 * field; an admin opens the rollback preview (the diff against the active version and the envoys that
 * change), declines the confirmation (nothing happens), confirms (a new version serves the old
 * configuration, audited as config.rolled_back); a viewer gets no rollback link and a 403. Screenshots
 * land in test-artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createEnrollToken, enrollAgent } from '../helpers/agent-client.ts';
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
import { makeTempDir, startServer } from '../helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from '../helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-diff-ui-srv-');
const work = makeTempDir('vigo-diff-ui-work-');
const admin = { username: 'ada', password: 'admin passphrase for tests' };
const viewer = { username: 'vera', password: 'viewer passphrase for tests' };
const skip = browserSkipReason();

let server: ReadyServer;
let browser: Browser;
let token: string;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const reply = await server.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: reply.status, json: JSON.parse(reply.body) as unknown };
}

async function activeVersion(): Promise<number> {
  return ((await api('GET', '/api/v1/config/status')).json as { active: { version: number } }).active.version;
}

async function publish(name: string, motd: string): Promise<void> {
  const dir = join(work.path, name);
  const files: Record<string, string> = {
    'configcrates/motd.vgo': `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-diff-ui-motd\n    content: "${motd}"\n`,
    'envoys.vgo': 'envoys:\n  - match: "ui-*"\n    configcrates: [motd]\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const run = await runVigocli(
    ['--server', server.apiUrl, '--data-dir', server.dataDir, 'config', 'publish', dir],
    cleanCliEnv(work.path),
    work.path,
  );
  assert.equal(run.code, 0, run.stdout + run.stderr);
}

async function signedIn(who: { username: string; password: string }): Promise<Page> {
  const page = await (await laptopContext(browser)).newPage();
  assert.equal(await signIn(page, server.apiUrl, who), 200);
  return page;
}

before(async () => {
  if (skip !== undefined) return;
  requireChromium();
  server = await startServer({ dataDir: serverDir.path });
  token = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  for (const [who, role] of [
    [admin, 'admin'],
    [viewer, 'viewer'],
  ] as const) {
    const created = await api('POST', '/api/v1/users', { ...who, role });
    assert.equal(created.status, 201, JSON.stringify(created.json));
  }
  await enrollAgent(server, await createEnrollToken(server, ['ui-*'], 1), 'ui-web-1');
  await publish('v2', 'one');
  await publish('v3', 'two');
  browser = await launchChromium(readFileSync(join(serverDir.path, 'tls', 'server.crt'), 'utf8'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('config diffs and rollback in the web UI', { skip }, () => {
  it('shows a version’s changes field by field', async () => {
    const page = await signedIn(admin);
    await page.goto(`${server.apiUrl}/config/versions/3`);
    await page.getByRole('heading', { name: /Resources, field by field since version 2/ }).waitFor();
    const motd = page.locator('li[data-resource="motd/motd"]');
    assert.equal(await motd.locator('dt').innerText(), 'params.content');
    assert.equal(await motd.locator('del').innerText(), '- "one"');
    assert.equal(await motd.locator('ins').innerText(), '+ "two"');
    assert.match(await page.locator('#envoys-changing').innerText(), /1 of 1 enrolled envoys change/);
    await screenshot(page, 'config-field-diff');
  });

  it('previews a rollback, asks before it, and rolls back only when confirmed', async () => {
    const page = await signedIn(admin);
    await page.goto(`${server.apiUrl}/config/versions/2`);
    await page.getByRole('link', { name: 'Roll back to version 2…' }).click();
    await page.getByRole('heading', { name: 'Roll back to version 2' }).waitFor();
    const motd = page.locator('li[data-resource="motd/motd"]');
    assert.equal(await motd.locator('del').innerText(), '- "two"', 'the diff runs from the active version');
    assert.equal(await motd.locator('ins').innerText(), '+ "one"');
    assert.match(await page.locator('#envoys-changing').innerText(), /1 of 1 enrolled envoys change/);
    await screenshot(page, 'config-rollback-preview');

    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    });
    await page.getByRole('button', { name: 'Roll back to version 2' }).click();
    assert.deepEqual(asked, ['Roll back the whole fleet to the configuration of version 2?']);
    assert.equal(await activeVersion(), 3, 'a declined confirmation changes nothing');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByLabel('Why').fill('the new banner confused people');
    assert.equal(await submit(page, page.getByRole('button', { name: 'Roll back to version 2' })), 200);
    assert.equal(new URL(page.url()).pathname, '/config');
    await page.getByText('Rolled back: the new active version serves the earlier configuration').waitFor();
    assert.equal(await activeVersion(), 4);
    await screenshot(page, 'config-rolled-back');

    const audit = (await api('GET', '/api/v1/audit?limit=5')).json as {
      items: { action: string; actor: string; details: Record<string, unknown> }[];
    };
    const entry = audit.items.find((e) => e.action === 'config.rolled_back');
    assert.ok(entry, JSON.stringify(audit.items.map((e) => e.action)));
  });

  it('gives a viewer no rollback link and refuses the preview with 403', async () => {
    const page = await signedIn(viewer);
    await page.goto(`${server.apiUrl}/config/versions/3`);
    await page.getByRole('heading', { name: /Resources, field by field/ }).waitFor();
    assert.equal(await page.getByRole('link', { name: /Roll back to version/ }).count(), 0);
    const refused = await page.goto(`${server.apiUrl}/config/versions/3/rollback`);
    assert.equal(refused?.status(), 403);
  });
});
