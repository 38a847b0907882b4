/**
 * The tasks pages in a real browser (Debian's chromium through playwright-core) against a real vigosrv and
 * a real `vigo daemon` holding its stream: an operator starts a command from /tasks, lands on the run,
 * watches the host's result arrive without reloading, and a selection naming no envoy is refused on the
 * form with nothing dispatched. A viewer sees the runs but no form. A live query from /queries reads a trait
 * from the running agent, or asks a named query of the published stacks picked from a list, and a
 * force-push from /tasks reaches it at once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createEnrollToken } from '../helpers/agent-client.ts';
import { startAgentDaemon, streamsOpen } from '../helpers/agent-daemon.ts';
import type { AgentDaemon } from '../helpers/agent-daemon.ts';
import {
  browserSkipReason,
  laptopContext,
  launchChromium,
  requireChromium,
  screenshot,
  signIn,
  submit,
} from '../helpers/browser.ts';
import { waitFor } from '../helpers/deadline.ts';
import type { ReadyServer } from '../helpers/server-process.ts';
import { makeTempDir, startServer } from '../helpers/server-process.ts';

const serverDir = makeTempDir('vigo-tasks-ui-srv-');
const work = makeTempDir('vigo-tasks-ui-work-');
const operator = { username: 'otto', password: 'operator passphrase for tests' };
const viewer = { username: 'vera', password: 'viewer passphrase for tests' };
const skip = browserSkipReason();

let server: ReadyServer;
let browser: Browser;
let daemon: AgentDaemon | undefined;
let token: string;

async function createUser(who: { username: string; password: string }, role: string): Promise<void> {
  const created = await server.request('/api/v1/users', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...who, role }),
  });
  assert.equal(created.status, 201, created.body);
}

async function signedIn(who: { username: string; password: string }): Promise<Page> {
  const page = await (await laptopContext(browser)).newPage();
  assert.equal(await signIn(page, server.apiUrl, who), 200);
  return page;
}

before(async () => {
  if (skip !== undefined) return;
  requireChromium();
  const stacks = join(work.path, 'stacks');
  mkdirSync(stacks, { recursive: true });
  writeFileSync(join(stacks, 'envoys.vgo'), 'envoys:\n  - match: "ui-task-*"\n');
  writeFileSync(
    join(stacks, 'queries.vgo'),
    'queries:\n  os-family:\n    description: The OS family\n    trait: os.family\n',
  );
  server = await startServer({ dataDir: serverDir.path, args: ['--stacks', stacks, '--publish-at-start'] });
  token = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  await createUser(operator, 'operator');
  await createUser(viewer, 'viewer');
  daemon = await startAgentDaemon(server, {
    hostname: 'ui-task-1',
    enrollToken: await createEnrollToken(server, ['ui-task-*'], 1),
    home: work.path,
    logLevel: 'warn',
  });
  await waitFor(
    'the agent to hold its stream',
    async () => ((await streamsOpen(server, token)) === 1 ? true : undefined),
    60_000,
  );
  browser = await launchChromium(readFileSync(join(serverDir.path, 'tls', 'server.crt'), 'utf8'));
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('tasks in the web UI', { skip }, () => {
  it('starts a command from /tasks and shows the host’s result as it arrives', async () => {
    const page = await signedIn(operator);
    await page.goto(`${server.apiUrl}/tasks`);
    await page.getByLabel('Targets').fill('ui-task-*');
    // Long enough that the page usually opens while the task still runs and must refresh to show the end.
    await page.getByLabel('Command').fill('sleep 3; echo hello-from-the-ui');
    await submit(page, page.getByRole('button', { name: 'Run', exact: true }));
    assert.match(new URL(page.url()).pathname, /^\/tasks\/[0-9a-f-]{36}$/);
    // The run block refreshes itself while the run goes on; no reload here.
    const run = page.locator('#task-run');
    await run.getByText('succeeded', { exact: true }).first().waitFor({ timeout: 30_000 });
    await run.getByText('stdout').click();
    assert.match(await run.locator('pre').first().innerText(), /hello-from-the-ui/);
    await screenshot(page, 'task-run');
    await page.goto(`${server.apiUrl}/tasks`);
    assert.match(await page.locator('table').innerText(), /sleep 3; echo hello-from-the-ui/);
  });

  it('refuses a selection that names no envoy on the form, and dispatches nothing', async () => {
    const page = await signedIn(operator);
    const before = (
      await server.request('/api/v1/tasks', { headers: { authorization: `Bearer ${token}` } })
    ).json<{ items: unknown[] }>().items.length;
    await page.goto(`${server.apiUrl}/tasks`);
    await page.getByLabel('Targets').fill('no-such-host');
    await page.getByLabel('Command').fill('true');
    const status = await submit(page, page.getByRole('button', { name: 'Run', exact: true }));
    assert.equal(status, 404);
    assert.match(
      await page.getByRole('alert').innerText(),
      /no active envoy has the hostname "no-such-host"/,
    );
    assert.equal(
      await page.getByLabel('Targets').inputValue(),
      'no-such-host',
      'the form keeps what was typed',
    );
    const after = (
      await server.request('/api/v1/tasks', { headers: { authorization: `Bearer ${token}` } })
    ).json<{ items: unknown[] }>().items.length;
    assert.equal(after, before);
  });

  it('asks the connected agent for a trait from /queries and shows how many hosts hold each value', async () => {
    const page = await signedIn(operator);
    await page.goto(`${server.apiUrl}/queries`);
    await page.getByLabel('Targets').fill('*');
    await page.getByLabel('Trait').fill('os.family');
    await submit(page, page.getByRole('button', { name: 'Ask now' }));
    const answer = page.locator('#query-answer');
    assert.match(await answer.innerText(), /1 of 1 targeted hosts answered/);
    assert.match(await answer.locator('table').first().innerText(), /^1\s+"[a-z]+"/m);
    await screenshot(page, 'live-query');
  });

  it('asks a named query of the stacks picked from a list on /queries', async () => {
    const page = await signedIn(operator);
    await page.goto(`${server.apiUrl}/queries`);
    await page.getByLabel('Targets').fill('*');
    await page.getByLabel('Named query').selectOption('os-family');
    // The agent answers once it holds the bundle that carries the query.
    const answer = page.locator('#query-answer');
    await waitFor('the named query answered', async () => {
      await submit(page, page.getByRole('button', { name: 'Ask now' }));
      return /1 of 1 targeted hosts answered/.test(await answer.innerText()) ? true : undefined;
    });
    assert.match(await answer.getByRole('heading').first().innerText(), /Query os-family/);
    assert.match(await answer.locator('table').first().innerText(), /^1\s+"[a-z]+"/m);
    await screenshot(page, 'named-query');
  });

  it('forces a check-in from /tasks: the connected agent is told now', async () => {
    const page = await signedIn(operator);
    await page.goto(`${server.apiUrl}/tasks`);
    await page.getByText('Force a check-in').click();
    await page.getByLabel('Envoys').fill('ui-task-*');
    await page.getByLabel('Reason').fill('from the tasks page');
    assert.equal(await submit(page, page.getByRole('button', { name: 'Check in now' })), 200);
    assert.match(
      await page.getByRole('status').innerText(),
      /1 envoy pushed: 1 checking in now, 0 at their next check-in/,
    );
  });

  it('shows a viewer the runs but no form to start one', async () => {
    const page = await signedIn(viewer);
    await page.goto(`${server.apiUrl}/tasks`);
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    assert.equal(await page.getByLabel('Targets').count(), 0);
    assert.match(await page.locator('table').innerText(), /sleep 3; echo hello-from-the-ui/);
  });
});
