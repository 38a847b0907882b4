/**
 * The cross-platform executors end to end: a stack using field_edit, sshkey, git and reboot is published
 * to a real vigosrv (so their schemas accept Vigo's field names), and the real `vigo` agent converges it,
 * then finds nothing to do on the next run. Everything it touches lives in a temp dir; the reboot's
 * guard never asks for a reboot.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { freeLoopbackPort, makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const vigoBin = join(repoRoot, 'bin', 'vigo');
const serverDir = makeTempDir('vigo-xplat-srv-');
const work = makeTempDir('vigo-xplat-work-');
const managed = join(work.path, 'managed');
const stateDir = join(work.path, 'state');
const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop';
let server: ReadyServer;
let envoyId = '';

function vigo(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      vigoBin,
      [...args, '--state-dir', stateDir, '--log-level', 'warn'],
      { env: cleanCliEnv(work.path), timeout: 120_000 },
      (err, _stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr });
      },
    );
  });
}

/** A local bare repository with one commit on main. */
function bareRepo(): string {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@x.invalid',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@x.invalid',
  };
  const src = join(work.path, 'src');
  const bare = join(work.path, 'app.git');
  mkdirSync(src);
  const g = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env, stdio: 'ignore' });
  g(src, 'init', '--quiet');
  writeFileSync(join(src, 'VERSION'), '1\n');
  g(src, 'add', 'VERSION');
  g(src, 'commit', '--quiet', '-m', 'one');
  g(work.path, 'clone', '--quiet', '--bare', src, bare);
  return bare;
}

function writeStack(bare: string): string {
  const dir = join(work.path, 'stack');
  const files: Record<string, string> = {
    'configcrates/xplat.vgo': `name: xplat
resources:
  - name: base
    type: directory
    target_path: ${managed}
  - name: grub
    type: field_edit
    target_path: ${managed}/grub
    key: GRUB_TIMEOUT
    value: 5
    create: true
    depends_on: base
  - name: alice
    type: sshkey
    target_path: ${managed}/authorized_keys
    key: "${key}"
    options: 'from="10.0.0.0/8"'
    depends_on: base
  - name: app
    type: git
    target_path: ${managed}/app
    repo: ${bare}
    revision: main
    depends_on: base
  - name: maybe-reboot
    type: reboot
    reason: never in this test
    unless: "true"
`,
    'roles.vgo': 'roles:\n  xplat:\n    configcrates: [xplat]\n',
    'envoys.vgo': 'envoys:\n  - match: "xplat-*"\n    roles: [xplat]\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

interface RunDetail {
  id: string;
  heartbeat: boolean;
  resources: { total: number; changed: number; failed: number };
  results: { resourceId: string; outcome: string }[];
  resourcesListedIn: { runId: string } | null;
}

/** The envoy's newest run as the API details it. */
async function latestRun(): Promise<RunDetail> {
  const auth = {
    authorization: `Bearer ${readFileSync(join(serverDir.path, 'local-admin.token'), 'utf8').trim()}`,
  };
  const runs = (await server.request(`/api/v1/runs?envoy=${envoyId}`, { headers: auth })).json<{
    items: { id: string }[];
  }>();
  const detail = await server.request(`/api/v1/runs/${runs.items[0]?.id ?? ''}`, { headers: auth });
  return detail.json<RunDetail>();
}

before(async () => {
  const ports = { grpc: await freeLoopbackPort(), api: await freeLoopbackPort() };
  server = await startServer({
    dataDir: serverDir.path,
    grpcListen: `127.0.0.1:${ports.grpc}`,
    apiListen: `127.0.0.1:${ports.api}`,
  });
  const published = await runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, 'config', 'publish', writeStack(bareRepo())],
    cleanCliEnv(work.path),
    work.path,
  );
  assert.equal(published.code, 0, published.stderr);
  const token = await createEnrollToken(server, ['xplat-*'], 1);
  const caFile = join(serverDir.path, 'tls', 'ca.crt');
  const enrolled = await vigo([
    'enroll',
    '--server',
    `127.0.0.1:${ports.api}`,
    '--token',
    token,
    '--ca',
    caFile,
    '--hostname',
    'xplat-1',
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  envoyId = (JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8')) as { envoyId: string })
    .envoyId;
});

after(async () => {
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('cross-platform executors in the real agent', () => {
  it('converge a published stack, then change nothing', async () => {
    const first = await vigo(['run', '--once']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(join(managed, 'grub'), 'utf8'), 'GRUB_TIMEOUT=5\n');
    assert.equal(readFileSync(join(managed, 'authorized_keys'), 'utf8'), `from="10.0.0.0/8" ${key}\n`);
    assert.equal(readFileSync(join(managed, 'app', 'VERSION'), 'utf8'), '1\n');
    const converging = await latestRun();
    assert.deepEqual(
      converging.results.map((r) => [r.resourceId, r.outcome]),
      [
        ['xplat/base', 'created'],
        ['xplat/grub', 'created'],
        ['xplat/alice', 'created'],
        ['xplat/app', 'created'],
        ['xplat/maybe-reboot', 'none'],
      ],
    );
    const second = await vigo(['run', '--once']);
    assert.equal(second.code, 0, second.stderr);
    // Every resource already as desired: stored as a heartbeat over the same five resources.
    const quiet = await latestRun();
    assert.equal(quiet.heartbeat, true);
    assert.deepEqual(quiet.resources, { total: 5, changed: 0, failed: 0 });
    assert.equal(quiet.resourcesListedIn?.runId, converging.id);
  });
});
