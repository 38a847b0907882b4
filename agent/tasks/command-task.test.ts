/**
 * Command tasks on this machine's /bin/sh: exit codes, the environment and stdin a task sees, niceness,
 * the output tail, and that a timeout kills the task's whole process group, grandchildren included.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '../../test/helpers/deadline.ts';
import { runCommandTask, taskEnvironment } from './command-task.ts';
import type { CommandTaskInput } from './command-task.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-command-task-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(command: string, overrides: Partial<CommandTaskInput> = {}) {
  return runCommandTask({
    command,
    timeoutMs: 60_000,
    nice: 0,
    taskId: '0b6e1c4e-3a52-4f7e-9a43-1f0c7a1d2e33',
    signal: new AbortController().signal,
    outputMaxBytes: 64 * 1024,
    killGraceMs: 1_000,
    ...overrides,
  });
}

/** Whether `pid` is gone (or a zombie nobody has reaped yet: it runs nothing). */
function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe('runCommandTask', () => {
  it('reports exit 0 as succeeded with its output, and a non-zero exit as failed with its code', async () => {
    const ok = await run('echo out; echo err >&2');
    assert.equal(ok.status, 'succeeded');
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.stdout.toString(), 'out\n');
    assert.equal(ok.stderr.toString(), 'err\n');
    assert.equal(ok.truncated, false);
    assert.equal(ok.message, '');
    const failed = await run('exit 3');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.exitCode, 3);
    assert.match(failed.message, /exited with 3/);
  });

  it('gives the task no variable of the agent but a sane PATH, and stdin at end of file', async () => {
    const env = taskEnvironment(
      { VIGO_TOKEN: 'secret-token', AWS_SECRET_ACCESS_KEY: 'k', HOME: '/root', LC_ALL: 'C.UTF-8' },
      'id',
    );
    assert.deepEqual(Object.keys(env).sort(), ['HOME', 'LC_ALL', 'PATH', 'SHELL', 'VIGO_TASK_ID']);
    process.env['VIGO_TEST_AGENT_SECRET'] = 'do-not-leak';
    try {
      const ran = await run('env; echo "stdin:$(cat)"');
      const out = ran.stdout.toString();
      assert.doesNotMatch(out, /do-not-leak/);
      assert.match(out, /^PATH=\/usr\/local\/sbin:/m);
      assert.match(out, /^VIGO_TASK_ID=0b6e1c4e-3a52-4f7e-9a43-1f0c7a1d2e33$/m);
      assert.match(out, /^stdin:$/m);
    } finally {
      delete process.env['VIGO_TEST_AGENT_SECRET'];
    }
  });

  it('runs the command and its children at the niceness asked for', async () => {
    const ran = await run('sh -c \'cut -d" " -f19 /proc/$$/stat\'', { nice: 15 });
    assert.equal(ran.status, 'succeeded', ran.stderr.toString());
    // 15 is above any niceness the test runs at, so no privilege is needed to set it.
    assert.equal(ran.stdout.toString().trim(), '15');
  });

  it('on timeout kills the whole process group, the grandchild too, and reports timed_out', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    const ran = await run(`sleep 1000 & echo $! > ${pidFile}; wait`, { timeoutMs: 1_000 });
    assert.equal(ran.status, 'timed_out');
    assert.equal(ran.exitCode, -1);
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    assert.ok(pid > 0);
    await waitFor('the grandchild to be gone', () => (gone(pid) ? true : undefined));
  });

  it('kills what a finished task left running in its group', async () => {
    const pidFile = path.join(dir, 'left.pid');
    const ran = await run(`sleep 1000 >/dev/null 2>&1 & echo $! > ${pidFile}`);
    assert.equal(ran.status, 'succeeded');
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    await waitFor('the left-over process to be gone', () => (gone(pid) ? true : undefined));
  });

  it('keeps only the last 64 KiB of a flood of output, in bounded memory, and says it cut', async () => {
    // 12 MiB of stdout and 11 MiB of stderr, each ending in a marker.
    const ran = await run(
      "head -c 12582912 /dev/zero | tr '\\0' 'a'; printf END-OUT; head -c 11534336 /dev/zero >&2; printf END-ERR >&2",
    );
    assert.equal(ran.status, 'succeeded', ran.message);
    assert.equal(ran.truncated, true);
    assert.equal(ran.stdout.length, 64 * 1024);
    assert.equal(ran.stderr.length, 64 * 1024);
    assert.ok(ran.stdout.toString().endsWith('aaaEND-OUT'));
    assert.ok(ran.stderr.toString('latin1').endsWith('\0\0END-ERR'));
  });

  it('kills the task when the agent stops and says so', async () => {
    const controller = new AbortController();
    const marker = path.join(dir, 'started');
    const pending = run(`touch ${marker}; sleep 1000`, { signal: controller.signal });
    await waitFor('the task to start', () => (fs.existsSync(marker) ? true : undefined));
    controller.abort();
    const ran = await pending;
    assert.equal(ran.status, 'failed');
    assert.equal(ran.exitCode, -1);
    assert.match(ran.message, /agent stopped/);
  });
});
