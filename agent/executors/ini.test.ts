import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { iniExecutor } from './ini.ts';
import { setup } from './test-context.ts';

const php =
  '; PHP settings\ntimezone = UTC\n\n[mysql]\n# connection\nhost=localhost\nport = 3306\n\n[cache]\nsize = 64\n';

describe('ini executor', () => {
  it('creates the file with the section and key, then changes nothing', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'app.ini');
    const params = { target_path: file, section: 'server', key: 'port', value: 8080, create: true };
    const r = await iniExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readFileSync(file, 'utf8'), '[server]\nport = 8080\n');
    assert.equal((await iniExecutor.apply(params, ctx())).outcome, 'none');
  });

  it('changes a drifted value in place, keeping comments, order and the line style', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'php.ini');
    fs.writeFileSync(file, php);
    const r = await iniExecutor.apply(
      { target_path: file, section: 'mysql', key: 'host', value: 'db.internal' },
      ctx(),
    );
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(r.message.includes('db.internal'), false, 'values stay out of messages');
    assert.equal(fs.readFileSync(file, 'utf8'), php.replace('host=localhost', 'host=db.internal'));
    assert.deepEqual(snapshots, [file]);
    const same = await iniExecutor.apply(
      { target_path: file, section: 'mysql', key: 'port', value: '3306' },
      ctx(),
    );
    assert.equal(same.outcome, 'none');
  });

  it('adds keys at the end of their section, at the top level, and appends a missing section', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'php.ini');
    fs.writeFileSync(file, php);
    await iniExecutor.apply({ target_path: file, section: 'mysql', key: 'user', value: 'app' }, ctx());
    await iniExecutor.apply({ target_path: file, key: 'memory_limit', value: '256M' }, ctx());
    await iniExecutor.apply({ target_path: file, section: 'new', key: 'on', value: true }, ctx());
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      '; PHP settings\ntimezone = UTC\nmemory_limit = 256M\n\n[mysql]\n# connection\nhost=localhost\nport = 3306\nuser = app\n\n' +
        '[cache]\nsize = 64\n\n[new]\non = true\n',
    );
  });

  it('puts a top-level key before the first section when the file starts with one', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f.ini');
    fs.writeFileSync(file, '[a]\nx = 1\n');
    await iniExecutor.apply({ target_path: file, section: '', key: 'top', value: 'yes' }, ctx());
    assert.equal(fs.readFileSync(file, 'utf8'), 'top = yes\n\n[a]\nx = 1\n');
  });

  it('collapses duplicate keys of a section to one line', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f.ini');
    fs.writeFileSync(file, '[a]\nx = 1\ny = 2\nx = 3\n[b]\nx = 9\n');
    const r = await iniExecutor.apply({ target_path: file, section: 'a', key: 'x', value: '1' }, ctx());
    assert.equal(r.outcome, 'updated');
    assert.equal(fs.readFileSync(file, 'utf8'), '[a]\nx = 1\ny = 2\n[b]\nx = 9\n');
  });

  it('state absent removes the key of that section only, as deleted', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f.ini');
    fs.writeFileSync(file, '[a]\nx = 1\n[b]\nx = 2\n');
    const r = await iniExecutor.apply({ target_path: file, section: 'b', key: 'x', state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.equal(fs.readFileSync(file, 'utf8'), '[a]\nx = 1\n[b]\n');
    assert.equal(
      (await iniExecutor.apply({ target_path: file, section: 'b', key: 'x', state: 'absent' }, ctx()))
        .outcome,
      'none',
    );
    assert.equal(
      (await iniExecutor.apply({ target_path: file, section: 'zz', key: 'x', state: 'absent' }, ctx()))
        .outcome,
      'none',
    );
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'php.ini');
    fs.writeFileSync(file, php);
    const runs: Array<[Record<string, unknown>, string]> = [
      [{ target_path: path.join(dir, 'new.ini'), key: 'a', value: 1, create: true }, 'created'],
      [{ target_path: file, section: 'cache', key: 'size', value: 128 }, 'updated'],
      [{ target_path: file, section: 'cache', key: 'size', state: 'absent' }, 'deleted'],
    ];
    for (const [params, outcome] of runs) {
      const r = await iniExecutor.apply(params, ctx(true));
      assert.equal(r.outcome, outcome, r.message);
      assert.match(r.message, /^would /);
    }
    assert.deepEqual(fs.readdirSync(dir), ['php.ini']);
    assert.equal(fs.readFileSync(file, 'utf8'), php);
    assert.deepEqual(snapshots, []);
  });

  it('fails on parameters that cannot work, leaving the file alone', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'php.ini');
    fs.writeFileSync(file, php);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target_path: file, key: 'a' }, /value is required/],
      [{ target_path: file, key: 'a=b', value: 1 }, /key "a=b" cannot be written/],
      [{ target_path: file, section: 'x]y', key: 'a', value: 1 }, /section "x]y" cannot be written/],
      [{ target_path: file, key: 'a', value: 'one\ntwo' }, /single line/],
      [{ target_path: file, key: 'a', value: { nested: true } }, /string or a number/],
      [{ target_path: path.join(dir, 'missing.ini'), key: 'a', value: 1 }, /does not exist/],
    ];
    for (const [params, message] of cases) {
      const r = await iniExecutor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), php);
  });
});
