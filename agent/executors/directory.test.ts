import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createDirectoryExecutor, directoryExecutor } from './directory.ts';
import { setup } from './test-context.ts';

function modeOf(p: string): number {
  return fs.lstatSync(p).mode & 0o7777;
}

/** Every path below `root` with its type, mode, owner and content: a fingerprint of the tree. */
function treeState(root: string): string {
  const out: string[] = [];
  const visit = (p: string): void => {
    const st = fs.lstatSync(p);
    const content = st.isFile() ? fs.readFileSync(p, 'utf8') : '';
    out.push(`${path.relative(root, p)} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${content}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) visit(path.join(p, n));
  };
  visit(root);
  return out.join('\n');
}

describe('directory executor', () => {
  it('creates a directory (and its parents) with owner and mode, then changes nothing', async (t) => {
    const { dir, ctx } = setup(t);
    const target = path.join(dir, 'a', 'b');
    const params = { target_path: target, owner: 'nobody', group: 'nogroup', mode: '0750' };
    const r = await directoryExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.statSync(target).isDirectory(), true);
    assert.equal(modeOf(target), 0o750);
    assert.equal(fs.statSync(target).uid, 65534);
    assert.equal(fs.statSync(target).gid, 65534);
    assert.equal((await directoryExecutor.apply(params, ctx())).outcome, 'none');
  });

  it('a new directory without mode is 0755 whatever the umask; an existing one keeps its mode', async (t) => {
    const { dir, ctx } = setup(t);
    const target = path.join(dir, 'plain');
    const old = process.umask(0o077);
    try {
      assert.equal((await directoryExecutor.apply({ target_path: target }, ctx())).outcome, 'created');
    } finally {
      process.umask(old);
    }
    assert.equal(modeOf(target), 0o755);
    fs.chmodSync(target, 0o700);
    assert.equal((await directoryExecutor.apply({ target_path: target }, ctx())).outcome, 'none');
    assert.equal(modeOf(target), 0o700);
  });

  it('corrects a drifted mode', async (t) => {
    const { dir, ctx } = setup(t);
    fs.chmodSync(dir, 0o777);
    const r = await directoryExecutor.apply({ target_path: dir, mode: '0755' }, ctx());
    assert.equal(r.outcome, 'updated');
    assert.match(r.message, /mode 0777 -> 0755/);
    assert.equal(modeOf(dir), 0o755);
  });

  it('recurse applies owner and mode below without making data files executable or following links', async (t) => {
    const { dir, ctx } = setup(t);
    const root = path.join(dir, 'app');
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'data.txt'), 'd', { mode: 0o600 });
    fs.writeFileSync(path.join(root, 'sub', 'run.sh'), 's', { mode: 0o700 });
    fs.writeFileSync(outside, 'o', { mode: 0o600 });
    fs.symlinkSync(outside, path.join(root, 'link'));
    const params = { target_path: root, owner: 65534, mode: '0755', recurse: true };
    const r = await directoryExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(modeOf(path.join(root, 'sub')), 0o755);
    assert.equal(modeOf(path.join(root, 'data.txt')), 0o644);
    assert.equal(modeOf(path.join(root, 'sub', 'run.sh')), 0o755);
    for (const p of ['sub', 'data.txt', 'sub/run.sh', 'link'])
      assert.equal(fs.lstatSync(path.join(root, p)).uid, 65534);
    assert.equal(fs.statSync(outside).uid, 0, 'the symlink target outside is untouched');
    assert.equal(modeOf(outside), 0o600);
    assert.equal((await directoryExecutor.apply(params, ctx())).outcome, 'none');
    fs.chownSync(path.join(root, 'sub', 'run.sh'), 0, 0);
    assert.equal((await directoryExecutor.apply(params, ctx())).outcome, 'updated');
    assert.equal(fs.statSync(path.join(root, 'sub', 'run.sh')).uid, 65534);
  });

  it('purge removes unmanaged entries after snapshotting their files, sparing managed paths', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const root = path.join(dir, 'conf.d');
    fs.mkdirSync(path.join(root, 'keepdir'), { recursive: true });
    fs.mkdirSync(path.join(root, 'junkdir'));
    fs.writeFileSync(path.join(root, 'managed.conf'), 'm');
    fs.writeFileSync(path.join(root, 'keepdir', 'inner.conf'), 'i');
    fs.writeFileSync(path.join(root, 'stray.conf'), 's');
    fs.writeFileSync(path.join(root, 'junkdir', 'old.conf'), 'o');
    const managed = new Set([path.join(root, 'managed.conf'), path.join(root, 'keepdir', 'inner.conf')]);
    const executor = createDirectoryExecutor({ managedPaths: () => managed });
    const r = await executor.apply({ target_path: root, purge: true }, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /purge junkdir, stray\.conf/);
    assert.deepEqual(fs.readdirSync(root).sort(), ['keepdir', 'managed.conf']);
    assert.deepEqual(snapshots.sort(), [
      path.join(root, 'junkdir', 'old.conf'),
      path.join(root, 'stray.conf'),
    ]);
    assert.equal((await executor.apply({ target_path: root, purge: true }, ctx())).outcome, 'none');
    assert.equal(
      (await directoryExecutor.apply({ target_path: root }, ctx())).outcome,
      'none',
      'no purge unless asked',
    );
    assert.equal(
      (await directoryExecutor.apply({ target_path: root, purge: true }, ctx())).outcome,
      'updated',
    );
    assert.deepEqual(fs.readdirSync(root), [], 'without managed paths purge empties the directory');
  });

  it('deletes with state absent, snapshotting every file in it', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const root = path.join(dir, 'old');
    fs.mkdirSync(path.join(root, 'x'), { recursive: true });
    fs.writeFileSync(path.join(root, 'x', 'f'), 'f');
    const r = await directoryExecutor.apply({ target_path: root, state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted');
    assert.equal(fs.existsSync(root), false);
    assert.deepEqual(snapshots, [path.join(root, 'x', 'f')]);
    assert.equal(
      (await directoryExecutor.apply({ target_path: root, state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const root = path.join(dir, 'tree');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'sub', 'f'), 'f', { mode: 0o600 });
    const before = treeState(dir);
    const runs: Array<[Record<string, unknown>, string]> = [
      [{ target_path: path.join(dir, 'new') }, 'created'],
      [{ target_path: root, mode: '0700', owner: 65534, recurse: true, purge: true }, 'updated'],
      [{ target_path: root, state: 'absent' }, 'deleted'],
    ];
    for (const [params, outcome] of runs) {
      const r = await directoryExecutor.apply(params, ctx(true));
      assert.equal(r.outcome, outcome);
      assert.match(r.message, /^would /);
    }
    assert.equal(treeState(dir), before);
    assert.deepEqual(snapshots, []);
  });

  it('fails on parameters that cannot work', async (t) => {
    const { dir, ctx } = setup(t);
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target_path: 'relative/dir' }, /must be absolute/],
      [{ target_path: path.join(dir, 'file') }, /not a directory/],
      [{ target_path: path.join(dir, 'file'), state: 'absent' }, /not a directory/],
      [{ target_path: '/', state: 'absent' }, /refusing to remove \//],
      [{ target_path: path.join(dir, 'd'), owner: 'no-such-user-vigo' }, /unknown user/],
      [{ target_path: path.join(dir, 'd'), recurse: 'yes' }, /recurse must be true or false/],
    ];
    for (const [params, message] of cases) {
      const r = await directoryExecutor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(fs.existsSync(path.join(dir, 'd')), false);
  });
});
