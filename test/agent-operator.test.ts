/**
 * What an operator sees from the real `vigo` against a real vigosrv: enrolling with an https URL,
 * the hint when pointed at the agent (gRPC) port, `vigo status` before the first run, dry runs of a
 * fresh tree and of the demo stacks that report would-be changes, not failures, the per-resource
 * lines and summary of a real run, a quiet converged run, JSON output, and a failure on stderr with
 * exit 1. No command (the daemon included) prints a Node deprecation or V8 flag warning.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnrollToken } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { freeLoopbackPort, makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const vigoBin = join(repoRoot, 'bin', 'vigo');
const serverDir = makeTempDir('vigo-op-srv-');
const work = makeTempDir('vigo-op-work-');
const tree = join(work.path, 'tree');
const state = join(work.path, 'state');
let server: ReadyServer;
let ports: { grpc: number; api: number };
let caFile = '';
let token = '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Node prints these for deprecated APIs, experimental features and V8 flags it does not know. */
const nodeWarning = /DeprecationWarning|ExperimentalWarning|\(node:\d+\)|Warning: |bad option|unknown flag/i;

function vigo(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      vigoBin,
      [...args, '--state-dir', state],
      { env: cleanCliEnv(work.path), timeout: 120_000 },
      (err, stdout, stderr) => {
        assert.doesNotMatch(stderr, nodeWarning, `vigo ${args.join(' ')} printed a Node warning`);
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
      },
    );
  });
}

function writeStack(): string {
  const dir = join(work.path, 'stack');
  const files: Record<string, string> = {
    'configcrates/tree.vgo': `name: tree
resources:
  - name: root
    type: directory
    target_path: ${tree}/app
    mode: "0755"
  - name: conf
    type: file
    target_path: ${tree}/app/app.conf
    content: "role=op\\n"
    depends_on: root
  - name: line
    type: file_line
    target_path: ${tree}/app/extra.conf
    line: "managed=true"
    create: true
    depends_on: root
`,
    'roles.vgo': 'roles:\n  op:\n    configcrates: [tree]\n',
    'envoys.vgo': 'envoys:\n  - match: "op-*"\n    roles: [op]\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

before(async () => {
  ports = { grpc: await freeLoopbackPort(), api: await freeLoopbackPort() };
  server = await startServer({
    dataDir: serverDir.path,
    grpcListen: `127.0.0.1:${ports.grpc}`,
    apiListen: `127.0.0.1:${ports.api}`,
  });
  const published = await runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, 'config', 'publish', writeStack()],
    cleanCliEnv(work.path),
    work.path,
  );
  assert.equal(published.code, 0, published.stderr);
  token = await createEnrollToken(server, ['op-*'], 5);
  caFile = join(serverDir.path, 'tls', 'ca.crt');
});

