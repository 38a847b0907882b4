import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxOutputBytes, runCommand } from './run-command.ts';

describe('runCommand', () => {
  it('returns exit code and output without a shell', async () => {
    const r = await runCommand('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.timedOut, false);
  });

  it('passes input on stdin and a replaced environment with a PATH', async () => {
    const r = await runCommand('/bin/sh', ['-c', 'read x; echo "$x $FOO"; command -v sh >/dev/null'], {
      input: 'hello\n',
      env: { FOO: 'bar' },
    });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'hello bar\n');
  });

  it('kills the process group on timeout', async () => {
    const r = await runCommand('/bin/sh', ['-c', 'sleep 30 & sleep 30'], { timeoutMs: 100 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
  });

  it('reports a missing program as exit 127', async () => {
    const r = await runCommand('/nonexistent/program', []);
    assert.equal(r.exitCode, 127);
    assert.match(r.stderr, /cannot start/);
  });

  it('bounds captured output', async () => {
    const r = await runCommand('/bin/sh', ['-c', `head -c ${maxOutputBytes * 2} /dev/zero`]);
    assert.equal(r.exitCode, 0);
    assert.ok(r.stdout.length <= maxOutputBytes + 100);
    assert.match(r.stdout, /\[output truncated\]$/);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const pending = runCommand('/bin/sh', ['-c', 'sleep 30'], { signal: controller.signal });
    controller.abort();
    const r = await pending;
    assert.notEqual(r.exitCode, 0);
  });
});
