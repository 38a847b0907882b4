import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { getent, lookupUser } from './exec.ts';
import type { ExecutorContext } from './types.ts';
import { createUserExecutor } from './user.ts';

const isRoot = process.getuid?.() === 0;
const suffix = randomBytes(3).toString('hex');
const userName = `vigotest${suffix}`;
const sysName = `vigotests${suffix}`;
const groupName = `vigotestg${suffix}`;
const sudoersDir = mkdtempSync(join(tmpdir(), 'vigo-'));
const executor = createUserExecutor({ sudoersDir });
// `openssl passwd -6 -salt vigosalt secret` and `… -salt othersalt other`: hashes, never passwords.
const hashA =
  '$6$vigosalt$we3RTiqM91I52VIOgo8RRaiZnIZciYPHAmnAqtBf2llQmwSwwCKkgqKNrJG.GKHpu/CEUvJRodWENigWg9B110';
const hashB =
  '$6$othersalt$eMcU/nJ8pRnR7JyhmYydf4xIZpFEZN9gbUjJ67B9PG9TZgoBq5B5mUj.2afJl1okAmT9zZv82ieToiVvvaEr50';
const keyA = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice@laptop';
const keyB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB alice@desk';

interface TestCtx extends ExecutorContext {
  readonly snapshots: string[];
}

function makeCtx(dryRun = false): TestCtx {
  const snapshots: string[] = [];
  return {
    dryRun,
    run: runCommand,
    snapshotFile: async (p) => {
      snapshots.push(p);
    },
    customExecutorDir: '/nonexistent',
    signal: new AbortController().signal,
    snapshots,
  };
}

function mode(path: string): number {
  return statSync(path).mode & 0o7777;
}

