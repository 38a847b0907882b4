/**
 * The container executors against the CLI's command contract. No container engine runs on the test
 * machines, so a stand-in `docker` first on PATH keeps a small state file, answers inspect/ps/config the
 * way the real CLI prints them, and logs every argv (and the env-file it was given) for the assertions.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { dockerComposeExecutor } from './docker-compose.ts';
import { containerExecutor, dockerContainerExecutor } from './docker-container.ts';
import { dockerImageExecutor } from './docker-image.ts';
import { setup } from './test-context.ts';

interface FakeState {
  images: Record<string, string>;
  registry: Record<string, string>;
  containers: Record<
    string,
    { status: string; label: string; image: string; envFile?: string; envMode?: number }
  >;
  services: Record<string, string>;
  compose: Record<string, { Service: string; State: string; Labels: string }[]>;
}

const fakeDocker = (stateFile: string, logFile: string): string => `#!/usr/bin/env node
const fs = require('fs');
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(logFile)}, JSON.stringify(argv) + '\\n');
const st = JSON.parse(fs.readFileSync(${JSON.stringify(stateFile)}, 'utf8'));
const save = () => fs.writeFileSync(${JSON.stringify(stateFile)}, JSON.stringify(st));
const fail = (m) => { process.stderr.write(m + '\\n'); process.exit(1); };
const opt = (k) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
const last = argv[argv.length - 1];
const [a, b] = argv;
if (a === 'image' && b === 'inspect') {
  if (!st.images[last]) fail('Error: No such image: ' + last);
  process.stdout.write(st.images[last] + '\\n');
} else if (a === 'pull') {
  st.images[last] = st.registry[last] || fail('Error response from daemon: manifest unknown');
} else if (a === 'image' && b === 'rm') {
  delete st.images[last];
} else if (a === 'container' && b === 'inspect') {
  const c = st.containers[last];
  if (!c) fail('Error: No such container: ' + last);
  process.stdout.write(c.status + '\\t' + (c.label || '<no value>') + '\\n');
} else if (a === 'run' || a === 'create') {
  const name = opt('--name');
  const label = (opt('--label') || '').replace('vigo.config=', '');
  const envPath = opt('--env-file');
  const c = { status: a === 'run' ? 'running' : 'created', label, image: argv[argv.indexOf('--') + 1] };
  if (envPath) { c.envFile = fs.readFileSync(envPath, 'utf8'); c.envMode = fs.statSync(envPath).mode & 0o777; }
  st.containers[name] = c;
} else if (a === 'start') { st.containers[last].status = 'running';
} else if (a === 'stop') { st.containers[last].status = 'exited';
} else if (a === 'rm') { delete st.containers[last];
} else if (a === 'compose') {
  const project = opt('--project-name');
  const sub = argv[5];
  if (sub === 'config') {
    for (const [s, h] of Object.entries(st.services)) process.stdout.write(s + ' ' + h + '\\n');
  } else if (sub === 'ps') {
    for (const c of st.compose[project] || []) process.stdout.write(JSON.stringify(c) + '\\n');
  } else if (sub === 'up') {
    st.compose[project] = Object.entries(st.services).map(([s, h]) => ({ Service: s, State: 'running', Labels: 'com.docker.compose.project=' + project + ',com.docker.compose.config-hash=' + h }));
  } else if (sub === 'down') { delete st.compose[project]; }
} else { fail('unknown command: ' + argv.join(' ')); }
save();
`;

function fake(t: TestContext, dir: string) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const stateFile = path.join(dir, 'docker-state.json');
  const logFile = path.join(dir, 'docker-argv.log');
  const initial: FakeState = { images: {}, registry: {}, containers: {}, services: {}, compose: {} };
  fs.writeFileSync(stateFile, JSON.stringify(initial));
  fs.writeFileSync(path.join(bin, 'docker'), fakeDocker(stateFile, logFile), { mode: 0o755 });
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath ?? ''}`;
  t.after(() => {
    process.env.PATH = oldPath;
  });
  return {
    state: (): FakeState => JSON.parse(fs.readFileSync(stateFile, 'utf8')) as FakeState,
    edit: (f: (s: FakeState) => void) => {
      const s = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as FakeState;
      f(s);
      fs.writeFileSync(stateFile, JSON.stringify(s));
    },
    calls: (): string[] =>
      fs.existsSync(logFile)
        ? fs
            .readFileSync(logFile, 'utf8')
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as string[]).join(' '))
        : [],
  };
}

describe('docker_image executor (command contract)', () => {
  it('pulls a missing image, then changes nothing; latest reports a moved id; absent removes', async (t) => {
    const { dir, ctx } = setup(t);
    const d = fake(t, dir);
    d.edit((s) => (s.registry['redis:7'] = 'sha256:one'));
    const dry = await dockerImageExecutor.apply({ image: 'redis:7' }, ctx(true));
    assert.deepEqual(dry, { outcome: 'created', message: 'would pull image redis:7' });
    assert.equal((await dockerImageExecutor.apply({ image: 'redis:7' }, ctx())).outcome, 'created');
    assert.equal((await dockerImageExecutor.apply({ image: 'redis:7' }, ctx())).outcome, 'none');
    assert.equal(
      (await dockerImageExecutor.apply({ image: 'redis:7', state: 'latest' }, ctx())).outcome,
      'none',
    );
    d.edit((s) => (s.registry['redis:7'] = 'sha256:two'));
    const moved = await dockerImageExecutor.apply({ image: 'redis:7', state: 'latest' }, ctx());
    assert.equal(moved.outcome, 'updated', moved.message);
    assert.equal(
      (await dockerImageExecutor.apply({ image: 'redis:7', state: 'absent' }, ctx())).outcome,
      'deleted',
    );
    assert.deepEqual(d.state().images, {});
    const missing = await dockerImageExecutor.apply({ image: 'nope:1' }, ctx());
    assert.equal(missing.outcome, 'failed');
    assert.match(
      missing.message,
      /^image nope:1: `docker pull nope:1` failed \(exit 1\): Error response from daemon: manifest unknown/,
    );
    assert.equal((await dockerImageExecutor.apply({ image: '--privileged' }, ctx())).outcome, 'failed');
  });
});

describe('docker_container executor (command contract)', () => {
  it('runs a container with an env-file (never env on argv), then changes nothing, fixes a stopped one', async (t) => {
    const { dir, ctx } = setup(t);
    const d = fake(t, dir);
    const params = {
      container: 'web',
      image: 'nginx:1.27',
      ports: ['8080:80'],
      volumes: '/srv/www:/usr/share/nginx/html:ro',
      restart: 'unless-stopped',
      network: 'front',
      env: { API_TOKEN: 's3cr3t-value', MODE: 'prod' },
      command: "nginx -g 'daemon off;'",
    };
    const dry = await dockerContainerExecutor.apply(params, ctx(true));
    assert.deepEqual(dry, { outcome: 'created', message: 'would create docker_container web' });
    const r = await dockerContainerExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    const c = d.state().containers.web;
    assert.equal(c?.status, 'running');
    assert.equal(c?.envFile, 'API_TOKEN=s3cr3t-value\nMODE=prod\n');
    assert.equal(c?.envMode, 0o600);
    const run = d.calls().find((l) => l.startsWith('run '));
    assert.match(
      run ?? '',
      /^run --detach --name web --label vigo\.config=[0-9a-f]{32} --restart unless-stopped --publish 8080:80 --volume \/srv\/www:\/usr\/share\/nginx\/html:ro --network front --env-file \S+ -- nginx:1\.27 nginx -g daemon off;$/,
    );
    assert.ok(d.calls().every((l) => !l.includes('s3cr3t')));
    const envFile = / --env-file (\S+) /.exec(run ?? '')?.[1] ?? '';
    assert.notEqual(envFile, '');
    assert.equal(fs.existsSync(envFile), false, 'the env-file is deleted after use');
    assert.equal((await dockerContainerExecutor.apply(params, ctx())).outcome, 'none');
    d.edit((s) => (s.containers.web!.status = 'exited'));
    const started = await dockerContainerExecutor.apply(params, ctx());
    assert.deepEqual(started, { outcome: 'updated', message: 'started docker_container web' });
    const stopped = await dockerContainerExecutor.apply({ ...params, state: 'stopped' }, ctx());
    assert.deepEqual(stopped, { outcome: 'updated', message: 'stopped docker_container web' });
  });

  it('replaces a container whose configuration changed, and removes it with state: absent', async (t) => {
    const { dir, ctx } = setup(t);
    const d = fake(t, dir);
    const params = { container: 'cache', image: 'redis:7', ports: '6379:6379' };
    assert.equal((await dockerContainerExecutor.apply(params, ctx())).outcome, 'created');
    const changed = await dockerContainerExecutor.apply({ ...params, image: 'redis:7.4' }, ctx());
    assert.deepEqual(changed, {
      outcome: 'updated',
      message: 'replaced (its configuration changed) docker_container cache',
    });
    assert.equal(d.state().containers.cache?.image, 'redis:7.4');
    assert.ok(d.calls().includes('rm --force cache'));
    const gone = await dockerContainerExecutor.apply({ container: 'cache', state: 'absent' }, ctx());
    assert.equal(gone.outcome, 'deleted', gone.message);
    assert.deepEqual(d.state().containers, {});
    assert.equal(
      (await dockerContainerExecutor.apply({ container: 'cache', state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('executes the older type name container with the same fields', async (t) => {
    const { dir, ctx } = setup(t);
    const d = fake(t, dir);
    const r = await containerExecutor.apply(
      { name: 'redis', image: 'redis:7-alpine', state: 'present', restart: 'always' },
      ctx(),
    );
    assert.deepEqual(r, { outcome: 'created', message: 'created container redis' });
    assert.equal(d.state().containers.redis?.status, 'running');
    for (const bad of [
      { container: '-x', image: 'a' },
      { container: 'a', image: 'a', env: { 'A B': '1' } },
      { container: 'a', image: 'a', env: ['A=1\nB=2'] },
      { container: 'a', image: 'a', command: "sh -c 'x" },
    ]) {
      const f = await dockerContainerExecutor.apply(bad, ctx());
      assert.equal(f.outcome, 'failed', JSON.stringify(bad));
    }
  });
});

describe('docker_compose executor (command contract)', () => {
  it('brings a project up on drift only, follows config-hash changes, and takes it down', async (t) => {
    const { dir, ctx } = setup(t);
    const d = fake(t, dir);
    const file = path.join(dir, 'shop', 'compose.yaml');
    d.edit((s) => (s.services = { web: 'h1', db: 'h2' }));
    const params = { target_path: file };
    const dry = await dockerComposeExecutor.apply(params, ctx(true));
    assert.deepEqual(dry, {
      outcome: 'created',
      message: 'would bring compose project shop up: web missing, db missing',
    });
    const r = await dockerComposeExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.ok(d.calls().includes(`compose --file ${file} --project-name shop up --detach --remove-orphans`));
    assert.equal((await dockerComposeExecutor.apply(params, ctx())).outcome, 'none');
    d.edit((s) => (s.services.web = 'h3'));
    const changed = await dockerComposeExecutor.apply(params, ctx());
    assert.deepEqual(changed, {
      outcome: 'updated',
      message: 'brought compose project shop up: web changed',
    });
    d.edit((s) => (s.compose.shop![1]!.State = 'exited'));
    const restarted = await dockerComposeExecutor.apply({ ...params, pull: true }, ctx());
    assert.equal(restarted.outcome, 'updated', restarted.message);
    assert.match(restarted.message, /db not running/);
    assert.ok(
      d
        .calls()
        .includes(`compose --file ${file} --project-name shop up --detach --remove-orphans --pull always`),
    );
    const down = await dockerComposeExecutor.apply({ ...params, state: 'absent' }, ctx());
    assert.deepEqual(down, { outcome: 'deleted', message: 'took compose project shop down' });
    assert.equal((await dockerComposeExecutor.apply({ ...params, state: 'absent' }, ctx())).outcome, 'none');
    const badProject = await dockerComposeExecutor.apply({ ...params, project: 'Shop Name' }, ctx());
    assert.match(badProject.message, /project "Shop Name" must be lowercase/);
  });
});