after(async () => {
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('vigo as an operator sees it', () => {
  it('says "use the API port" when enroll is pointed at the agent (gRPC) port', async () => {
    const wrong = await vigo([
      'enroll',
      '--server',
      `https://127.0.0.1:${ports.grpc}`,
      '--token',
      token,
      '--ca',
      caFile,
    ]);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(
      wrong.stderr,
      /is the agent \(gRPC\) port.*use the API port, e\.g\. https:\/\/127\.0\.0\.1:8443/,
    );
    assert.equal(existsSync(join(state, 'identity.json')), false);
  });

  it('enrolls with an https:// URL as vigocli takes it', async () => {
    const enrolled = await vigo([
      'enroll',
      '--server',
      `https://127.0.0.1:${ports.api}`,
      '--token',
      token,
      '--ca',
      caFile,
      '--hostname',
      'op-1',
    ]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    assert.match(enrolled.stdout, /enrolled op-1 as envoy/);
  });

  it('explains itself in vigo status before the first run (exit 3)', async () => {
    const status = await vigo(['status']);
    assert.equal(status.code, 3, status.stderr);
    assert.match(status.stdout, /last run:\s+never/);
    assert.match(status.stdout, /note:\s+this host has not checked in since it enrolled.*vigo run --once/);
    const json = await vigo(['status', '--json']);
    assert.equal(json.code, 3);
    assert.match((JSON.parse(json.stdout) as { explanation: string }).explanation, /has not checked in/);
  });

  it('dry-runs a fresh tree as would-be changes, not failures, and writes nothing', async () => {
    const dry = await vigo(['run', '--once', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stderr, '');
    assert.deepEqual(dry.stdout.split('\n').slice(0, 3), [
      `+ directory tree/root: would create ${tree}/app: mode 0755`,
      `+ file tree/conf: would create ${tree}/app/app.conf: 8 bytes, mode 0644`,
      `+ file_line tree/line: would create ${tree}/app/extra.conf: inserted line 1`,
    ]);
    assert.match(
      dry.stdout,
      /^dry run of policy version \d+: 3 resources, 3 would change, 0 failed, 0 unchanged in [\d.]+ s$/m,
    );
    assert.equal(existsSync(tree), false);
  });

  it('prints a line per change and a summary, then only the summary once converged', async () => {
    const run = await vigo(['run', '--once']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\+ file tree\/conf: created .*app\.conf/m);
    assert.match(run.stdout, /^policy version \d+: 3 resources, 3 changed, 0 failed, 0 unchanged in /m);
    assert.equal(readFileSync(join(tree, 'app', 'app.conf'), 'utf8'), 'role=op\n');
    const again = await vigo(['run', '--once']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      /^policy version \d+: 3 resources, 0 changed, 0 failed, 3 unchanged in [\d.]+ s\n$/,
    );
    assert.equal(again.stderr, '');
  });

  it('prints JSON for machines', async () => {
    writeFileSync(join(tree, 'app', 'app.conf'), 'edited by hand\n');
    const run = await vigo(['run', '--once', '--format', 'json']);
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as {
      counts: { changed: number };
      resources: { id: string; outcome: string }[];
    };
    assert.equal(doc.counts.changed, 1);
    assert.equal(doc.resources.find((r) => r.id === 'tree/conf')?.outcome, 'updated');
    const bad = await vigo(['run', '--once', '--format', 'yaml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be text or json/);
  });

  it('exits 1 with the failure on stderr', async () => {
    // The managed directory becomes a file: the file inside it cannot be written.
    rmSync(join(tree, 'app'), { recursive: true });
    writeFileSync(join(tree, 'app'), 'not a directory\n');
    const run = await vigo(['run', '--once']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^! directory tree\/root: failed: .*not a directory/m);
    assert.match(run.stderr, /^! file tree\/conf: blocked: depends on tree\/root which failed/m);
    assert.match(run.stdout, /1 failed, 2 blocked/);
  });

  it('dry-runs the demo stacks without a false failure', async () => {
    const published = await runVigocli(
      [
        '--server',
        server.apiUrl,
        '--data-dir',
        serverDir.path,
        'config',
        'publish',
        join(repoRoot, 'policies', 'demo'),
      ],
      cleanCliEnv(work.path),
      work.path,
    );
    assert.equal(published.code, 0, published.stderr);
    const dry = await vigo(['run', '--once', '--dry-run']);
    assert.equal(dry.code, 0, `${dry.stdout}${dry.stderr}`);
    assert.doesNotMatch(dry.stderr, /^! /m);
    assert.match(dry.stdout, /^dry run of policy version \d+: \d+ resources, \d+ would change, 0 failed, /m);
  });

  it('prints no Node warning from help, version, traits or a daemon cycle', async () => {
    for (const args of [['--help'], ['version'], ['traits']]) {
      const r = await vigo(args);
      assert.equal(r.code, 0, r.stderr);
    }
    const statusFile = join(state, 'status.json');
    const before = (JSON.parse(readFileSync(statusFile, 'utf8')) as { finishedAtMs: number }).finishedAtMs;
    let output = '';
    const daemon = spawn(vigoBin, ['daemon', '--dry-run', '--state-dir', state, '--log-level', 'warn'], {
      env: cleanCliEnv(work.path),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    daemon.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    try {
      await waitFor(
        'a daemon cycle',
        () => {
          const status = JSON.parse(readFileSync(statusFile, 'utf8')) as { finishedAtMs: number };
          return status.finishedAtMs > before ? true : undefined;
        },
        60_000,
      );
    } finally {
      daemon.kill('SIGTERM');
      await exited;
    }
    assert.doesNotMatch(output, nodeWarning);
  });
});
