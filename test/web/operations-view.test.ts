/**
 * The operations view in a real browser (Debian's chromium through playwright-core) against a real
 * vigosrv, with protocol-level agents: one failing, one healthy, one checked in without a run, one never
 * seen. The dashboard draws its state donut and check-in chart and its failing count opens the filtered
 * envoy list; the list takes the API's query language (?hostname=db-*), the search box and the status
 * filters; a bulk force-push asks for confirmation before anything changes; at 390 px wide none of these
 * pages scrolls sideways.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from '../helpers/agent-client.ts';
import type { EnrolledAgent } from '../helpers/agent-client.ts';
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

const serverDir = makeTempDir('vigo-ops-view-');
const who = { username: 'opal', password: 'operations view passphrase' };
const clock = createEnvelopeClock();
const skip = browserSkipReason();

let server: ReadyServer;
let browser: Browser;
let page: Page;
let adminToken: string;
const agents = new Map<string, EnrolledAgent>();

function agent(hostname: string): EnrolledAgent {
  const found = agents.get(hostname);
  assert.ok(found, hostname);
  return found;
}

async function checkIn(a: EnrolledAgent): Promise<void> {
  const client = agentClient(server, a);
  try {
    await client.methods.checkIn(
      signRequest('CheckIn', a.signingKey, a.envoyId, clock(), {
        agentVersion: 'test',
        hostname: a.hostname,
      }),
    );
  } finally {
    client.close();
  }
}

async function report(a: EnrolledAgent, outcome: ResourceOutcome): Promise<string> {
  const runId = randomUUID();
  const client = agentClient(server, a);
  try {
    await client.methods.reportResults(
      signRequest('ReportResults', a.signingKey, a.envoyId, clock(), {
        runs: [
          {
            runId,
            policyVersion: 1n,
            startedAtMs: BigInt(Date.now() - 20),
            finishedAtMs: BigInt(Date.now()),
            results: [
              {
                resourceId: 'file:/tmp/o',
                resourceType: 'file',
                configcrate: 'motd',
                outcome,
                durationMs: 1,
              },
            ],
          },
        ],
      }),
    );
  } finally {
    client.close();
  }
  return runId;
}

async function envoy(hostname: string): Promise<{ lastRunId: string | null; forcePush: boolean }> {
  const reply = await server.request(`/api/v1/envoys/${agent(hostname).envoyId}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  assert.equal(reply.status, 200, reply.body);
  return reply.json<{ lastRunId: string | null; forcePush: boolean }>();
}

async function hostnamesShown(): Promise<string[]> {
  return page.locator('#envoy-results tbody th[scope="row"]').allTextContents();
}

before(async () => {
  if (skip !== undefined) return;
  requireChromium();
  server = await startServer({ dataDir: serverDir.path, env: { VIGO_FLEET_FLUSH_INTERVAL: '200ms' } });
  adminToken = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  const created = await server.request('/api/v1/users', {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...who, role: 'operator' }),
  });
  assert.equal(created.status, 201, created.body);
  const token = await createEnrollToken(server, ['ops-*'], 10);
  for (const hostname of ['ops-db-1', 'ops-db-2', 'ops-web-1', 'ops-web-2'])
    agents.set(hostname, await enrollAgent(server, token, hostname));
  for (const hostname of ['ops-db-1', 'ops-db-2', 'ops-web-1']) await checkIn(agent(hostname));
  const failed = await report(agent('ops-db-1'), ResourceOutcome.FAILED);
  const healthy = await report(agent('ops-web-1'), ResourceOutcome.NONE);
  await waitFor('both runs to count', async () =>
    (await envoy('ops-db-1')).lastRunId === failed && (await envoy('ops-web-1')).lastRunId === healthy
      ? true
      : undefined,
  );
  browser = await launchChromium(readFileSync(join(serverDir.path, 'tls', 'server.crt'), 'utf8'));
  page = await (await laptopContext(browser)).newPage();
  await page.goto(`${server.apiUrl}/login`);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.apiUrl}/`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  serverDir.remove();
});

describe('the operations view in the browser', { skip }, () => {
  it('draws the state donut and the check-in chart, and the failing count opens the filtered list', async () => {
    await page.goto(`${server.apiUrl}/`);
    const donut = page.locator('[data-chart="envoy-states"] svg[role="img"]');
    await donut.waitFor();
    assert.match(
      (await donut.getAttribute('aria-label')) ?? '',
      /1 healthy, 1 failing, 0 stale, 1 no runs yet, 1 never seen, 0 revoked/,
    );
    const failingArc = donut.locator('[data-slice="failing"]');
    assert.equal(await failingArc.getAttribute('stroke'), '#c62828', 'failing is drawn red, never green');
    const box = await donut.boundingBox();
    assert.ok(box !== null && box.width >= 100, `donut laid out at ${JSON.stringify(box)}`);

    const bars = page.locator('[data-chart="checkins-per-minute"] svg[role="img"]');
    const totalTexts: string[] = [];
    const groups = bars.locator('[data-total]');
    for (let i = 0; i < (await groups.count()); i++)
      totalTexts.push((await groups.nth(i).getAttribute('data-total')) ?? '');
    const totals = totalTexts.map(Number);
    assert.equal(totals.length, 60, 'one bar per minute of the last hour');
    assert.ok(totals.reduce((n, t) => n + t, 0) >= 3, `the three check-ins are counted: ${totals.join(',')}`);
    await screenshot(page, 'dashboard-operations');

    await page.locator('a[data-count="failing"]').click();
    await page.waitForURL(/\/envoys\?status=failing$/);
    assert.deepEqual(await hostnamesShown(), ['ops-db-1']);
    const state = page.locator('#envoy-results tbody tr[data-health] td .badge').first();
    assert.equal((await state.textContent())?.trim(), 'failing');
    assert.match((await state.getAttribute('class')) ?? '', /badge-bad/);
  });

  it('takes the API query language, the search box and the status filters', async () => {
    const response = await page.goto(`${server.apiUrl}/envoys?hostname=ops-db-*`);
    assert.equal(response?.status(), 200);
    assert.deepEqual(await hostnamesShown(), ['ops-db-1', 'ops-db-2']);
    assert.equal(await page.getByLabel('Hostname').inputValue(), 'ops-db-*', 'the link fills the search box');
    await page.getByLabel('Status').selectOption('failing');
    await waitFor('the failing filter on top of the glob', async () =>
      (await hostnamesShown()).join() === 'ops-db-1' ? true : undefined,
    );

    await page.goto(`${server.apiUrl}/envoys`);
    await page.getByLabel('Hostname').fill('ops-web');
    await waitFor('the search box to narrow the list', async () =>
      (await hostnamesShown()).join() === 'ops-web-1,ops-web-2' ? true : undefined,
    );
    await page.getByLabel('Status').selectOption('never_seen');
    await waitFor('the status filter to apply', async () =>
      (await hostnamesShown()).join() === 'ops-web-2' ? true : undefined,
    );
    assert.match(page.url(), /status=never_seen/, 'the filtered view is a shareable URL');

    await page.goto(`${server.apiUrl}/envoys?hostname=ops-*&sort=state`);
    assert.deepEqual(
      await hostnamesShown(),
      ['ops-db-1', 'ops-web-2', 'ops-db-2', 'ops-web-1'],
      'worst first: failing, never seen, no runs yet, healthy',
    );
    await page.locator('th a[data-sort="hostname"]').click();
    await waitFor('the hostname sort', async () =>
      (await hostnamesShown()).join() === 'ops-db-1,ops-db-2,ops-web-1,ops-web-2' ? true : undefined,
    );

    const refused = await page.goto(`${server.apiUrl}/envoys?trait==debian`);
    assert.equal(refused?.status(), 400);
    assert.match((await page.locator('[role="alert"]').textContent()) ?? '', /trait filter/);
    await screenshot(page, 'envoys-filtered');
  });

  it('force-pushes the selected envoys only after the confirmation', async () => {
    await page.goto(`${server.apiUrl}/envoys?hostname=ops-db-*`);
    for (const hostname of ['ops-db-1', 'ops-db-2']) await page.getByLabel(`Select ${hostname}`).check();
    await page.locator('button[data-bulk="push"]').click();
    const selection = page.locator('[data-bulk-selection="push"] li');
    await selection.first().waitFor();
    assert.deepEqual(
      (await selection.allTextContents()).map((t) => t.trim()),
      ['ops-db-1', 'ops-db-2'],
    );
    assert.equal((await envoy('ops-db-1')).forcePush, false, 'nothing is pushed before confirming');
    await screenshot(page, 'envoys-bulk-push-confirm');

    await page.getByLabel('Reason').fill('bulk push from the browser test');
    await page.locator('button[data-confirm-bulk="push"]').click();
    await page.waitForURL(/\/envoys\?hostname=ops-db-\*&notice=bulk-pushed&n=2$/);
    assert.match(
      (await page.locator('[role="status"]').first().textContent()) ?? '',
      /Force push requested for 2 envoys/,
    );
    for (const hostname of ['ops-db-1', 'ops-db-2'])
      assert.equal((await envoy(hostname)).forcePush, true, `${hostname} gets its bundle again`);
    const audit = await server.request('/api/v1/audit?limit=20', {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.match(audit.body, /bulk push from the browser test/, 'the push is in the audit log');
  });

  it('does not scroll sideways at 390 px', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    try {
      context.setDefaultTimeout(10_000);
      const narrow = await context.newPage();
      await narrow.goto(`${server.apiUrl}/login`);
      await narrow.getByLabel('Username').fill(who.username);
      await narrow.getByLabel('Password').fill(who.password);
      await narrow.getByRole('button', { name: 'Sign in' }).click();
      await narrow.waitForURL(`${server.apiUrl}/`);
      const pages = [
        ['/', 'dashboard-390'],
        ['/envoys?hostname=ops-*', 'envoys-390'],
        [`/envoys/${agent('ops-db-1').envoyId}`, 'envoy-detail-390'],
      ] as const;
      for (const [path, name] of pages) {
        await narrow.goto(`${server.apiUrl}${path}`);
        const widths = await narrow.evaluate<{ scroll: number; inner: number; wide: string[] }>(
          `({
            scroll: document.documentElement.scrollWidth,
            inner: window.innerWidth,
            wide: [...document.querySelectorAll('body *')]
              .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
              .slice(0, 5)
              .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)),
          })`,
        );
        await screenshot(narrow, name);
        assert.ok(
          widths.scroll <= widths.inner,
          `${path}: ${widths.scroll} px wide in a ${widths.inner} px window; too wide: ${widths.wide.join(', ')}`,
        );
      }
    } finally {
      await context.close();
    }
  });
});
