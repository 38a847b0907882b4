/**
 * Convergence end to end against the real vigosrv: a protocol-level agent checks in and reports runs over
 * mTLS; the REST API shows each envoy's failure status, drift and reachability, filters by them, pages its
 * history and counts the fleet — after a failing run, after recovery, after drift, and across a kill -9.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-convergence-');
// A short interval so the test sees an envoy go stale; the sweep runs at every flush.
const env = {
  VIGO_CHECKIN_INTERVAL: '1s',
  VIGO_FLEET_FLUSH_INTERVAL: '200ms',
  VIGO_FLEET_CONVERGENCE_THRESHOLD: '90',
};
let server: ReadyServer;
let admin: string;
const clock = createEnvelopeClock();

interface BusEvent {
  type: string;
  subject?: string;
  data: Record<string, unknown>;
}
const events: BusEvent[] = [];
let eventStream: ClientRequest | undefined;

/** Follows the server's convergence events as ndjson into `events`; resolves once the stream is open. */
function followEvents(): Promise<void> {
  const types = 'envoy.converged,envoy.degraded,envoy.failed,drift.detected,convergence.threshold';
  return new Promise((resolve, reject) => {
    eventStream = request(
      `${server.apiUrl}/api/v1/events?types=${types}`,
      {
        ca: server.ca,
        headers: { authorization: `Bearer ${admin}`, accept: 'application/x-ndjson' },
        agent: false,
      },
      (res) => {
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) if (line.trim() !== '') events.push(JSON.parse(line) as BusEvent);
        });
        res.on('error', () => {});
        resolve();
      },
    );
    eventStream.on('error', reject);
    eventStream.end();
  });
}

before(async () => {
  server = await startServer({ dataDir: temp.path, env });
  admin = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  await followEvents();
});
after(async () => {
  eventStream?.destroy();
  await server?.stop();
  temp.remove();
});

interface EnvoyView {
  id: string;
  convergence: string;
  drift: string;
  reachability: string;
  lastRunId: string | null;
}
interface HistoryItem {
  seq: number;
  cause: 'run' | 'reachability';
  runId: string | null;
  fromReachability: string | null;
  reachability: string | null;
  fromStatus: string;
  status: string;
  fromDrift: string;
  drift: string;
}
interface FleetTotals {
  total: number;
  status: Record<string, number>;
  drift: Record<string, number>;
  reachability: Record<string, number>;
  convergedFraction: number | null;
}

async function get<T>(path: string, expectStatus = 200): Promise<T> {
  const reply = await server.request(path, { headers: { authorization: `Bearer ${admin}` } });
  assert.equal(reply.status, expectStatus, `${path}: ${reply.body}`);
  return reply.json<T>();
}

const outcomes = {
  none: ResourceOutcome.NONE,
  updated: ResourceOutcome.UPDATED,
  failed: ResourceOutcome.FAILED,
  blocked: ResourceOutcome.BLOCKED,
} as const;

async function report(agent: EnrolledAgent, results: (keyof typeof outcomes)[]): Promise<string> {
  const runId = randomUUID();
  const client = agentClient(server, agent);
  try {
    const ack = await client.methods.reportResults(
      signRequest('ReportResults', agent.signingKey, agent.envoyId, clock(), {
        runs: [
          {
            runId,
            policyVersion: 1n,
            startedAtMs: BigInt(Date.now() - 20),
            finishedAtMs: BigInt(Date.now()),
            results: results.map((outcome, i) => ({
              resourceId: `file:/tmp/r${i}`,
              resourceType: 'file',
              configcrate: 'motd',
              outcome: outcomes[outcome],
              durationMs: 1,
            })),
          },
        ],
      }),
    );
    assert.deepEqual(ack.acceptedRunIds, [runId]);
  } finally {
    client.close();
  }
  return runId;
}

async function checkIn(agent: EnrolledAgent): Promise<void> {
  const client = agentClient(server, agent);
  try {
    await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, clock(), {
        agentVersion: 'test',
        hostname: agent.hostname,
      }),
    );
  } finally {
    client.close();
  }
}

/** The transitions runs caused (reachability rows come and go with time: conv-web stops checking in). */
const byRun = (items: HistoryItem[]): HistoryItem[] => items.filter((h) => h.cause === 'run');
const envoy = (agent: EnrolledAgent): Promise<EnvoyView> => get<EnvoyView>(`/api/v1/envoys/${agent.envoyId}`);
const history = (
  agent: EnrolledAgent,
  query = '',
): Promise<{ items: HistoryItem[]; nextBefore: number | null }> =>
  get(`/api/v1/envoys/${agent.envoyId}/convergence/history${query}`);
