import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { createSysctlExecutor } from './sysctl.ts';
import type { Executor, ExecutorContext } from './types.ts';

interface Setup {
  proc: string;
  confFile: string;
  snapshots: string[];
  executor: Executor;
  ctx: (dryRun?: boolean) => ExecutorContext;
}

/** A stand-in /proc/sys in a temp dir; the real one is never written by these tests. */
function setup(t: TestContext): Setup {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const snapshots: string[] = [];
  const ctx = (dryRun = false): ExecutorContext => ({
    dryRun,
    run: runCommand,
    snapshotFile: async (p) => {
      snapshots.push(p);
    },
    customExecutorDir: dir,
    signal: new AbortController().signal,
  });
  const proc = path.join(dir, 'proc-sys');
  fs.mkdirSync(path.join(proc, 'vm'), { recursive: true });
  fs.mkdirSync(path.join(proc, 'net', 'ipv4', 'conf', 'eth0.1'), { recursive: true });
  fs.writeFileSync(path.join(proc, 'vm', 'swappiness'), '60\n');
  fs.writeFileSync(path.join(proc, 'net', 'ipv4', 'tcp_rmem'), '4096\t131072\t6291456\n');
  fs.writeFileSync(path.join(proc, 'net', 'ipv4', 'conf', 'eth0.1', 'forwarding'), '0\n');
  const confFile = path.join(dir, 'sysctl.d', '99-vigo.conf');
  return { proc, confFile, snapshots, executor: createSysctlExecutor({ procRoot: proc, confFile }), ctx };
}

function read(p: string): string {
  return fs.readFileSync(p, 'utf8');
}

describe('sysctl executor', () => {
  it('sets the running value and persists it (creating the conf dir), then changes nothing', async (t) => {
    const { proc, confFile, executor, ctx } = setup(t);
    const params = { key: 'vm.swappiness', value: 10 };
    const r = await executor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.match(r.message, /set vm\.swappiness 60 -> 10/);
    assert.equal(read(path.join(proc, 'vm', 'swappiness')), '10');
    assert.equal(read(confFile), 'vm.swappiness = 10\n');
    assert.equal((await executor.apply(params, ctx())).outcome, 'none');
  });

  it('corrects a drifted running value and a drifted persisted line', async (t) => {
    const { proc, confFile, snapshots, executor, ctx } = setup(t);
    fs.mkdirSync(path.dirname(confFile));
    fs.writeFileSync(confFile, '# tuning\nvm.swappiness = 30\nkernel.x = 1\n');
    fs.writeFileSync(path.join(proc, 'vm', 'swappiness'), '10\n');
    const persisted = await executor.apply({ key: 'vm.swappiness', value: '10' }, ctx());
    assert.equal(persisted.outcome, 'updated', persisted.message);
    assert.equal(read(confFile), '# tuning\nvm.swappiness = 10\nkernel.x = 1\n');
    assert.deepEqual(snapshots, [confFile]);
    fs.writeFileSync(path.join(proc, 'vm', 'swappiness'), '60\n');
    const runtime = await executor.apply({ key: 'vm.swappiness', value: '10' }, ctx());
    assert.equal(runtime.outcome, 'updated');
    assert.equal(read(path.join(proc, 'vm', 'swappiness')), '10');
  });

  it('compares values with whitespace collapsed and takes slash keys as paths', async (t) => {
    const { proc, executor, ctx } = setup(t);
    const rmem = await executor.apply(
      { key: 'net.ipv4.tcp_rmem', value: '4096 131072  6291456', persist: false },
      ctx(),
    );
    assert.equal(rmem.outcome, 'none', rmem.message);
    const vlan = await executor.apply(
      { key: 'net/ipv4/conf/eth0.1/forwarding', value: 1, persist: false },
      ctx(),
    );
    assert.equal(vlan.outcome, 'updated', vlan.message);
    assert.equal(read(path.join(proc, 'net', 'ipv4', 'conf', 'eth0.1', 'forwarding')), '1');
  });

  it('persist: false changes only the running value and leaves the conf file alone', async (t) => {
    const { confFile, executor, ctx } = setup(t);
    const r = await executor.apply({ key: 'vm.swappiness', value: 5, persist: false }, ctx());
    assert.equal(r.outcome, 'updated');
    assert.equal(fs.existsSync(confFile), false);
  });

  it('state absent removes the persisted line as deleted and leaves the running value', async (t) => {
    const { proc, confFile, executor, ctx } = setup(t);
    await executor.apply({ key: 'vm.swappiness', value: 10 }, ctx());
    const r = await executor.apply({ key: 'vm.swappiness', state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.equal(read(confFile), '');
    assert.equal(read(path.join(proc, 'vm', 'swappiness')), '10');
    assert.equal((await executor.apply({ key: 'vm.swappiness', state: 'absent' }, ctx())).outcome, 'none');
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { proc, confFile, snapshots, executor, ctx } = setup(t);
    const r = await executor.apply({ key: 'vm.swappiness', value: 10 }, ctx(true));
    assert.equal(r.outcome, 'created', r.message);
    assert.match(r.message, /^would set vm\.swappiness 60 -> 10; would create/);
    assert.equal(read(path.join(proc, 'vm', 'swappiness')), '60\n');
    assert.equal(fs.existsSync(path.dirname(confFile)), false);
    fs.mkdirSync(path.dirname(confFile));
    fs.writeFileSync(confFile, 'vm.swappiness = 60\n');
    const absent = await executor.apply({ key: 'vm.swappiness', state: 'absent' }, ctx(true));
    assert.equal(absent.outcome, 'deleted');
    assert.match(absent.message, /^would /);
    assert.equal(read(confFile), 'vm.swappiness = 60\n');
    assert.deepEqual(snapshots, []);
  });

  it('fails on keys and values that cannot work', async (t) => {
    const { proc, confFile, executor, ctx } = setup(t);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ key: 'vm.no_such_key', value: 1 }, /unknown sysctl key vm\.no_such_key/],
      [{ key: 'vm/../../etc/passwd', value: 1 }, /not a valid sysctl key/],
      [{ key: '-w vm.x', value: 1 }, /not a sysctl key/],
      [{ key: 'vm.swappiness' }, /value is required/],
      [{ key: 'vm.swappiness', value: 10, persist: 'yes' }, /persist must be true or false/],
    ];
    for (const [params, message] of cases) {
      const r = await executor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(read(path.join(proc, 'vm', 'swappiness')), '60\n');
    assert.equal(fs.existsSync(confFile), false);
  });
});
