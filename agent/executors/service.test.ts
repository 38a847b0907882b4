import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { createServiceExecutor, type ServiceExecutorOptions } from './service.ts';
import { parseSystemgStatus } from './service-providers/index.ts';
import type { CommandOptions, CommandResult, CommandRunner, ExecutorContext } from './types.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigo-'));
  dirs.push(d);
  return d;
}

function makeCtx(run: CommandRunner = runCommand, dryRun = false): ExecutorContext {
  return {
    dryRun,
    run,
    snapshotFile: async () => {},
    customExecutorDir: '/nonexistent',
    signal: new AbortController().signal,
  };
}

/** Nothing to detect: every path points into an empty temp dir. */
function nothingThere(dir: string): ServiceExecutorOptions {
  return {
    systemdRunDir: join(dir, 'no-systemd'),
    s6ScanDirs: [join(dir, 'no-s6')],
    pebbleSocketPath: join(dir, 'no-pebble.socket'),
    vigilSocketPath: join(dir, 'no-vigil.socket'),
    pathEnv: join(dir, 'no-bin'),
  };
}

/** A directory of fake programs (stand-ins for s6 and sysg) put first on PATH for the runner. */
function withPath(binDir: string): CommandRunner {
  return (file: string, args: readonly string[], options?: CommandOptions): Promise<CommandResult> =>
    runCommand(file, args, {
      ...options,
      env: { ...process.env, ...options?.env, PATH: `${binDir}:${process.env.PATH ?? ''}` },
    });
}

