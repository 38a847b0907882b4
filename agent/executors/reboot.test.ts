import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createRebootExecutor } from './reboot.ts';
import { setup } from './test-context.ts';

/** A reboot whose command only records its argv: the machine running the tests is never rebooted. */
function rig(t: TestContext, exitCode = 0) {
  const { dir, ctx } = setup(t);
  const log = path.join(dir, 'reboots.log');
  const fake = path.join(dir, 'fake-shutdown');
  fs.writeFileSync(fake, `#!/bin/sh\necho "$*" >> '${log}'\nexit ${exitCode}\n`, { mode: 0o755 });
  const bootIdFile = path.join(dir, 'boot_id');
  fs.writeFileSync(bootIdFile, 'boot-1\n');
  const ex = createRebootExecutor({
    stateDir: path.join(dir, 'state'),
    bootIdFile,
    command: (delay, reason) => [fake, '-r', `+${delay}`, reason],
  });
  const flag = path.join(dir, 'reboot-required');
  const calls = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
  return { dir, ctx, ex, flag, bootIdFile, calls };
}

describe('reboot executor', () => {
  it('reboots once when the guard asks, waits while it is pending, and refuses to loop after the reboot', async (t) => {
    const { ctx, ex, flag, bootIdFile, calls } = rig(t);
    const params = { reason: 'kernel update', onlyif: `test -f '${flag}'` };
    assert.deepEqual(await ex.apply(params, ctx()), {
      outcome: 'none',
      message: 'no reboot needed (kernel update)',
    });
    fs.writeFileSync(flag, '');
    const dry = await ex.apply(params, ctx(true));
    assert.deepEqual(dry, { outcome: 'updated', message: 'would reboot in 1 min: kernel update' });
    assert.deepEqual(calls(), []);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.deepEqual(calls(), ['-r +1 kernel update']);
    const pending = await ex.apply(params, ctx());
    assert.equal(pending.outcome, 'none');
    assert.match(pending.message, /reboot already requested at .*; waiting for it/);
    // The host comes back with a new boot id and the guard still says "reboot": that is a loop.
    fs.writeFileSync(bootIdFile, 'boot-2\n');
    for (let i = 0; i < 2; i++) {
      const loop = await ex.apply({ ...params, reason: `kernel update #${i}` }, ctx());
      assert.equal(loop.outcome, 'failed');
      assert.match(loop.message, /^loop guard: the host was rebooted for "kernel update"/);
    }
    assert.deepEqual(calls(), ['-r +1 kernel update']);
    // Once the guard has said "not needed", a later need reboots again.
    fs.rmSync(flag);
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    fs.writeFileSync(flag, '');
    assert.equal((await ex.apply({ ...params, delay: 5 }, ctx())).outcome, 'updated');
    assert.deepEqual(calls(), ['-r +1 kernel update', '-r +5 kernel update']);
  });

  it('honours unless, needs a guard, and forgets a reboot whose command failed', async (t) => {
    const { ctx, ex, flag, calls } = rig(t, 1);
    fs.writeFileSync(flag, '');
    const skipped = await ex.apply({ reason: 'r', onlyif: 'true', unless: `test -f '${flag}'` }, ctx());
    assert.equal(skipped.outcome, 'none');
    const unguarded = await ex.apply({ reason: 'r' }, ctx());
    assert.equal(unguarded.outcome, 'failed');
    assert.match(unguarded.message, /needs a guard/);
    const broken = await ex.apply({ reason: 'r', onlyif: 'true' }, ctx());
    assert.equal(broken.outcome, 'failed');
    assert.match(broken.message, /^reboot: `.*fake-shutdown -r \+1 r` failed \(exit 1\)/);
    const retried = await ex.apply({ reason: 'r', onlyif: 'true' }, ctx());
    assert.match(retried.message, /failed \(exit 1\)/);
    assert.equal(calls().length, 2);
    const multi = await ex.apply({ reason: 'a\nb', onlyif: 'true' }, ctx());
    assert.match(multi.message, /reason must be one line/);
  });
});
