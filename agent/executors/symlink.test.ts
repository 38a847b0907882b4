import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { symlinkExecutor } from './symlink.ts';
import { setup } from './test-context.ts';

describe('symlink executor', () => {
  it('creates a link with its owner (lchown), then changes nothing', async (t) => {
    const { dir, ctx } = setup(t);
    const link = path.join(dir, 'current');
    const params = { target_path: link, link_to: 'releases/v1', owner: 'nobody', group: 65534 };
    const r = await symlinkExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(
      fs.readlinkSync(link),
      'releases/v1',
      'link_to is kept literally, even relative and dangling',
    );
    assert.equal(fs.lstatSync(link).uid, 65534);
    assert.equal(fs.lstatSync(link).gid, 65534);
    assert.equal((await symlinkExecutor.apply(params, ctx())).outcome, 'none');
  });

  it('re-points a link that points elsewhere, and fixes a drifted owner', async (t) => {
    const { dir, ctx } = setup(t);
    const link = path.join(dir, 'l');
    fs.symlinkSync('/old/target', link);
    const r = await symlinkExecutor.apply({ target_path: link, link_to: '/new/target' }, ctx());
    assert.equal(r.outcome, 'updated');
    assert.match(r.message, /-> \/old\/target becomes -> \/new\/target/);
    assert.equal(fs.readlinkSync(link), '/new/target');
    const owned = await symlinkExecutor.apply(
      { target_path: link, link_to: '/new/target', owner: 65534 },
      ctx(),
    );
    assert.equal(owned.outcome, 'updated');
    assert.match(owned.message, /owner uid 0 -> 65534/);
  });

  it('replaces a file or directory in the way only with force, snapshotting its files', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'file');
    const tree = path.join(dir, 'tree');
    fs.writeFileSync(file, 'data');
    fs.mkdirSync(tree);
    fs.writeFileSync(path.join(tree, 'inner'), 'i');
    const refused = await symlinkExecutor.apply({ target_path: file, link_to: '/etc/hostname' }, ctx());
    assert.equal(refused.outcome, 'failed');
    assert.match(refused.message, /is a regular file, not a symlink; set force: true/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'data');
    const forced = await symlinkExecutor.apply(
      { target_path: file, link_to: '/etc/hostname', force: true },
      ctx(),
    );
    assert.equal(forced.outcome, 'updated', forced.message);
    assert.equal(fs.readlinkSync(file), '/etc/hostname');
    const dirForced = await symlinkExecutor.apply({ target_path: tree, link_to: dir, force: true }, ctx());
    assert.equal(dirForced.outcome, 'updated', dirForced.message);
    assert.equal(fs.readlinkSync(tree), dir);
    assert.deepEqual(snapshots, [file, path.join(tree, 'inner')]);
  });

  it('deletes a link with state absent, and never deletes a real file', async (t) => {
    const { dir, ctx } = setup(t);
    const link = path.join(dir, 'l');
    const file = path.join(dir, 'f');
    fs.symlinkSync(file, link);
    fs.writeFileSync(file, 'keep');
    const r = await symlinkExecutor.apply({ target_path: link, state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted');
    assert.equal(fs.existsSync(link), false);
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep');
    assert.equal(
      (await symlinkExecutor.apply({ target_path: link, state: 'absent' }, ctx())).outcome,
      'none',
    );
    const refused = await symlinkExecutor.apply({ target_path: file, state: 'absent' }, ctx());
    assert.equal(refused.outcome, 'failed');
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep');
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const link = path.join(dir, 'l');
    const file = path.join(dir, 'f');
    fs.symlinkSync('/a', link);
    fs.writeFileSync(file, 'x');
    const runs: Array<[Record<string, unknown>, string]> = [
      [{ target_path: path.join(dir, 'new'), link_to: '/a' }, 'created'],
      [{ target_path: link, link_to: '/b' }, 'updated'],
      [{ target_path: file, link_to: '/b', force: true }, 'updated'],
      [{ target_path: link, state: 'absent' }, 'deleted'],
    ];
    for (const [params, outcome] of runs) {
      const r = await symlinkExecutor.apply(params, ctx(true));
      assert.equal(r.outcome, outcome, r.message);
      assert.match(r.message, /^would /);
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), ['f', 'l']);
    assert.equal(fs.readlinkSync(link), '/a');
    assert.equal(fs.readFileSync(file, 'utf8'), 'x');
    assert.deepEqual(snapshots, []);
  });

  it('fails on parameters that cannot work', async (t) => {
    const { dir, ctx } = setup(t);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target_path: path.join(dir, 'l') }, /link_to is required/],
      [{ target_path: 'l', link_to: '/a' }, /must be absolute/],
      [{ target_path: path.join(dir, 'missing', 'l'), link_to: '/a' }, /does not exist/],
      [{ target_path: path.join(dir, 'l'), link_to: '/a', owner: 'no-such-user-vigo' }, /unknown user/],
    ];
    for (const [params, message] of cases) {
      const r = await symlinkExecutor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