function script(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}`, { mode: 0o755 });
}

describe('service executor with s6 (fake s6-svstat and s6-svc on PATH)', () => {
  const dir = tempDir();
  const bin = join(dir, 'bin');
  const scan = join(dir, 'service');
  mkdirSync(bin);
  mkdirSync(join(scan, '.s6-svscan'), { recursive: true });
  mkdirSync(join(scan, 'web'));
  writeFileSync(join(scan, 'web', 'state'), 'down\n');
  script(
    bin,
    's6-svstat',
    'if [ "$(cat "$1/state")" = up ]; then echo "up (pid 4242) 12 seconds"; else echo "down (exitcode 0) 3 seconds, normally up"; fi\n',
  );
  script(
    bin,
    's6-svc',
    'for d; do :; done\necho "$*" >> "$d/calls"\nfor a; do case "$a" in -u) echo up > "$d/state";; -d) echo down > "$d/state";; esac; done\n',
  );
  const executor = createServiceExecutor({ ...nothingThere(dir), s6ScanDirs: [join(dir, 'missing'), scan] });
  const run = withPath(bin);
  const calls = (): string => readFileSync(join(scan, 'web', 'calls'), 'utf8');

  it('detects the supervised scan dir and brings the service up, waiting for it', async () => {
    const r = await executor.apply({ service: 'web', state: 'running' }, makeCtx(run));
    assert.deepEqual(r, { outcome: 'updated', message: 'web started (s6)' });
    assert.equal(calls(), `-wu -T 10000 -u ${scan}/web\n`);
    const again = await executor.apply({ service: 'web', state: 'running' }, makeCtx(run));
    assert.deepEqual(again, { outcome: 'none', message: 'web running, enabled at boot (s6)' });
  });

  it('uses the down file as the boot switch', async () => {
    const off = await executor.apply({ service: 'web', enabled: false }, makeCtx(run));
    assert.deepEqual(off, { outcome: 'updated', message: 'web disabled at boot (s6)' });
    assert.equal(existsSync(join(scan, 'web', 'down')), true);
    const on = await executor.apply({ service: 'web', enabled: true }, makeCtx(run));
    assert.equal(on.outcome, 'updated');
    assert.equal(existsSync(join(scan, 'web', 'down')), false);
  });

  it('restarts with -r, reloads with -h, stops with -d', async () => {
    await executor.apply({ service: 'web', state: 'restarted' }, makeCtx(run));
    await executor.apply({ service: 'web', state: 'reloaded' }, makeCtx(run));
    const stop = await executor.apply({ service: 'web', state: 'stopped' }, makeCtx(run));
    assert.equal(stop.outcome, 'updated', stop.message);
    assert.match(
      calls(),
      new RegExp(`-wr -T 10000 -r ${scan}/web\n-h ${scan}/web\n-wd -T 10000 -d ${scan}/web\n$`),
    );
  });

  it('fails for a service without a service directory', async () => {
    const r = await executor.apply({ service: 'db', state: 'running' }, makeCtx(run));
    assert.deepEqual(r, { outcome: 'failed', message: 'service db is not known to s6' });
  });
});

describe('service executor with systemg (fake sysg on PATH)', () => {
  const dir = tempDir();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // Keeps one state file per service next to itself and records every call.
  script(
    bin,
    'sysg',
    [
      'here=$(dirname "$0"); cmd=$1; shift; svc=""',
      'while [ $# -gt 0 ]; do [ "$1" = --service ] && svc=$2; shift; done',
      'echo "$cmd $svc" >> "$here/calls"',
      'f="$here/state-$svc"',
      'case $cmd in',
      '  status) [ -f "$f" ] || { echo "Error: service \'$svc\' not found" >&2; exit 1; }; printf "Service: %s\\nStatus: %s\\nPID: 1\\n" "$svc" "$(cat "$f")";;',
      '  start) echo running > "$f";;',
      '  stop) echo stopped > "$f";;',
      '  restart) echo running > "$f";;',
      'esac',
      '',
    ].join('\n'),
  );
  writeFileSync(join(bin, 'state-hello'), 'stopped\n');
  const executor = createServiceExecutor({ ...nothingThere(dir), pathEnv: bin });
  const run = withPath(bin);

  it('is detected from sysg on PATH and starts the service, then finds nothing to do', async () => {
    const r = await executor.apply({ service: 'hello', state: 'running' }, makeCtx(run));
    assert.deepEqual(r, { outcome: 'updated', message: 'hello started (systemg)' });
    const again = await executor.apply({ service: 'hello', state: 'running', enabled: true }, makeCtx(run));
    assert.deepEqual(again, {
      outcome: 'none',
      message:
        'hello running (systemg) (systemg has no boot-time switch for hello, so enabled is not enforced)',
    });
    assert.match(
      readFileSync(join(bin, 'calls'), 'utf8'),
      /^status hello\nstart hello\nstatus hello\nstatus hello\n/,
    );
  });

  it('stops and restarts, refuses reload, and fails on an unknown service', async () => {
    const stop = await executor.apply({ service: 'hello', state: 'stopped' }, makeCtx(run));
    assert.equal(stop.message, 'hello stopped (systemg)');
    assert.equal(readFileSync(join(bin, 'state-hello'), 'utf8'), 'stopped\n');
    await executor.apply({ service: 'hello', state: 'running' }, makeCtx(run));
    const reload = await executor.apply({ service: 'hello', state: 'reloaded' }, makeCtx(run));
    assert.equal(reload.outcome, 'failed');
    assert.match(reload.message, /systemg cannot reload hello; use state: restarted/);
    const unknown = await executor.apply({ service: 'other', state: 'running' }, makeCtx(run));
    assert.deepEqual(unknown, { outcome: 'failed', message: 'service other is not known to systemg' });
  });

  it('reads the status wording of several sysg releases', () => {
    assert.equal(parseSystemgStatus('Service: api\nStatus: running\nPID: 14826\n', 'api'), true);
    assert.equal(parseSystemgStatus('Service: api\nStatus: stopped\n', 'api'), false);
    assert.equal(
      parseSystemgStatus('SERVICE  STATUS   PID\nhello    running  42309\nother  stopped  -\n', 'hello'),
      true,
    );
    assert.equal(
      parseSystemgStatus('● - arb-rs Running\n   Active: active (running) since Tue\n', 'arb-rs'),
      true,
    );
    assert.equal(parseSystemgStatus('● - arb-rs Not running\n', 'arb-rs'), false);
    assert.equal(parseSystemgStatus('nothing useful\n', 'x'), undefined);
  });
});

/** Stands in for systemctl: units with their state, recording argv. */
function fakeSystemctl(
  units: Record<string, { active: string; file: string }>,
  calls: string[],
): CommandRunner {
  return async (file, args) => {
    calls.push([file, ...args].join(' '));
    const name = args[args.length - 1] ?? '';
    const unit = units[name];
    const done = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
    if (args[0] === 'show') {
      if (!unit) return done('LoadState=not-found\nActiveState=inactive\nUnitFileState=\n');
      const load = unit.file === 'masked' ? 'masked' : 'loaded';
      return done(`LoadState=${load}\nActiveState=${unit.active}\nUnitFileState=${unit.file}\n`);
    }
    if (!unit)
      return {
        exitCode: 5,
        stdout: '',
        stderr: `Failed to ${args[0]} ${name}: Unit not found.`,
        timedOut: false,
      };
    if (args[0] === 'start' || args[0] === 'restart') unit.active = 'active';
    if (args[0] === 'stop') unit.active = 'inactive';
    if (args[0] === 'enable') unit.file = 'enabled';
    if (args[0] === 'disable') unit.file = 'disabled';
    return done();
  };
}

describe('service executor with systemd (a recording runner stands in for systemctl)', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'systemd'));
  const executor = createServiceExecutor({ ...nothingThere(dir), systemdRunDir: join(dir, 'systemd') });

  it('is detected from /run/systemd/system and runs enable then start', async () => {
    const calls: string[] = [];
    const run = fakeSystemctl({ nginx: { active: 'inactive', file: 'disabled' } }, calls);
    const r = await executor.apply({ service: 'nginx', state: 'running', enabled: true }, makeCtx(run));
    assert.deepEqual(r, { outcome: 'updated', message: 'nginx enabled at boot, started (systemd)' });
    assert.deepEqual(calls, [
      'systemctl show --property=LoadState,ActiveState,UnitFileState nginx',
      'systemctl enable nginx',
      'systemctl start nginx',
      'systemctl show --property=LoadState,ActiveState,UnitFileState nginx',
    ]);
    const again = await executor.apply({ service: 'nginx', state: 'running', enabled: true }, makeCtx(run));
    assert.equal(again.outcome, 'none');
  });

  it('maps stopped, restarted, reloaded and disable to systemctl verbs', async () => {
    const calls: string[] = [];
    const run = fakeSystemctl({ cron: { active: 'active', file: 'enabled' } }, calls);
    await executor.apply({ service: 'cron', state: 'reloaded' }, makeCtx(run));
    await executor.apply({ service: 'cron', state: 'restarted' }, makeCtx(run));
    await executor.apply({ service: 'cron', state: 'stopped', enabled: false }, makeCtx(run));
    const verbs = calls.filter((c) => !c.includes(' show ')).map((c) => c.split(' ')[1]);
    assert.deepEqual(verbs, ['reload', 'restart', 'disable', 'stop']);
  });

  it('fails on unknown and masked units, ignores enabled for static units', async () => {
    const calls: string[] = [];
    const run = fakeSystemctl(
      { masked: { active: 'inactive', file: 'masked' }, helper: { active: 'active', file: 'static' } },
      calls,
    );
    const unknown = await executor.apply({ service: 'ghost', state: 'running' }, makeCtx(run));
    assert.deepEqual(unknown, { outcome: 'failed', message: 'service ghost is not known to systemd' });
    const masked = await executor.apply({ service: 'masked', state: 'running' }, makeCtx(run));
    assert.equal(masked.outcome, 'failed');
    assert.match(masked.message, /unit masked is masked; unmask it/);
    const st = await executor.apply({ service: 'helper', state: 'running', enabled: true }, makeCtx(run));
    assert.equal(st.outcome, 'none');
    assert.match(st.message, /no boot-time switch for helper/);
  });

  it('fails with systemctl output when an action fails, and when the service does not come up', async () => {
    const calls: string[] = [];
    const base = fakeSystemctl({ app: { active: 'inactive', file: 'enabled' } }, calls);
    const failing: CommandRunner = async (file, args, o) =>
      args[0] === 'start'
        ? {
            exitCode: 1,
            stdout: '',
            stderr: 'Job for app.service failed.\nSee journalctl -xeu app',
            timedOut: false,
          }
        : base(file, args, o);
    const r = await executor.apply({ service: 'app', state: 'running' }, makeCtx(failing));
    assert.equal(r.outcome, 'failed');
    assert.match(
      r.message,
      /systemctl start app failed \(exit 1\): Job for app.service failed\. \| See journalctl -xeu app/,
    );
    const quick = createServiceExecutor({
      ...nothingThere(dir),
      systemdRunDir: join(dir, 'systemd'),
      settleTimeoutMs: 0,
    });
    const noop: CommandRunner = async (file, args, o) =>
      args[0] === 'start' ? { exitCode: 0, stdout: '', stderr: '', timedOut: false } : base(file, args, o);
    const stuck = await quick.apply({ service: 'app', state: 'running' }, makeCtx(noop));
    assert.deepEqual(stuck, { outcome: 'failed', message: 'app started (systemd), but it is not running' });
  });

  it('drives the real systemd when this node runs it', async (t) => {
    const r = await runCommand('systemctl', ['is-system-running']);
    if (r.exitCode === 127 || !existsSync('/run/systemd/system') || /offline|unknown/.test(r.stdout)) {
      t.skip('systemd is not running in this container (systemctl is-system-running fails)');
      return;
    }
    const real = createServiceExecutor();
    const status = await real.apply(
      { service: 'systemd-journald', state: 'running', provider: 'systemd' },
      makeCtx(),
    );
    assert.equal(status.outcome, 'none', status.message);
  });
});

describe('service executor params and detection', () => {
  const dir = tempDir();
  const executor = createServiceExecutor(nothingThere(dir));

  it('rejects params that cannot work and says where it looked when nothing is detected', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ service: 'web' }, /set state .* and\/or enabled; nothing to enforce/],
      [{ service: '../etc', state: 'running' }, /service name "..\/etc" is invalid/],
      [{ service: 'a/b', state: 'running' }, /is invalid/],
      [{ service: '-x', state: 'running' }, /is invalid/],
      [{ service: 'web', state: 'started' }, /state must be running, stopped, restarted or reloaded/],
      [{ service: 'web', enabled: 'yes' }, /enabled must be true or false/],
      [
        { service: 'web', state: 'running', provider: 'upstart' },
        /provider must be one of systemd, s6, pebble, vigil, systemg/,
      ],
      [
        { service: 'web', state: 'running' },
        /no service manager found \(looked for .*no-systemd, s6 scan dir .*no-s6, pebble socket .*, vigil socket .*, sysg on PATH\); set provider:/,
      ],
      [{ service: 'web', state: 'running', provider: 's6' }, /no supervised s6 scan directory found/],
    ];
    for (const [params, pattern] of cases) {
      const r = await executor.apply(params, makeCtx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, pattern);
    }
  });
});
