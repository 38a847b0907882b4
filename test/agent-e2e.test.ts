/**
 * The reference agent end to end: real vigosrv and real `vigo` processes. Publish a stack managing
 * files under a temp dir, converge, see the outcomes through the REST API, correct a hand edit, keep
 * converging from the cached bundle while the server is down, deliver every queued result exactly
 * once after it returns, give two hostnames different policies, and refuse a tampered cached bundle.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { freeLoopbackPort, makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const vigoBin = join(repoRoot, 'bin', 'vigo');
const serverDir = makeTempDir('vigo-e2e-srv-');
const work = makeTempDir('vigo-e2e-work-');
const managed = join(work.path, 'managed');
let server: ReadyServer;
let ports: { grpc: number; api: number };

function start(): Promise<ReadyServer> {
  return startServer({
    dataDir: serverDir.path,
    grpcListen: `127.0.0.1:${ports.grpc}`,
    apiListen: `127.0.0.1:${ports.api}`,
  });
}

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
      { env: cleanCliEnv(work.path), timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

function adminToken(): string {
  return readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
}

async function api<T>(path: string): Promise<T> {
  const reply = await server.request(path, { headers: { authorization: `Bearer ${adminToken()}` } });
  assert.equal(reply.status, 200, reply.body);
  return reply.json<T>();
}

interface RunSummary {
  id: string;
  status: string;
  policyVersion: number;
  resources: { total: number; changed: number; failed: number };
  heartbeat: boolean;
}

interface RunDetail extends RunSummary {
  results: { resourceId: string; outcome: string; message: string }[];
  resourcesListedIn: { runId: string } | null;
}

function writeStack(): string {
  const dir = join(work.path, 'stack');
  const files: Record<string, string> = {
    'configcrates/alpha.vgo': `name: alpha
resources:
  - name: dir
    type: directory
    target_path: ${managed}/alpha
    mode: "0755"
  - name: conf
    type: file
    target_path: ${managed}/alpha/app.conf
    content: "role=alpha\\n"
    mode: "0640"
    depends_on: dir
  - name: line
    type: file_line
    target_path: ${managed}/alpha/extra.conf
    line: "managed=true"
    create: true
    depends_on: conf
`,
    'configcrates/beta.vgo': `name: beta
resources:
  - name: conf
    type: file
    target_path: ${managed}/beta.conf
    content: "role=beta\\n"
`,
    'roles.vgo': 'roles:\n  alpha:\n    configcrates: [alpha]\n  beta:\n    configcrates: [beta]\n',
    'envoys.vgo':
      'envoys:\n  - match: "e2e-a-*"\n    roles: [alpha]\n  - match: "e2e-b-*"\n    roles: [beta]\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const stateA = join(work.path, 'state-a');
const stateB = join(work.path, 'state-b');
let envoyA = '';

before(async () => {
  ports = { grpc: await freeLoopbackPort(), api: await freeLoopbackPort() };
  server = await start();
  const published = await runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, 'config', 'publish', writeStack()],
    cleanCliEnv(work.path),
    work.path,
  );
  assert.equal(published.code, 0, published.stderr);
  const token = await createEnrollToken(server, ['e2e-*'], 5);
  const caFile = join(serverDir.path, 'tls', 'ca.crt');
  for (const [state, hostname] of [
    [stateA, 'e2e-a-1'],
    [stateB, 'e2e-b-1'],
  ] as const) {
    const enrolled = await vigo(state, [
      'enroll',
      '--server',
      `127.0.0.1:${ports.api}`,
      '--token',
      token,
      '--ca',
      caFile,
      '--hostname',
      hostname,
    ]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    assert.match(enrolled.stdout, new RegExp(`enrolled ${hostname} as envoy`));
  }
  envoyA = (JSON.parse(readFileSync(join(stateA, 'identity.json'), 'utf8')) as { envoyId: string }).envoyId;
});

after(async () => {
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('vigo agent against a real server', () => {
  it('converges, and the outcomes are visible through the REST API', async () => {
    const run = await vigo(stateA, ['run', '--once']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(join(managed, 'alpha', 'app.conf'), 'utf8'), 'role=alpha\n');
    assert.equal(readFileSync(join(managed, 'alpha', 'extra.conf'), 'utf8'), 'managed=true\n');
    const runs = await api<{ items: RunSummary[] }>(`/api/v1/runs?envoy=${envoyA}`);
    assert.equal(runs.items.length, 1);
    const detail = await api<RunDetail>(`/api/v1/runs/${runs.items[0]?.id ?? ''}`);
    assert.deepEqual(
      detail.results.map((r) => [r.resourceId, r.outcome]),
      [
        ['alpha/dir', 'created'],
        ['alpha/conf', 'created'],
        ['alpha/line', 'created'],
      ],
    );
    assert.equal(detail.policyVersion, 2);
  });

  it('changes nothing on a converged host and corrects a hand edit on the next run', async () => {
    const again = await vigo(stateA, ['run', '--once']);
    assert.equal(again.code, 0, again.stderr);
    writeFileSync(join(managed, 'alpha', 'app.conf'), 'edited by hand\n');
    const fix = await vigo(stateA, ['run', '--once']);
    assert.equal(fix.code, 0, fix.stderr);
    assert.equal(readFileSync(join(managed, 'alpha', 'app.conf'), 'utf8'), 'role=alpha\n');
    const runs = await api<{ items: RunSummary[] }>(`/api/v1/runs?envoy=${envoyA}`);
    const [latest, quiet, first] = runs.items;
    assert.equal(quiet?.resources.changed, 0, 'the second run found nothing to do');
    assert.equal(quiet?.heartbeat, true, 'and was stored as a heartbeat');
    const quietDetail = await api<RunDetail>(`/api/v1/runs/${quiet?.id ?? ''}`);
    assert.deepEqual(quietDetail.results, []);
    assert.equal(
      quietDetail.resourcesListedIn?.runId,
      first?.id,
      'its resources are listed by the first run',
    );
    assert.equal(latest?.heartbeat, false);
    const detail = await api<RunDetail>(`/api/v1/runs/${latest?.id ?? ''}`);
    assert.equal(detail.results.find((r) => r.resourceId === 'alpha/conf')?.outcome, 'updated');
  });

  it('gives each hostname the policy of its match entry', async () => {
    const run = await vigo(stateB, ['run', '--once']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(join(managed, 'beta.conf'), 'utf8'), 'role=beta\n');
    assert.equal(existsSync(join(managed, 'beta', 'app.conf')), false);
  });

  it('drops a run the server rejects from its queue, and delivers the good runs of the same call', async () => {
    // A run the agent could not have sent itself: an outcome the protocol has no code for.
    const planted = {
      runId: '00000000-0000-4000-8000-000000000001',
      policyVersion: 2,
      startedAtMs: 1,
      finishedAtMs: 2,
      dryRun: false,
      results: [
        {
          resourceId: 'beta/conf',
          resourceType: 'file',
          configcrate: 'beta',
          outcome: 'bogus',
          message: '',
          durationMs: 1,
        },
      ],
    };
    writeFileSync(
      join(stateB, 'queue', `${'1'.padStart(15, '0')}-${planted.runId}.json`),
      JSON.stringify(planted),
    );
    const run = await vigo(stateB, ['run', '--once']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /server rejected a run report/);
    const status = JSON.parse((await vigo(stateB, ['status', '--json'])).stdout) as { queuedRuns: number };
    assert.equal(status.queuedRuns, 0, 'the rejected run left the queue, the good one was delivered');
  });

  it('keeps converging from the cache while the server is down, then delivers every queued run once', async () => {
    const before = (await api<{ items: RunSummary[] }>(`/api/v1/runs?envoy=${envoyA}`)).items.length;
    assert.equal(await server.stop(), 0);
    writeFileSync(join(managed, 'alpha', 'app.conf'), 'drifted while offline\n');
    const offline1 = await vigo(stateA, ['run', '--once']);
    assert.equal(offline1.code, 0, offline1.stderr);
    assert.equal(readFileSync(join(managed, 'alpha', 'app.conf'), 'utf8'), 'role=alpha\n');
    const offline2 = await vigo(stateA, ['run', '--once']);
    assert.equal(offline2.code, 0, offline2.stderr);
    const status = JSON.parse((await vigo(stateA, ['status', '--json'])).stdout) as {
      queuedRuns: number;
      bundle: { state: string; policyVersion: number };
      lastRun: { bundleSource: string };
    };
    assert.equal(status.queuedRuns, 2);
    assert.equal(status.bundle.state, 'valid');
    assert.equal(status.lastRun.bundleSource, 'cache');

    server = await start();
    const online = await vigo(stateA, ['run', '--once']);
    assert.equal(online.code, 0, online.stderr);
    const after = await api<{ items: RunSummary[] }>(`/api/v1/runs?envoy=${envoyA}`);
    assert.equal(after.items.length, before + 3, 'two queued runs and this one, each once');
    assert.equal(new Set(after.items.map((r) => r.id)).size, after.items.length);
    const drained = JSON.parse((await vigo(stateA, ['status', '--json'])).stdout) as { queuedRuns: number };
    assert.equal(drained.queuedRuns, 0);
  });

  it('refuses a tampered cached bundle', async () => {
    assert.equal(await server.stop(), 0);
    const file = join(stateB, 'bundle.json');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { payload: string };
    const document = Buffer.from(stored.payload, 'base64').toString('utf8').replace('role=beta', 'role=evil');
    stored.payload = Buffer.from(document).toString('base64');
    writeFileSync(file, JSON.stringify(stored));
    writeFileSync(join(managed, 'beta.conf'), 'untouched\n');
    const run = await vigo(stateB, ['run', '--once']);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /does not verify/);
    assert.equal(readFileSync(join(managed, 'beta.conf'), 'utf8'), 'untouched\n');
    const status = await vigo(stateB, ['status']);
    assert.match(status.stdout, /bundle:\s+invalid/);
    assert.match(status.stdout, /queued runs:\s+0$/m, 'a refused bundle produces no run');
  });
});
