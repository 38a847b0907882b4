/**
 * Heartbeat runs end to end against the real vigosrv: an agent reports a run with a change and then one
 * where nothing changed; the unchanged run is acknowledged only when durable (it survives kill -9), stored
 * once however often it is redelivered, and `vigocli runs show` presents it as what it is: its count, no
 * invented outcomes, and the earlier run that lists the same resources.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const temp = makeTempDir('vigo-heartbeat-');
const home = makeTempDir('vigo-heartbeat-home-');
let server: ReadyServer;
let web: EnrolledAgent;
const clock = createEnvelopeClock();
after(async () => {
  await server?.stop();
  temp.remove();
  home.remove();
});
before(async () => {
  server = await startServer({ dataDir: temp.path });
  const token = await createEnrollToken(server, ['web-*'], 2);
  web = await enrollAgent(server, token, 'web-01');
});

const resources = ['file:/etc/motd', 'package:nginx', 'service:nginx'];

function report(runId: string, startedAtMs: number, changed: boolean) {
  return signRequest('ReportResults', web.signingKey, web.envoyId, clock(), {
    runs: [
      {
        runId,
        policyVersion: 1n,
        startedAtMs: BigInt(startedAtMs),
        finishedAtMs: BigInt(startedAtMs + 30),
        results: resources.map((resourceId, i) => ({
          resourceId,
          resourceType: resourceId.split(':')[0] ?? '',
          configcrate: 'web',
          outcome: changed && i === 0 ? ResourceOutcome.UPDATED : ResourceOutcome.NONE,
          message: changed && i === 0 ? 'content changed' : `${resourceId} is up to date`,
          durationMs: 3,
        })),
      },
    ],
  });
}

async function send(runId: string, startedAtMs: number, changed: boolean): Promise<string[]> {
  const client = agentClient(server, web);
  try {
    return (await client.methods.reportResults(report(runId, startedAtMs, changed))).acceptedRunIds;
  } finally {
    client.close();
  }
}

function stored(runId: string): { heartbeat: number; results: number } | undefined {
  const db = new Database(join(temp.path, 'db', 'vigo.db'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT heartbeat, (SELECT count(*) FROM run_results WHERE run_id = runs.id) AS results
         FROM runs WHERE id = ?`,
      )
      .get(runId) as { heartbeat: number; results: number } | undefined;
  } finally {
    db.close();
  }
}

function vigocli(args: string[]): Promise<CliRun> {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', temp.path, ...args],
    cleanCliEnv(home.path, { XDG_CONFIG_HOME: join(home.path, 'config') }),
    home.path,
  );
}

function ok(run: CliRun): string {
  assert.equal(run.code, 0, `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  return run.stdout;
}

describe('heartbeat runs', () => {
  const full = randomUUID();
  const beat = randomUUID();
  const start = Date.now() - 60_000;

  it('acknowledges an unchanged run once durable: one row after kill -9, once however often it is sent', async () => {
    assert.deepEqual(await send(full, start, true), [full]);
    assert.deepEqual(await send(beat, start + 30_000, false), [beat]);

    server.child.kill('SIGKILL');
    await server.exited();
    server = await startServer({ dataDir: temp.path });
    assert.deepEqual(
      stored(beat),
      { heartbeat: 1, results: 0 },
      'the acknowledged heartbeat survived kill -9',
    );
    assert.deepEqual(stored(full), { heartbeat: 0, results: 3 });

    assert.deepEqual(await send(beat, start + 30_000, false), [beat], 'redelivery is acknowledged again');
    assert.deepEqual(stored(beat), { heartbeat: 1, results: 0 }, 'and stored once');
  });

  it('vigocli runs show presents it as a heartbeat, pointing at the run that lists its resources', async () => {
    const [text, json, list] = await Promise.all([
      vigocli(['runs', 'show', beat]),
      vigocli(['runs', 'show', beat, '--json']),
      vigocli(['runs', 'list', '--envoy', web.envoyId, '--json']),
    ]);
    assert.match(ok(text), /^ {2}resources: 3 total, 0 changed, 0 failed$/m);
    assert.match(text.stdout, /^3 resources, none changed: kept without per-resource outcomes\.$/m);
    assert.match(text.stdout, new RegExp(`^The same resources are listed in run ${full}\\.$`, 'm'));
    assert.match(text.stdout, /^Resource set digest: [0-9a-f]{64}$/m);
    assert.doesNotMatch(text.stdout, /RESOURCE\s+TYPE/, 'no outcomes table is invented');

    const detail = JSON.parse(ok(json)) as {
      status: string;
      heartbeat: boolean;
      results: unknown[];
      resourcesDigest: string;
      resourcesListedIn: { runId: string } | null;
    };
    assert.equal(detail.status, 'converged');
    assert.equal(detail.heartbeat, true);
    assert.deepEqual(detail.results, []);
    assert.equal(detail.resourcesListedIn?.runId, full);

    const fullDetail = JSON.parse(ok(await vigocli(['runs', 'show', full, '--json']))) as {
      heartbeat: boolean;
      results: unknown[];
      resourcesDigest: string;
    };
    assert.equal(fullDetail.heartbeat, false);
    assert.equal(fullDetail.results.length, 3);
    assert.equal(fullDetail.resourcesDigest, detail.resourcesDigest, 'the same resources, the same digest');

    const items = (JSON.parse(ok(list)) as { items: { id: string; heartbeat: boolean }[] }).items;
    assert.deepEqual(
      items.map((r) => [r.id, r.heartbeat]),
      [
        [beat, true],
        [full, false],
      ],
    );
  });
});
