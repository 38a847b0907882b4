import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fieldEditExecutor as ex } from './field-edit.ts';
import { setup } from './test-context.ts';

describe('field_edit executor', () => {
  it('sets a key=value keeping its spacing, removes duplicates, then changes nothing', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'grub');
    fs.writeFileSync(
      file,
      '# GRUB_TIMEOUT=1 stays a comment\nGRUB_TIMEOUT = 1\nGRUB_DEFAULT=0\nGRUB_TIMEOUT=2\n',
    );
    const params = { target_path: file, key: 'GRUB_TIMEOUT', value: 5 };
    const dry = await ex.apply(params, ctx(true));
    assert.equal(dry.outcome, 'updated');
    assert.match(dry.message, /^would update .*set GRUB_TIMEOUT/);
    assert.match(fs.readFileSync(file, 'utf8'), /GRUB_TIMEOUT = 1/);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      '# GRUB_TIMEOUT=1 stays a comment\nGRUB_TIMEOUT = 5\nGRUB_DEFAULT=0\n',
    );
    assert.deepEqual(snapshots, [file]);
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
  });

  it('appends a missing key, creates the file only with create: true, and removes with state: absent', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'env');
    const missing = await ex.apply({ target_path: file, key: 'A', value: 'x' }, ctx());
    assert.equal(missing.outcome, 'failed');
    assert.match(missing.message, /does not exist \(set create: true/);
    const created = await ex.apply(
      { target_path: file, key: 'A', value: 'x', create: true, mode: '0600' },
      ctx(),
    );
    assert.equal(created.outcome, 'created', created.message);
    assert.equal(fs.readFileSync(file, 'utf8'), 'A=x\n');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    await ex.apply({ target_path: file, key: 'B', value: 'y' }, ctx());
    assert.equal(fs.readFileSync(file, 'utf8'), 'A=x\nB=y\n');
    const removed = await ex.apply({ target_path: file, key: 'A', state: 'absent' }, ctx());
    assert.equal(removed.outcome, 'deleted', removed.message);
    assert.equal(fs.readFileSync(file, 'utf8'), 'B=y\n');
    assert.equal((await ex.apply({ target_path: file, key: 'A', state: 'absent' }, ctx())).outcome, 'none');
  });

  it('sets one field of a delimited record and refuses to invent a record', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'passwd');
    fs.writeFileSync(file, 'root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n');
    const params = { target_path: file, key: 'app', separator: ':', field: 7, value: '/usr/sbin/nologin' };
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      'root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/usr/sbin/nologin\n',
    );
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    const byUid = await ex.apply(
      { target_path: file, key: '0', key_field: 3, separator: ':', field: 6, value: '/var/root' },
      ctx(),
    );
    assert.equal(byUid.outcome, 'updated', byUid.message);
    assert.match(fs.readFileSync(file, 'utf8'), /^root:x:0:0:root:\/var\/root:\/bin\/bash$/m);
    const none = await ex.apply({ ...params, key: 'ghost' }, ctx());
    assert.equal(none.outcome, 'failed');
    assert.match(none.message, /no line whose field 1 is "ghost"/);
  });

  it('refuses values that would corrupt the file', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'a:b:c\n');
    const cases: Record<string, unknown>[] = [
      { target_path: file, key: 'a', separator: ':', field: 2, value: 'x:y' },
      { target_path: file, key: 'a', value: 'two\nlines' },
      { target_path: file, key: 'a', separator: ':', field: 1, value: 'z' },
      { target_path: file, key: 'a' },
      { target_path: 'relative', key: 'a', value: 'b' },
    ];
    for (const params of cases) {
      const r = await ex.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
    }
    assert.equal(fs.readFileSync(file, 'utf8'), 'a:b:c\n');
  });
});
