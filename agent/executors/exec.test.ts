import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { execExecutor, findExecutable, lookupGroup, lookupUser, tailLines } from './exec.ts';
import type { ExecutorContext } from './types.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigo-'));
  dirs.push(d);
  return d;
}

function makeCtx(dryRun = false): ExecutorContext {
  return {
    dryRun,
    run: runCommand,
    snapshotFile: async () => {},
    customExecutorDir: '/nonexistent',
    signal: new AbortController().signal,
  };
}

describe('exec executor', () => {
  it('runs the command with /bin/sh and reports updated', async () => {
    const d = tempDir();
    const r = await execExecutor.apply(
      { command: `echo hi > ${d}/out && echo there >> ${d}/out` },
      makeCtx(),
    );
    assert.deepEqual(r, { outcome: 'updated', message: `ran: echo hi > ${d}/out && echo there >> ${d}/out` });
    assert.equal(readFileSync(join(d, 'out'), 'utf8'), 'hi\nthere\n');
  });

  it('is idempotent through creates: the second apply skips and names the guard', async () => {
    const d = tempDir();
    const params = { command: `echo x >> ${d}/log; touch ${d}/done`, creates: `${d}/done` };
    assert.equal((await execExecutor.apply(params, makeCtx())).outcome, 'updated');
    const second = await execExecutor.apply(params, makeCtx());
    assert.equal(second.outcome, 'none');
    assert.match(second.message, /creates .*done exists/);
    assert.equal(readFileSync(join(d, 'log'), 'utf8'), 'x\n');
  });

  it('onlyif runs the command only when the guard exits 0', async () => {
    const d = tempDir();
    const skipped = await execExecutor.apply({ command: `touch ${d}/a`, onlyif: 'exit 3' }, makeCtx());
    assert.equal(skipped.outcome, 'none');
    assert.match(skipped.message, /onlyif `exit 3` exited 3/);
    assert.equal(existsSync(join(d, 'a')), false);
    const ran = await execExecutor.apply({ command: `touch ${d}/a`, onlyif: 'true' }, makeCtx());
    assert.equal(ran.outcome, 'updated');
    assert.equal(existsSync(join(d, 'a')), true);
  });

  it('unless skips when its guard succeeds, so a converging command stops running', async () => {
    const d = tempDir();
    const params = { command: `echo line >> ${d}/f`, unless: `grep -q line ${d}/f` };
    assert.equal((await execExecutor.apply(params, makeCtx())).outcome, 'updated');
    const second = await execExecutor.apply(params, makeCtx());
    assert.equal(second.outcome, 'none');
    assert.match(second.message, /unless `grep -q line .*` succeeded/);
    assert.equal(readFileSync(join(d, 'f'), 'utf8'), 'line\n');
  });

  it('dry run evaluates guards but never runs the command', async () => {
    const d = tempDir();
    const would = await execExecutor.apply({ command: `touch ${d}/x`, unless: 'false' }, makeCtx(true));
    assert.deepEqual(would, { outcome: 'updated', message: `would run: touch ${d}/x` });
    assert.equal(existsSync(join(d, 'x')), false);
    const guarded = await execExecutor.apply({ command: `touch ${d}/x`, unless: 'true' }, makeCtx(true));
    assert.equal(guarded.outcome, 'none');
  });

  it('a non-zero exit fails with the exit code and the last lines of stderr', async () => {
    const r = await execExecutor.apply(
      { command: 'echo one >&2; echo two >&2; echo three >&2; exit 7', unless: 'false' },
      makeCtx(),
    );
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /exited with 7: one \| two \| three$/);
  });

  it('a command over its timeout is killed and fails', async () => {
    const started = Date.now();
    const r = await execExecutor.apply({ command: 'sleep 30', timeout: 1 }, makeCtx());
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /timed out after 1s/);
    assert.ok(Date.now() - started < 10_000);
  });

  it('runs in cwd with env added to the agent environment', async () => {
    const d = tempDir();
    const r = await execExecutor.apply(
      {
        command: 'pwd > out; echo "$GREETING $N $FLAG" >> out; test -n "$PATH"',
        cwd: d,
        env: { GREETING: 'hello', N: 3, FLAG: true },
      },
      makeCtx(),
    );
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(readFileSync(join(d, 'out'), 'utf8'), `${d}\nhello 3 true\n`);
  });

  it('runs command and guards as the given user and group, with that user home', async (t) => {
    const nobody = await lookupUser(runCommand, 'nobody');
    const nogroup = (await lookupGroup(runCommand, 'nogroup')) ?? (await lookupGroup(runCommand, 'nobody'));
    if (!nobody || !nogroup || process.getuid?.() !== 0) {
      t.skip('needs root and the nobody user and nogroup group');
      return;
    }
    const d = tempDir();
    chmodSync(d, 0o777);
    const r = await execExecutor.apply(
      {
        command: `id -u > ${d}/ids; id -g >> ${d}/ids; echo "$HOME" >> ${d}/ids`,
        user: 'nobody',
        group: nogroup.name,
        onlyif: 'test "$(id -u)" != 0',
      },
      makeCtx(),
    );
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(readFileSync(join(d, 'ids'), 'utf8'), `${nobody.uid}\n${nogroup.gid}\n${nobody.home}\n`);
  });

  it('fails clearly on an unknown user, a missing cwd and params the schema would reject', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ command: 'true', user: 'no-such-user-vigo' }, /user "no-such-user-vigo" does not exist/],
      [{ command: 'true', group: 'no-such-group-vigo' }, /group "no-such-group-vigo" does not exist/],
      [{ command: 'true', user: '48213' }, /user 48213 has no passwd entry, so set group as well/],
      [{ command: 'true', cwd: '/nonexistent/vigo' }, /cwd \/nonexistent\/vigo is not an existing directory/],
      [{ command: 'true', cwd: 'relative' }, /cwd must be an absolute path/],
      [{ command: 'true', creates: 'relative' }, /creates must be an absolute path/],
      [{ command: 'true', timeout: 0 }, /timeout must be a whole number/],
      [{ command: 'true', env: { 'BAD-NAME': 'x' } }, /env name "BAD-NAME"/],
      [{ command: '' }, /non-empty command/],
      [{}, /non-empty command/],
    ];
    for (const [params, pattern] of cases) {
      const r = await execExecutor.apply(params, makeCtx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, pattern);
    }
  });

  it('fails when the command succeeds without creating its creates path', async () => {
    const d = tempDir();
    const r = await execExecutor.apply({ command: 'true', creates: `${d}/never` }, makeCtx());
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /still does not exist/);
  });

  it('a guard that hangs past the timeout fails instead of stalling', async () => {
    const r = await execExecutor.apply({ command: 'true', onlyif: 'sleep 30', timeout: 1 }, makeCtx());
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /onlyif guard timed out after 1s/);
  });
});

