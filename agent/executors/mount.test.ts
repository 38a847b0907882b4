import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createMountExecutor } from './mount.ts';
import { namespaceSkipReason, ok, runInNamespace, unixSetup } from './unix-test-support.ts';

const module = path.join(import.meta.dirname, 'mount.ts');
const skip = namespaceSkipReason(['--mount']);

describe('mount executor', () => {
  it(
    'mounts a tmpfs with its fstab line inside a mount namespace, remounts on a flag change, then unmounts and removes it',
    { skip },
    (t) => {
      const s = unixSetup(t);
      s.put('/etc/fstab', '# static\nproc /proc proc defaults 0 0\n');
      const mp = s.at('/mnt/data');
      const base = { target_path: mp, device: 'tmpfs', fstype: 'tmpfs', options: 'size=16m,noexec' };
      const first = runInNamespace(['--mount'], {
        module,
        factory: 'createMountExecutor',
        options: { root: s.root },
        steps: [
          { params: base, dryRun: true },
          { params: base },
          { params: base },
          { params: { ...base, options: 'size=16m,noexec,ro' } },
        ],
        after: [['findmnt', '-n', '-o', 'FSTYPE,OPTIONS', '--mountpoint', mp]],
      });
      const [dry, mounted, again, remounted] = first.results;
      assert.equal(dry?.outcome, 'created', dry?.message);
      assert.match(dry?.message ?? '', /would update .*fstab.*; would mount tmpfs on /);
      assert.equal(mounted?.outcome, 'created', mounted?.message);
      assert.equal(again?.outcome, 'none', again?.message);
      assert.equal(remounted?.outcome, 'updated', remounted?.message);
      assert.match(
        remounted?.message ?? '',
        /fstab options size=16m,noexec -> size=16m,noexec,ro.*remounted/,
      );
      assert.match(first.after[0]?.stdout ?? '', /^tmpfs\s+ro,.*noexec/);
      assert.equal(
        fs.readFileSync(s.at('/etc/fstab'), 'utf8'),
        `# static\nproc /proc proc defaults 0 0\ntmpfs ${mp} tmpfs size=16m,noexec,ro 0 0\n`,
      );
      const outside = spawnSync('findmnt', ['--mountpoint', mp]);
      assert.notEqual(outside.status, 0, 'the mount stays inside the namespace');

      const second = runInNamespace(['--mount'], {
        module,
        factory: 'createMountExecutor',
        options: { root: s.root },
        before: [['mount', '-t', 'tmpfs', 'tmpfs', mp]],
        steps: [
          { params: { path: mp, state: 'unmounted' } },
          { params: { path: mp, state: 'absent' } },
          { params: { path: mp, state: 'absent' } },
        ],
        after: [['findmnt', '--mountpoint', mp]],
      });
      const [unmounted, absent, none] = second.results;
      assert.equal(unmounted?.outcome, 'deleted', unmounted?.message);
      assert.equal(unmounted?.message, `unmounted ${mp}`);
      assert.equal(absent?.outcome, 'deleted', absent?.message);
      assert.match(absent?.message ?? '', /removed the fstab line/);
      assert.equal(none?.outcome, 'none');
      assert.notEqual(second.after[0]?.exitCode, 0);
      assert.equal(fs.readFileSync(s.at('/etc/fstab'), 'utf8'), '# static\nproc /proc proc defaults 0 0\n');
    },
  );

  it('state present edits only fstab, field by field, and keeps other lines', async (t) => {
    const s = unixSetup(t);
    const fstab = s.put(
      '/etc/fstab',
      'UUID=1 / ext4 defaults 0 1\nnfs:/old /mnt/backup nfs defaults 0 0\nnfs:/dup /mnt/backup nfs ro 0 0\n',
    );
    const mounts = s.put('/proc-mounts', '');
    const ex = createMountExecutor({ root: s.root, mountsFile: mounts });
    const params = {
      path: '/mnt/backup',
      device: 'nfs-server:/export/backup',
      fstype: 'nfs',
      options: 'defaults,nofail',
      state: 'present',
    };
    const r = await ex.apply(params, s.ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(
      r.message,
      /device nfs:\/old -> nfs-server:\/export\/backup, options defaults -> defaults,nofail/,
    );
    assert.equal(
      fs.readFileSync(fstab, 'utf8'),
      'UUID=1 / ext4 defaults 0 1\nnfs-server:/export/backup /mnt/backup nfs defaults,nofail 0 0\n',
    );
    assert.equal((await ex.apply(params, s.ctx())).outcome, 'none');
    assert.deepEqual(s.calls, []);
  });

  it('replaces a mount of the wrong device and names the command that fails', async (t) => {
    const s = unixSetup(t);
    s.put('/etc/fstab', '');
    const mounts = s.put('/proc-mounts', `/dev/sdz9 ${s.at('/srv/data')} ext4 rw,relatime 0 0\n`);
    s.script.set('umount', () => {
      fs.writeFileSync(mounts, '');
      return ok();
    });
    s.script.set('mount', () => ({
      exitCode: 32,
      stdout: '',
      stderr: 'mount: /srv/data: special device /dev/sdy1 does not exist.',
      timedOut: false,
    }));
    const ex = createMountExecutor({ root: s.root, mountsFile: mounts });
    const r = await ex.apply({ path: s.at('/srv/data'), device: '/dev/sdy1', fstype: 'ext4' }, s.ctx());
    assert.equal(r.outcome, 'failed');
    assert.equal(
      r.message,
      `mount ${s.at('/srv/data')}: mount -t ext4 -o defaults -- /dev/sdy1 ${s.at('/srv/data')} failed (exit 32): mount: /srv/data: special device /dev/sdy1 does not exist.`,
    );
    assert.deepEqual(s.calls[0], ['umount', s.at('/srv/data')]);
  });

  it('refuses fields that would corrupt fstab or reach mount as options', async (t) => {
    const s = unixSetup(t);
    const mounts = s.put('/proc-mounts', '');
    const ex = createMountExecutor({ root: s.root, mountsFile: mounts });
    for (const params of [
      { path: '/mnt/x', device: 'tmpfs' },
      { path: '/mnt/x', device: 'a b', fstype: 'ext4' },
      { path: '/mnt/x', device: 'tmpfs', fstype: 'ext4;rm' },
      { path: '/mnt/x', device: 'tmpfs', fstype: 'tmpfs', options: 'a b' },
      { path: '/mnt/x', device: 'tmpfs', fstype: 'tmpfs', options: '--bind' },
      { path: '/mnt/x', device: 'tmpfs', fstype: 'tmpfs', dump: '10' },
      { path: 'mnt/x', device: 'tmpfs', fstype: 'tmpfs' },
      { path: '/mnt/x', device: 'tmpfs', fstype: 'tmpfs', state: 'up' },
    ]) {
      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
    }
    assert.deepEqual(s.calls, []);
  });
});
