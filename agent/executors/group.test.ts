import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { lookupGroup } from './exec.ts';
import { groupExecutor } from './group.ts';
import type { ExecutorContext } from './types.ts';

const isRoot = process.getuid?.() === 0;
const suffix = randomBytes(3).toString('hex');
const groupName = `vigotestg${suffix}`;
const userA = `vigotesta${suffix}`;
const userB = `vigotestb${suffix}`;

function makeCtx(dryRun = false): ExecutorContext {
  return {
    dryRun,
    run: runCommand,
    snapshotFile: async () => {},
    customExecutorDir: '/nonexistent',
    signal: new AbortController().signal,
  };
}

async function freeGid(): Promise<number> {
  for (;;) {
    const gid = 42000 + Math.floor(Math.random() * 8000);
    if (!(await lookupGroup(runCommand, String(gid)))) return gid;
  }
}

describe('group executor', { skip: isRoot ? false : 'needs root to create groups' }, () => {
  before(async () => {
    for (const u of [userA, userB]) {
      const r = await runCommand('useradd', ['-M', '-s', '/usr/sbin/nologin', u]);
      assert.equal(r.exitCode, 0, r.stderr);
    }
  });
  after(async () => {
    await runCommand('groupdel', [groupName]);
    for (const u of [userA, userB]) await runCommand('userdel', [u]);
  });

  it('dry run of a missing group reports "would create" and creates nothing', async () => {
    const r = await groupExecutor.apply({ group: groupName, members: [userA] }, makeCtx(true));
    assert.deepEqual(r, {
      outcome: 'created',
      message: `would create group ${groupName} with members ${userA}`,
    });
    assert.equal(await lookupGroup(runCommand, groupName), undefined);
  });

  it('creates the group with gid and members, then changes nothing on the second apply', async () => {
    const gid = await freeGid();
    const params = { group: groupName, gid, members: [userA] };
    const first = await groupExecutor.apply(params, makeCtx());
    assert.equal(first.outcome, 'created', first.message);
    assert.deepEqual(await lookupGroup(runCommand, groupName), { name: groupName, gid, members: [userA] });
    const second = await groupExecutor.apply(params, makeCtx());
    assert.deepEqual(second, { outcome: 'none', message: `group ${groupName} is up to date` });
  });

  it('members is the exact list: others are removed, an empty list empties the group', async () => {
    const r = await groupExecutor.apply({ group: groupName, members: [userB] }, makeCtx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, new RegExp(`members \\[${userA}\\] -> \\[${userB}\\]`));
    assert.deepEqual((await lookupGroup(runCommand, groupName))?.members, [userB]);
    const emptied = await groupExecutor.apply({ group: groupName, members: [] }, makeCtx());
    assert.equal(emptied.outcome, 'updated', emptied.message);
    assert.deepEqual((await lookupGroup(runCommand, groupName))?.members, []);
  });

  it('leaves members alone when members is not given, and changes the gid', async () => {
    await groupExecutor.apply({ group: groupName, members: [userA, userB] }, makeCtx());
    const gid = await freeGid();
    const dry = await groupExecutor.apply({ group: groupName, gid }, makeCtx(true));
    assert.equal(dry.outcome, 'updated');
    assert.match(dry.message, /^would change group .*: gid \d+ -> \d+$/);
    assert.notEqual((await lookupGroup(runCommand, groupName))?.gid, gid);
    const r = await groupExecutor.apply({ group: groupName, gid }, makeCtx());
    assert.equal(r.outcome, 'updated', r.message);
    const now = await lookupGroup(runCommand, groupName);
    assert.equal(now?.gid, gid);
    assert.deepEqual([...(now?.members ?? [])].sort(), [userA, userB].sort());
  });

  it('fails on an unknown member without touching the group', async () => {
    const beforeApply = await lookupGroup(runCommand, groupName);
    const r = await groupExecutor.apply({ group: groupName, members: ['no-such-user-vigo'] }, makeCtx());
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /member "no-such-user-vigo" is not a user/);
    assert.deepEqual(await lookupGroup(runCommand, groupName), beforeApply);
  });

  it('deletes the group (dry run first), then reports it absent', async () => {
    const dry = await groupExecutor.apply({ group: groupName, state: 'absent' }, makeCtx(true));
    assert.deepEqual(dry, { outcome: 'deleted', message: `would delete group ${groupName}` });
    assert.ok(await lookupGroup(runCommand, groupName));
    const r = await groupExecutor.apply({ group: groupName, state: 'absent' }, makeCtx());
    assert.deepEqual(r, { outcome: 'deleted', message: `deleted group ${groupName}` });
    assert.equal(await lookupGroup(runCommand, groupName), undefined);
    const again = await groupExecutor.apply({ group: groupName, state: 'absent' }, makeCtx());
    assert.equal(again.outcome, 'none');
  });

  it('refuses to delete gid 0 and rejects bad params', async () => {
    const root = await groupExecutor.apply({ group: 'root', state: 'absent' }, makeCtx(true));
    assert.equal(root.outcome, 'failed');
    assert.match(root.message, /refusing to delete group root/);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ group: '-r' }, /not a valid group name/],
      [{ group: 'a:b' }, /not a valid group name/],
      [{}, /not a valid group name/],
      [{ group: groupName, state: 'gone' }, /state must be present or absent/],
      [{ group: groupName, gid: -1 }, /gid must be a non-negative integer/],
      [{ group: groupName, members: 'alice' }, /members must be a list/],
    ];
    for (const [params, pattern] of cases) {
      const r = await groupExecutor.apply(params, makeCtx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, pattern);
    }
  });
});