describe('exec helpers', () => {
  it('tailLines keeps the last non-empty lines', () => {
    assert.equal(tailLines('a\n\nb\nc\n', 2), 'b | c');
    assert.equal(tailLines('', 3), '');
  });

  it('findExecutable finds programs on PATH and nothing else', () => {
    const d = tempDir();
    writeFileSync(join(d, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(d, 'plain'), 'x', { mode: 0o644 });
    assert.equal(findExecutable('tool', d), join(d, 'tool'));
    assert.equal(findExecutable('plain', d), undefined);
    // Root's usual directories are searched even when PATH lacks them.
    assert.match(findExecutable('sh', '') ?? '', /^\/(usr\/)?bin\/sh$/);
  });

  it('lookupUser and lookupGroup read NSS and return undefined for unknown names', async () => {
    const root = await lookupUser(runCommand, 'root');
    assert.equal(root?.uid, 0);
    assert.equal(root?.home, '/root');
    assert.equal((await lookupUser(runCommand, '0'))?.name, 'root');
    assert.equal(await lookupUser(runCommand, 'no-such-user-vigo'), undefined);
    assert.equal(await lookupUser(runCommand, '-s'), undefined);
    assert.equal((await lookupGroup(runCommand, 'root'))?.gid, 0);
    assert.equal(await lookupGroup(runCommand, 'no-such-group-vigo'), undefined);
  });
});