const listIds = async (query: string): Promise<string[]> =>
  (await get<{ items: EnvoyView[] }>(`/api/v1/envoys?${query}`)).items.map((e) => e.id);

describe('convergence over the real server', () => {
  let web: EnrolledAgent;
  let quiet: EnrolledAgent;

  before(async () => {
    const token = await createEnrollToken(server, ['conv-*'], 5);
    web = await enrollAgent(server, token, 'conv-web');
    quiet = await enrollAgent(server, token, 'conv-quiet');
  });

  it('starts with no data; a failing run makes the envoy failed, with a history row', async () => {
    await checkIn(web);
    const fresh = await envoy(web);
    assert.deepEqual([fresh.convergence, fresh.drift, fresh.reachability], ['no_data', 'none', 'online']);
    assert.equal((await envoy(quiet)).reachability, 'offline', 'never checked in');

    const failing = await report(web, ['failed', 'failed', 'none']);
    const after = await envoy(web);
    assert.deepEqual([after.convergence, after.lastRunId], ['failed', failing]);
    assert.deepEqual(await listIds('convergence=failed'), [web.envoyId]);
    assert.deepEqual(await listIds('convergence=no_data'), [quiet.envoyId]);
    const rows = byRun((await history(web)).items);
    assert.deepEqual(
      rows.map((r) => [r.fromStatus, r.status, r.runId]),
      [['no_data', 'failed', failing]],
    );
    await waitFor('the fleet sweep to see the fleet below its convergence threshold', () =>
      events.some((e) => e.type === 'convergence.threshold') ? true : undefined,
    );
  });

  it('shows the states with filters on the envoy list page, and the history on the envoy page', async () => {
    const headers = { authorization: `Bearer ${admin}` };
    const list = await server.request('/envoys?convergence=failed', { headers });
    assert.equal(list.status, 200, list.body);
    assert.match(list.body, /1 envoy matches/);
    assert.match(list.body, />conv-web</);
    assert.doesNotMatch(list.body, />conv-quiet</);
    assert.match(list.body, /<option value="failed" selected>failed<\/option>/);
    const offline = await server.request('/envoys?reachability=offline&q=conv-', { headers });
    assert.match(offline.body, />conv-quiet</, 'it never checked in');
    const bad = await server.request('/envoys?drift=sideways', {
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /drift: must be one of none, changed, diverged/);
    const detail = await server.request(`/envoys/${web.envoyId}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(detail.status, 200);
    assert.match(detail.body, /<h2 id="convergence-title">Convergence history<\/h2>/);
    const lastRun = (await envoy(web)).lastRunId ?? '';
    assert.ok(detail.body.includes(`href="/runs/${lastRun}"`), 'the transition links its run');
  });

  it('a run with one failure of many is degraded; a clean run recovers it', async () => {
    await report(web, ['failed', 'none', 'none', 'none']);
    assert.equal((await envoy(web)).convergence, 'degraded');
    const clean = await report(web, ['none', 'none']);
    assert.equal((await envoy(web)).convergence, 'converged');
    const rows = byRun((await history(web)).items);
    assert.deepEqual(
      rows.map((r) => `${r.fromStatus}->${r.status}`),
      ['degraded->converged', 'failed->degraded', 'no_data->failed'],
    );
    assert.equal(rows[0]?.runId, clean);
  });

  it('three runs in a row with changes, or a blocked resource, is diverged drift', async () => {
    await report(web, ['updated', 'none']);
    assert.equal((await envoy(web)).drift, 'changed');
    await report(web, ['updated']);
    await report(web, ['updated']);
    assert.equal((await envoy(web)).drift, 'diverged');
    assert.deepEqual(await listIds('drift=diverged&convergence=converged'), [web.envoyId]);
    await report(web, ['none']);
    assert.equal((await envoy(web)).drift, 'none');
    await report(web, ['blocked', 'none']);
    assert.deepEqual(
      [(await envoy(web)).convergence, (await envoy(web)).drift],
      ['converged', 'diverged'],
      'blocked is drift, not failure',
    );
  });

  it('publishes the transitions as events, and the fleet dropping below its threshold once', async () => {
    const mine = await waitFor('the events of the runs so far', () => {
      const seen = events.filter((e) => e.data['envoyId'] === web.envoyId);
      return seen.length >= 5 ? seen : undefined;
    });
    assert.deepEqual(
      mine.map((e) => [e.type, e.data['status'], e.data['drift']]),
      [
        ['envoy.failed', 'failed', 'none'],
        ['envoy.degraded', 'degraded', 'none'],
        ['envoy.converged', 'converged', 'none'],
        ['drift.detected', 'converged', 'diverged'],
        ['drift.detected', 'converged', 'diverged'],
      ],
    );
    assert.ok(mine.every((e) => e.subject === web.envoyId && e.data['hostname'] === 'conv-web'));
    const drops = events.filter((e) => e.type === 'convergence.threshold');
    assert.equal(drops.length, 1, 'announced once, when the fleet first dropped below 90 %');
    assert.deepEqual(drops[0]?.data, {
      thresholdPercent: 90,
      convergedPercent: 0,
      converged: 0,
      reporting: 1,
    });
  });

  it('pages the history and refuses bad filters and unknown envoys', async () => {
    const first = await history(web, '?limit=2');
    assert.equal(first.items.length, 2);
    assert.ok(first.nextBefore !== null);
    const second = await history(web, `?limit=2&before=${first.nextBefore}`);
    assert.ok(second.items.every((i) => i.seq < (first.items.at(-1)?.seq ?? 0)));
    const bad = await get<{ code: string }>('/api/v1/envoys?convergence=green', 400);
    assert.equal(bad.code, 'request.invalid');
    const badLimit = await get<{ code: string }>(
      `/api/v1/envoys/${web.envoyId}/convergence/history?limit=0`,
      400,
    );
    assert.equal(badLimit.code, 'request.invalid');
    const missing = await get<{ code: string }>(`/api/v1/envoys/${randomUUID()}/convergence/history`, 404);
    assert.equal(missing.code, 'fleet.envoy_not_found');
  });

  it('counts the fleet by each axis', async () => {
    const totals = await waitFor('the fleet sweep to count the latest states', async () => {
      const t = await get<FleetTotals>('/api/v1/fleet/convergence');
      return t.drift['diverged'] === 1 ? t : undefined;
    });
    assert.equal(totals.total, 2);
    assert.deepEqual(totals.status, { converged: 1, degraded: 0, failed: 0, no_data: 1 });
    assert.equal(totals.convergedFraction, 1);
    const reachable = Object.values(totals.reachability).reduce((a, b) => a + b, 0);
    assert.equal(reachable, totals.total, 'every active envoy has one reachability');
    assert.ok((totals.reachability['offline'] ?? 0) >= 1, 'conv-quiet never checked in');
  });

  it('sees an envoy go stale when it stops checking in, and online again when it returns', async () => {
    await waitFor('conv-web to go stale', async () =>
      (await envoy(web)).reachability === 'stale' ? true : undefined,
    );
    assert.ok((await listIds('reachability=stale')).includes(web.envoyId));
    await checkIn(web);
    await waitFor('conv-web to be online again', async () =>
      (await envoy(web)).reachability === 'online' ? true : undefined,
    );
    const moves = await waitFor('the return to online in the history', async () => {
      const found = (await history(web)).items
        .filter((h) => h.cause === 'reachability')
        .map((h) => `${h.fromReachability}->${h.reachability}`);
      return found[0]?.endsWith('->online') === true ? found : undefined;
    });
    // The oldest row: it went stale first (on a slow machine also offline) before it came back.
    assert.equal(moves.at(-1), 'online->stale');
  });

  it('keeps states and history across kill -9', async () => {
    const before = await envoy(web);
    // Runs' transitions are durable with their runs; reachability rows are flushed with the fleet (and
    // conv-web, no longer checking in, may go stale at any moment), so compare the runs' rows.
    const rowsBefore = byRun((await history(web)).items);
    server.child.kill('SIGKILL');
    await server.exited();
    server = await startServer({ dataDir: temp.path, env });
    admin = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
    const after = await envoy(web);
    assert.deepEqual(
      [after.convergence, after.drift, after.lastRunId],
      [before.convergence, before.drift, before.lastRunId],
    );
    assert.deepEqual(byRun((await history(web)).items), rowsBefore);
    assert.equal((await envoy(quiet)).convergence, 'no_data');
    // The next run continues from the stored state: a clean run clears the drift.
    await report(web, ['none']);
    const rows = byRun((await history(web)).items);
    assert.deepEqual([rows[0]?.fromDrift, rows[0]?.drift], ['diverged', 'none']);
  });
});