describe('user executor', { skip: isRoot ? false : 'needs root to create users' }, () => {
  after(async () => {
    for (const u of [userName, sysName]) await runCommand('userdel', ['-r', u]);
    await runCommand('groupdel', [groupName]);
    rmSync(sudoersDir, { recursive: true, force: true });
  });

  const full = {
    user: userName,
    shell: '/bin/bash',
    comment: 'Vigo Test',
    groups: [groupName],
    password: hashA,
    authorized_keys: [keyA],
    sudo_nopasswd: true,
  };

  it('dry run of a new user creates nothing', async () => {
    const r = await executor.apply(full, makeCtx(true));
    assert.equal(r.outcome, 'failed', 'the supplementary group does not exist yet');
    assert.match(r.message, new RegExp(`group "${groupName}" does not exist`));
    assert.equal((await runCommand('groupadd', [groupName])).exitCode, 0);
    const dry = await executor.apply(full, makeCtx(true));
    assert.deepEqual(dry, {
      outcome: 'created',
      message: `would create user ${userName} with 1 authorized key(s) and passwordless sudo`,
    });
    assert.equal(await lookupUser(runCommand, userName), undefined);
    assert.deepEqual(readdirSync(sudoersDir), []);
  });

  it('creates the account, its authorized_keys and sudoers drop-in, then is idempotent', async () => {
    const ctx = makeCtx();
    const r = await executor.apply(full, ctx);
    assert.equal(r.outcome, 'created', r.message);
    const acct = await lookupUser(runCommand, userName);
    assert.ok(acct);
    assert.equal(acct.shell, '/bin/bash');
    assert.equal(acct.gecos, 'Vigo Test');
    assert.equal(acct.home, `/home/${userName}`);
    assert.equal((await getent(runCommand, 'shadow', userName))?.[1], hashA);
    assert.match((await runCommand('id', ['-Gn', userName])).stdout, new RegExp(`\\b${groupName}\\b`));
    const keys = join(acct.home, '.ssh', 'authorized_keys');
    assert.equal(readFileSync(keys, 'utf8'), `${keyA}\n`);
    assert.equal(mode(keys), 0o600);
    assert.equal(mode(join(acct.home, '.ssh')), 0o700);
    assert.equal(statSync(keys).uid, acct.uid);
    assert.equal(statSync(join(acct.home, '.ssh')).gid, acct.gid);
    const sudoers = join(sudoersDir, `vigo-${userName}`);
    assert.match(
      readFileSync(sudoers, 'utf8'),
      new RegExp(`^${userName} ALL=\\(ALL:ALL\\) NOPASSWD: ALL$`, 'm'),
    );
    assert.equal(mode(sudoers), 0o440);
    assert.deepEqual(ctx.snapshots, [], 'nothing existed before, so nothing to snapshot');
    const second = await executor.apply(full, makeCtx());
    assert.deepEqual(second, { outcome: 'none', message: `user ${userName} is up to date` });
  });

  it('dry run of a change reports it and changes nothing', async () => {
    const r = await executor.apply(
      { ...full, shell: '/bin/sh', authorized_keys: [keyA, keyB] },
      makeCtx(true),
    );
    assert.equal(r.outcome, 'updated');
    assert.match(
      r.message,
      /^would change user .*: shell \/bin\/bash -> \/bin\/sh; .*authorized_keys: content/,
    );
    assert.equal((await lookupUser(runCommand, userName))?.shell, '/bin/bash');
  });

  it('changes shell, password and keys, snapshotting the keys file it replaces', async () => {
    const ctx = makeCtx();
    const r = await executor.apply(
      { ...full, shell: '/bin/sh', password: hashB, authorized_keys: [keyB] },
      ctx,
    );
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /shell \/bin\/bash -> \/bin\/sh; password changed/);
    assert.doesNotMatch(r.message, /\$6\$/);
    const acct = await lookupUser(runCommand, userName);
    assert.equal(acct?.shell, '/bin/sh');
    assert.equal((await getent(runCommand, 'shadow', userName))?.[1], hashB);
    const keys = join(acct?.home ?? '', '.ssh', 'authorized_keys');
    assert.equal(readFileSync(keys, 'utf8'), `${keyB}\n`);
    assert.deepEqual(ctx.snapshots, [keys]);
  });

  it('repairs a drifted mode on authorized_keys and removes the sudoers drop-in on sudo_nopasswd false', async () => {
    const acct = await lookupUser(runCommand, userName);
    const keys = join(acct?.home ?? '', '.ssh', 'authorized_keys');
    await runCommand('chmod', ['0644', keys]);
    const ctx = makeCtx();
    const r = await executor.apply({ user: userName, authorized_keys: [keyB], sudo_nopasswd: false }, ctx);
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /mode 644 -> 600/);
    assert.equal(mode(keys), 0o600);
    const sudoers = join(sudoersDir, `vigo-${userName}`);
    assert.equal(existsSync(sudoers), false);
    assert.ok(ctx.snapshots.includes(sudoers));
  });

  it('refuses to write authorized_keys through a symlinked ~/.ssh', async () => {
    const acct = await lookupUser(runCommand, userName);
    const home = acct?.home ?? '';
    const elsewhere = mkdtempSync(join(tmpdir(), 'vigo-'));
    rmSync(join(home, '.ssh'), { recursive: true });
    symlinkSync(elsewhere, join(home, '.ssh'));
    try {
      const r = await executor.apply({ user: userName, authorized_keys: [keyA] }, makeCtx());
      assert.equal(r.outcome, 'failed');
      assert.match(r.message, /not a plain directory|symlink/);
      assert.deepEqual(readdirSync(elsewhere), []);
      assert.equal(statSync(elsewhere).uid, 0);
    } finally {
      rmSync(join(home, '.ssh'));
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('creates a system user without a home unless manage_home says so', async () => {
    const r = await executor.apply({ user: sysName, system: true, shell: '/usr/sbin/nologin' }, makeCtx());
    assert.equal(r.outcome, 'created', r.message);
    const acct = await lookupUser(runCommand, sysName);
    assert.ok(acct && acct.uid < 1000, `system uid expected, got ${acct?.uid}`);
    assert.equal(existsSync(acct.home), false);
  });

  it('deletes users (with the home only when manage_home is true) and is then absent', async () => {
    const home = (await lookupUser(runCommand, userName))?.home ?? '';
    mkdirSync(join(home, 'data'), { recursive: true });
    const dry = await executor.apply({ user: userName, state: 'absent', manage_home: true }, makeCtx(true));
    assert.deepEqual(dry, { outcome: 'deleted', message: `would delete user ${userName} and ${home}` });
    assert.ok(await lookupUser(runCommand, userName));
    const r = await executor.apply({ user: userName, state: 'absent', manage_home: true }, makeCtx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.equal(await lookupUser(runCommand, userName), undefined);
    assert.equal(existsSync(home), false);
    const again = await executor.apply({ user: userName, state: 'absent' }, makeCtx());
    assert.deepEqual(again, { outcome: 'none', message: `user ${userName} is absent` });
    const sys = await executor.apply({ user: sysName, state: 'absent' }, makeCtx());
    assert.equal(sys.outcome, 'deleted', sys.message);
  });

  it('refuses to delete root and rejects bad params without echoing a password', async () => {
    const root = await executor.apply({ user: 'root', state: 'absent' }, makeCtx(true));
    assert.equal(root.outcome, 'failed');
    assert.match(root.message, /refusing to delete user root: it has uid 0/);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ user: '-rf' }, /not a valid account name/],
      [{ user: 'a'.repeat(40) }, /not a valid account name/],
      [{ user: userName, password: 'hunter2 plain' }, /password must be a crypt\(3\) hash/],
      [{ user: userName, shell: 'bash' }, /shell must be an absolute path/],
      [{ user: userName, comment: 'a:b' }, /comment must not contain ":"/],
      [{ user: userName, uid: -5 }, /uid must be a non-negative integer/],
      [{ user: userName, authorized_keys: ['a\nb'] }, /must be one line/],
      [{ user: userName, group: 'no-such-group-vigo' }, /primary group "no-such-group-vigo" does not exist/],
    ];
    for (const [params, pattern] of cases) {
      const r = await executor.apply(params, makeCtx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, pattern);
      assert.doesNotMatch(r.message, /hunter2/);
    }
    assert.equal(await lookupUser(runCommand, userName), undefined);
  });
});
