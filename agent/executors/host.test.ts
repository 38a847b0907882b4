import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { createHostExecutor } from './host.ts';
import type { Executor, ExecutorContext } from './types.ts';

interface Setup {
  hostsFile: string;
  snapshots: string[];
  executor: Executor;
  ctx: (dryRun?: boolean) => ExecutorContext;
}

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
  const hostsFile = path.join(dir, 'hosts');
  return { hostsFile, snapshots, executor: createHostExecutor({ hostsFile }), ctx };
}

const hosts = '127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n10.0.0.9 db.internal db # primary\n';

describe('host executor', () => {
  it('creates a missing hosts file with the entry, then changes nothing', async (t) => {
    const { hostsFile, executor, ctx } = setup(t);
    const params = { ip: '10.0.0.5', hostname: 'web.internal', aliases: ['web'] };
    const r = await executor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readFileSync(hostsFile, 'utf8'), '10.0.0.5\tweb.internal web\n');
    assert.equal(fs.statSync(hostsFile).mode & 0o777, 0o644);
    assert.equal((await executor.apply(params, ctx())).outcome, 'none');
  });

  it('adds an entry to an existing file and leaves the other lines as written', async (t) => {
    const { hostsFile, executor, ctx } = setup(t);
    fs.writeFileSync(hostsFile, hosts);
    const r = await executor.apply({ ip: '10.0.0.5', hostname: 'web.internal' }, ctx());
    assert.equal(r.outcome, 'updated');
    assert.equal(fs.readFileSync(hostsFile, 'utf8'), `${hosts}10.0.0.5\tweb.internal\n`);
    const same = await executor.apply({ ip: '10.0.0.9', hostname: 'db.internal', aliases: ['db'] }, ctx());
    assert.equal(same.outcome, 'none', 'an identical entry with other spacing and a comment is left alone');
  });

  it('corrects a drifted ip or alias list, keeping the comment and dropping duplicates', async (t) => {
    const { hostsFile, snapshots, executor, ctx } = setup(t);
    fs.writeFileSync(hostsFile, `${hosts}10.9.9.9 db.internal\n`);
    const r = await executor.apply(
      { ip: '10.0.0.10', hostname: 'db.internal', aliases: ['db', 'pg'] },
      ctx(),
    );
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /"10\.0\.0\.9 db\.internal db" to "10\.0\.0\.10 db\.internal db pg"/);
    assert.equal(
      fs.readFileSync(hostsFile, 'utf8'),
      '127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n10.0.0.10\tdb.internal db pg # primary\n',
    );
    assert.deepEqual(snapshots, [hostsFile]);
  });

  it('state absent removes the entry as deleted, leaving lines that only alias the name', async (t) => {
    const { hostsFile, executor, ctx } = setup(t);
    fs.writeFileSync(hostsFile, `${hosts}10.1.1.1 other db.internal\n`);
    const r = await executor.apply({ ip: '10.0.0.9', hostname: 'db.internal', state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.equal(
      fs.readFileSync(hostsFile, 'utf8'),
      '127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n10.1.1.1 other db.internal\n',
    );
    assert.equal(
      (await executor.apply({ ip: '10.0.0.9', hostname: 'db.internal', state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { hostsFile, snapshots, executor, ctx } = setup(t);
    const missing = await executor.apply({ ip: '10.0.0.1', hostname: 'a' }, ctx(true));
    assert.equal(missing.outcome, 'created');
    assert.equal(fs.existsSync(hostsFile), false);
    fs.writeFileSync(hostsFile, hosts);
    const runs: Array<[Record<string, unknown>, string]> = [
      [{ ip: '10.0.0.1', hostname: 'a' }, 'updated'],
      [{ ip: '10.0.0.2', hostname: 'db.internal' }, 'updated'],
      [{ ip: '10.0.0.9', hostname: 'db.internal', state: 'absent' }, 'deleted'],
    ];
    for (const [params, outcome] of runs) {
      const r = await executor.apply(params, ctx(true));
      assert.equal(r.outcome, outcome, r.message);
      assert.match(r.message, /^would /);
    }
    assert.equal(fs.readFileSync(hostsFile, 'utf8'), hosts);
    assert.deepEqual(snapshots, []);
  });

  it('fails on parameters that cannot work, leaving the file alone', async (t) => {
    const { hostsFile, executor, ctx } = setup(t);
    fs.writeFileSync(hostsFile, hosts);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ip: '10.0.0.256', hostname: 'a' }, /not an IPv4 or IPv6 address/],
      [{ ip: 'db', hostname: 'a' }, /not an IPv4 or IPv6 address/],
      [{ ip: '10.0.0.1', hostname: 'a b' }, /not a valid host name/],
      [{ ip: '10.0.0.1', hostname: 'a', aliases: ['ok', '#x'] }, /"#x" is not a valid host name/],
      [{ ip: '10.0.0.1', hostname: 'a', aliases: 'b' }, /aliases must be a list/],
      [{ ip: '10.0.0.1' }, /hostname is required/],
    ];
    for (const [params, message] of cases) {
      const r = await executor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(fs.readFileSync(hostsFile, 'utf8'), hosts);
  });
});
