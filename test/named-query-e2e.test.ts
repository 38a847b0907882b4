/**
 * Named read-only queries end to end: stacks with queries.vgo published at start, a real vigosrv and a
 * real `vigo daemon` holding its stream, and an enrolled envoy that never connects. Asked by name over
 * REST and with `vigocli query run`, the agent answers from the definition in its own signed bundle (a
 * file's SHA-256, a Debian package's version, a trait), values are counted per distinct value, the offline
 * envoy is listed as not answered, and names the configuration does not define are refused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveQueryAnswer } from '../server/orchestration/index.ts';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import { startAgentDaemon, streamsOpen } from './helpers/agent-daemon.ts';
import type { AgentDaemon } from './helpers/agent-daemon.ts';
import { waitFor } from './helpers/deadline.ts';
import type { HttpsResponse } from './helpers/https-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-nq-e2e-srv-');
const work = makeTempDir('vigo-nq-e2e-work-');
const watched = join(work.path, 'app.conf');
let server: ReadyServer;
let token = '';
let agent: AgentDaemon;

function writeStacks(): string {
  const root = join(work.path, 'stacks');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'envoys.vgo'), 'envoys:\n  - match: "nq-*"\n');
  writeFileSync(
    join(root, 'queries.vgo'),
    `queries:
  app-conf:
    description: Which app.conf each host has
    probe: file_sha256
    args: { path: ${watched} }
  bash-version:
    probe: package_version
    args: { name: bash }
  os-name:
    trait: os.name
`,
  );
  return root;
}

function ask(body: Record<string, unknown>): Promise<HttpsResponse> {
  return server.request('/api/v1/queries', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deadlineSeconds: 20, ...body }),
  });
}

before(async () => {
  writeFileSync(watched, 'listen 8080\n');
  server = await startServer({
    dataDir: serverDir.path,
    args: ['--stacks', writeStacks(), '--publish-at-start'],
  });
  token = readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim();
  const enrollToken = await createEnrollToken(server, ['nq-*'], 2);
  await enrollAgent(server, enrollToken, 'nq-offline');
  agent = await startAgentDaemon(server, { hostname: 'nq-1', enrollToken, home: work.path });
  await waitFor(
    'the agent to hold its stream with the bundle that carries the queries',
    async () => {
      if ((await streamsOpen(server, token)) !== 1) return undefined;
      const probe = await ask({ targets: ['nq-1'], name: 'os-name' });
      return probe.status === 200 && probe.json<LiveQueryAnswer>().answered === 1 ? true : undefined;
    },
    60_000,
  );
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('named queries with the reference agent', () => {
  it('answers a probe query by name, counted per value, with the offline envoy not answered', async () => {
    const reply = await ask({ targets: ['nq-*'], name: 'app-conf', rawLimit: 10 });
    assert.equal(reply.status, 200, reply.body);
    const answer = reply.json<LiveQueryAnswer>();
    const expected = createHash('sha256').update('listen 8080\n').digest('hex');
    assert.equal(answer.queryName, 'app-conf');
    assert.equal(answer.traitPath, '');
    assert.deepEqual(
      [answer.targeted, answer.asked, answer.answered, answer.errorCount],
      [2, 1, 1, 0],
      reply.body,
    );
    assert.deepEqual(answer.values, [{ value: expected, count: 1 }]);
    assert.deepEqual(answer.rows, [{ envoyId: agent.envoyId, hostname: 'nq-1', value: expected }]);
    assert.deepEqual(
      answer.notAnswered.map((n) => [n.hostname, n.reason]),
      [['nq-offline', 'offline']],
    );
  });

  it('runs the package probe and the trait query the bundle defines', async () => {
    const bash = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' });
    const pkg = await ask({ targets: ['nq-1'], name: 'bash-version' });
    assert.deepEqual(pkg.json<LiveQueryAnswer>().values, [{ value: bash, count: 1 }], pkg.body);
    const os = await ask({ targets: ['nq-1'], name: 'os-name' });
    assert.equal(os.json<LiveQueryAnswer>().traitPath, 'os.name');
    assert.equal(os.json<LiveQueryAnswer>().answered, 1, os.body);
  });

  it('refuses a name the configuration does not define, and a body with both a name and a trait path', async () => {
    const unknown = await ask({ targets: ['nq-1'], name: 'shadow-hash' });
    assert.equal(unknown.status, 404, unknown.body);
    assert.equal(unknown.json<{ code: string }>().code, 'query.unknown');
    assert.match(unknown.json<{ message: string }>().message, /defines app-conf, bash-version, os-name/);
    const both = await ask({ targets: ['nq-1'], name: 'os-name', traitPath: 'os.name' });
    assert.equal(both.status, 400, both.body);
    assert.equal(both.json<{ code: string }>().code, 'query.invalid');
    const audit = await server.request('/api/v1/audit?action=query.started&limit=50', {
      headers: { authorization: `Bearer ${token}` },
    });
    const names = audit
      .json<{ items: { details: Record<string, unknown> }[] }>()
      .items.map((i) => i.details['queryName']);
    assert.ok(names.includes('app-conf'), 'a named query is audited by its name');
  });

  it('lists the named queries of the active configuration over REST and with vigocli query list', async () => {
    const reply = await server.request('/api/v1/named-queries', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(reply.json<{ items: unknown[] }>().items, [
      {
        name: 'app-conf',
        description: 'Which app.conf each host has',
        trait: null,
        probe: 'file_sha256',
        args: { path: watched },
      },
      {
        name: 'bash-version',
        description: '',
        trait: null,
        probe: 'package_version',
        args: { name: 'bash' },
      },
      { name: 'os-name', description: '', trait: 'os.name', probe: null, args: {} },
    ]);
    const run = await runVigocli(
      ['--server', server.apiUrl, '--data-dir', serverDir.path, 'query', 'list'],
      cleanCliEnv(work.path),
      work.path,
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+ASKS\s+DESCRIPTION$/);
    assert.match(
      lines[1] ?? '',
      new RegExp(`^app-conf\\s+file_sha256 path=${watched}\\s+Which app\\.conf each host has$`),
    );
    assert.match(lines[3] ?? '', /^os-name\s+trait os\.name\s*$/);
  });

  it('vigocli query run asks by name and prints the counted values', async () => {
    const run = await runVigocli(
      ['--server', server.apiUrl, '--data-dir', serverDir.path, 'query', 'run', 'app-conf', 'nq-1'],
      cleanCliEnv(work.path),
      work.path,
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^query app-conf on 1 envoy: 1 answered, 0 not answered/);
    const expected = createHash('sha256').update('listen 8080\n').digest('hex');
    assert.ok(run.stdout.split('\n').includes(`1      ${JSON.stringify(expected)}`), run.stdout);
    const unknown = await runVigocli(
      ['--server', server.apiUrl, '--data-dir', serverDir.path, 'query', 'run', 'nope', 'nq-1'],
      cleanCliEnv(work.path),
      work.path,
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /query\.unknown/);
  });
});
