/**
 * Blast-radius auto-rollback against the real vigosrv: protocol-level agents report runs on a freshly
 * published version; when too few of them converge the server rolls back to the version before it, as the
 * system actor, with an audit entry, the config.auto_rolled_back event and `config status` showing why —
 * and it does not roll back again until a new publish.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const temp = makeTempDir('vigo-blast-');
const clock = createEnvelopeClock();
let server: ReadyServer;
const serverEnv = {
  VIGO_PUBLISH_BLAST_RADIUS_MIN_CONVERGENCE_PCT: '75',
  VIGO_PUBLISH_BLAST_RADIUS_WINDOW: '10m',
  VIGO_PUBLISH_BLAST_RADIUS_MIN_ENVOYS: '3',
  VIGO_EXPORTS_SIEM: 'true',
};
let admin: string;
const agents: EnrolledAgent[] = [];

before(async () => {
  server = await startServer({ dataDir: temp.path, env: serverEnv });
  admin = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  const token = await createEnrollToken(server, ['br-*'], 5);
  for (const hostname of ['br-1', 'br-2', 'br-3', 'br-4'])
    agents.push(await enrollAgent(server, token, hostname));
});

after(async () => {
  await server?.stop();
  temp.remove();
});

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const reply = await server.request(path, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(reply.status >= 200 && reply.status < 300, `${method} ${path}: ${reply.status} ${reply.body}`);
  return reply.json<T>();
}

async function publish(content: string): Promise<number> {
  const files = {
    'configcrates/motd.vgo': `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-blast-motd\n    content: "${content}"\n`,
    'roles.vgo': 'roles:\n  base:\n    configcrates: [motd]\n',
    'envoys.vgo': 'envoys:\n  - match: "br-*"\n    roles: [base]\n',
  };
  const result = await call<{ outcome: string; version: number }>('POST', '/api/v1/config/publish', {
    message: content,
    files: Object.entries(files).map(([path, text]) => ({ path, content: text })),
  });
  assert.equal(result.outcome, 'activated');
  return result.version;
}

/** One run of `agent` on `version`: its one resource converged (unchanged) or failed. */
async function report(agent: EnrolledAgent, version: number, ok: boolean): Promise<string> {
  const runId = randomUUID();
  const client = agentClient(server, agent);
  try {
    const ack = await client.methods.reportResults(
      signRequest('ReportResults', agent.signingKey, agent.envoyId, clock(), {
        runs: [
          {
            runId,
            policyVersion: BigInt(version),
            startedAtMs: BigInt(Date.now() - 20),
            finishedAtMs: BigInt(Date.now()),
            results: [
              {
                resourceId: 'file:/tmp/vigo-blast-motd',
                resourceType: 'file',
                configcrate: 'motd',
                outcome: ok ? ResourceOutcome.NONE : ResourceOutcome.FAILED,
                durationMs: 1,
              },
            ],
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

interface Status {
  active: { version: number; createdBy: string; source: string | null; message: string | null };
  autoRollback: {
    at: string;
    rolledBack: number;
    restored: number;
    version: number;
    reporting: number;
    converged: number;
    convergedPct: number;
    minConvergencePct: number;
    minEnvoys: number;
    window: string;
    reason: string;
  } | null;
  blastRadiusWatch: { version: number; previousVersion: number; reporting: number; converged: number } | null;
}

const status = (): Promise<Status> => call<Status>('GET', '/api/v1/config/status');

/** Reports a run and waits until the server has counted it (it is the envoy's last run). */
async function reportCounted(agent: EnrolledAgent, version: number, ok: boolean): Promise<void> {
  const runId = await report(agent, version, ok);
  await waitFor(`${agent.hostname}'s run to count`, async () => {
    const envoy = await call<{ lastRunId: string | null }>('GET', `/api/v1/envoys/${agent.envoyId}`);
    return envoy.lastRunId === runId ? true : undefined;
  });
}

describe('blast-radius auto-rollback', () => {
  let good = 0;
  let bad = 0;
  let restoredAs = 0;

  it('keeps a version whose envoys converge', async () => {
    good = await publish('good');
    for (const agent of agents.slice(0, 3)) await reportCounted(agent, good, true);
    const s = await status();
    assert.equal(s.active.version, good);
    assert.deepEqual(
      [s.blastRadiusWatch?.version, s.blastRadiusWatch?.reporting, s.blastRadiusWatch?.converged],
      [good, 3, 3],
    );
    assert.equal(s.autoRollback, null);
  });

  it('rolls a failing version back once enough of its envoys reported, as the system actor', async () => {
    bad = await publish('bad');
    assert.equal((await status()).blastRadiusWatch?.previousVersion, good);
    await reportCounted(agents[0] as EnrolledAgent, bad, false);
    await reportCounted(agents[1] as EnrolledAgent, bad, false);
    const waiting = await status();
    assert.equal(waiting.active.version, bad, 'two reporters are fewer than min_envoys');
    assert.deepEqual([waiting.blastRadiusWatch?.reporting, waiting.blastRadiusWatch?.converged], [2, 0]);
    await report(agents[2] as EnrolledAgent, bad, true);

    const s = await waitFor('the automatic rollback', async () => {
      const current = await status();
      return current.active.version !== bad ? current : undefined;
    });
    restoredAs = s.active.version;
    assert.ok(restoredAs > bad);
    assert.deepEqual([s.active.createdBy, s.active.source], ['system', `rollback:${good}`]);
    assert.match(s.active.message ?? '', /automatic rollback \(blast radius\): 1 of 3 envoys/);
    assert.ok(s.autoRollback !== null);
    const { at, reason, ...figures } = s.autoRollback;
    assert.match(at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(reason, s.active.message);
    assert.deepEqual(figures, {
      rolledBack: bad,
      restored: good,
      version: restoredAs,
      reporting: 3,
      converged: 1,
      convergedPct: 33.33,
      minConvergencePct: 75,
      minEnvoys: 3,
      window: '10m',
    });
    assert.equal(s.blastRadiusWatch, null, 'nothing is watched after a rollback');

    const audit = await call<{ items: { actor: string; details: Record<string, unknown> }[] }>(
      'GET',
      '/api/v1/audit?action=config.rolled_back&limit=1',
    );
    assert.equal(audit.items[0]?.actor, 'system');
    assert.deepEqual(audit.items[0]?.details['automatic'], {
      reason: 'blast_radius',
      reporting: 3,
      converged: 1,
      convergedPct: 33.33,
      minConvergencePct: 75,
      minEnvoys: 3,
      windowMs: 600_000,
    });
    const siem = await server.request('/api/v1/export/siem?limit=5000', {
      headers: { authorization: `Bearer ${admin}` },
    });
    const event = siem.body
      .split('\n')
      .filter((line) => line !== '')
      .map(
        (line) =>
          JSON.parse(line) as { event?: { action: string; kind: string }; vigo: Record<string, unknown> },
      )
      .find((line) => line.event?.action === 'config.auto_rolled_back');
    assert.equal(event?.event?.kind, 'alert');
    assert.deepEqual(
      event?.vigo['data'] && {
        rolledBack: (event.vigo['data'] as Record<string, unknown>)['rolledBack'],
        restored: (event.vigo['data'] as Record<string, unknown>)['restored'],
        by: (event.vigo['data'] as Record<string, unknown>)['by'],
      },
      { rolledBack: bad, restored: good, by: 'system' },
    );
  });

  it('does not roll back again: failing runs on the restored version change nothing', async () => {
    for (const agent of agents) await reportCounted(agent, restoredAs, false);
    const s = await status();
    assert.equal(s.active.version, restoredAs);
    assert.equal(s.blastRadiusWatch, null);
    const history = await call<{ items: { version: number }[] }>('GET', '/api/v1/config/history?limit=1');
    assert.equal(history.items[0]?.version, restoredAs, 'no version after the rollback');
  });

  it('a new publish watches again, and vigocli config status shows the watch and the last rollback', async () => {
    const next = await publish('next');
    const s = await status();
    assert.deepEqual([s.blastRadiusWatch?.version, s.blastRadiusWatch?.previousVersion], [next, restoredAs]);
    const run = await runVigocli(
      ['--server', server.apiUrl, '--data-dir', temp.path, 'config', 'status'],
      cleanCliEnv(temp.path, { XDG_CONFIG_HOME: join(temp.path, 'cli-config') }),
      temp.path,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`blast radius: watching version ${next} since `));
    assert.match(
      run.stdout,
      new RegExp(
        `last automatic rollback: .*version ${bad} rolled back to ${good} \\(now version ${restoredAs}\\); 1 of 3 envoys converged \\(33.33%\\), below 75%`,
      ),
    );
  });

  it('resumes the watch after a restart for the rest of the window, and keeps the last rollback', async () => {
    const before = await status();
    assert.equal(await server.stop(), 0);
    server = await startServer({ dataDir: temp.path, env: serverEnv });
    admin = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
    const after = await status();
    assert.equal(after.active.version, before.active.version);
    assert.deepEqual(
      [
        after.blastRadiusWatch?.version,
        after.blastRadiusWatch?.previousVersion,
        after.blastRadiusWatch?.reporting,
      ],
      [before.blastRadiusWatch?.version, before.blastRadiusWatch?.previousVersion, 0],
    );
    assert.equal(after.autoRollback?.rolledBack, bad);
  });
});
