/**
 * The convergence charts in a real browser (Debian's chromium through playwright-core) against a real
 * vigosrv: protocol-level agents report failing and then passing runs; the envoy page draws the envoy's
 * status and drift lanes and the dashboard the fleet's converged share, as inline SVG the browser lays out.
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

const serverDir = makeTempDir('vigo-charts-srv-');
const who = { username: 'cleo', password: 'chart viewer passphrase' };
const clock = createEnvelopeClock();
const skip = browserSkipReason();

let server: ReadyServer;
let browser: Browser;
let page: Page;
const agents: EnrolledAgent[] = [];

async function report(agent: EnrolledAgent, outcome: ResourceOutcome): Promise<string> {
  const runId = randomUUID();
  const client = agentClient(server, agent);
  try {
    await client.methods.reportResults(
      signRequest('ReportResults', agent.signingKey, agent.envoyId, clock(), {
        runs: [
          {
            runId,
            policyVersion: 1n,
            startedAtMs: BigInt(Date.now() - 20),
            finishedAtMs: BigInt(Date.now()),
            results: [
              {
                resourceId: 'file:/tmp/c',
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

before(async () => {
  if (skip !== undefined) return;
  requireChromium();
  server = await startServer({ dataDir: serverDir.path, env: { VIGO_FLEET_FLUSH_INTERVAL: '200ms' } });
  const admin = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  const created = await server.request('/api/v1/users', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...who, role: 'viewer' }),
  });
  assert.equal(created.status, 201, created.body);
  const token = await createEnrollToken(server, ['chart-*'], 5);
  for (const hostname of ['chart-1', 'chart-2']) agents.push(await enrollAgent(server, token, hostname));
  await report(agents[0] as EnrolledAgent, ResourceOutcome.FAILED);
  await report(agents[1] as EnrolledAgent, ResourceOutcome.NONE);
  const last = await report(agents[0] as EnrolledAgent, ResourceOutcome.NONE);
  await waitFor('the last run to count', async () => {
    const reply = await server.request(`/api/v1/envoys/${agents[0]?.envoyId ?? ''}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    return reply.json<{ lastRunId: string | null }>().lastRunId === last ? true : undefined;
  });
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

describe('convergence charts in the browser', { skip }, () => {
  it("draws an envoy's status and drift over time on its page", async () => {
    await page.goto(`${server.apiUrl}/envoys/${agents[0]?.envoyId ?? ''}`);
    const chart = page.locator('[data-chart="envoy-convergence"] svg[role="img"]');
    await chart.waitFor();
    const spans = chart.locator('[data-lane="status"] rect');
    const values: (string | null)[] = [];
    for (let i = 0; i < (await spans.count()); i++)
      values.push(await spans.nth(i).getAttribute('data-value'));
    assert.deepEqual(values, ['failed', 'converged']);
    const box = await chart.boundingBox();
    assert.ok(box !== null && box.width > 300 && box.height > 20, `laid out at ${JSON.stringify(box)}`);
    const widths = await chart
      .locator('[data-lane="status"] rect')
      .evaluateAll((rects) =>
        rects.map((r) => (r as unknown as { getBBox(): { width: number } }).getBBox().width),
      );
    assert.ok(
      widths.every((w) => w >= 1),
      'every span is visible',
    );
    assert.match((await chart.getAttribute('aria-label')) ?? '', /now converged/);
    await screenshot(page, 'envoy-convergence-chart');
  });

  it("draws the fleet's converged share on the dashboard", async () => {
    await page.goto(`${server.apiUrl}/`);
    const chart = page.locator('[data-chart="fleet-convergence"] svg[role="img"]');
    await chart.waitFor();
    const points = chart.locator('circle');
    assert.ok((await points.count()) >= 1);
    assert.match((await points.last().locator('title').textContent()) ?? '', /2 of 2 converged/);
    assert.match((await chart.getAttribute('aria-label')) ?? '', /now 100%/);
    await screenshot(page, 'dashboard-convergence-chart');
  });
});
