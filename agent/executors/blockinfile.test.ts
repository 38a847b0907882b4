import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { blockinfileExecutor } from './blockinfile.ts';
import { setup } from './test-context.ts';

const begin = '# BEGIN VIGO MANAGED BLOCK';
const end = '# END VIGO MANAGED BLOCK';

describe('blockinfile executor', () => {
  it('creates the file with the block between default markers, then changes nothing', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    const params = { target_path: file, block: 'a = 1\nb = 2\n', create: true };
    const r = await blockinfileExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readFileSync(file, 'utf8'), `${begin}\na = 1\nb = 2\n${end}\n`);
    assert.equal((await blockinfileExecutor.apply(params, ctx())).outcome, 'none');
  });

  it('replaces a drifted block in place and keeps everything around it', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, `top\n${begin}\nold\n${end}\nbottom\n`);
    const r = await blockinfileExecutor.apply({ target_path: file, block: 'new 1\nnew 2' }, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(fs.readFileSync(file, 'utf8'), `top\n${begin}\nnew 1\nnew 2\n${end}\nbottom\n`);
    assert.deepEqual(snapshots, [file]);
  });

  it('uses a custom {mark} marker and honours insert_before / insert_after', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'first\nmiddle\nlast\n');
    const marker = '// {mark} app';
    await blockinfileExecutor.apply(
      { target_path: file, block: 'x', marker, insert_before: '^middle' },
      ctx(),
    );
    await blockinfileExecutor.apply({ target_path: file, block: 'y', insert_after: '^first' }, ctx());
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      `first\n${begin}\ny\n${end}\n// BEGIN app\nx\n// END app\nmiddle\nlast\n`,
    );
  });

  it('state absent (or an empty block) removes the block and its markers as deleted', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, `top\n${begin}\nold\n${end}\n`);
    const r = await blockinfileExecutor.apply({ target_path: file, state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    assert.equal(fs.readFileSync(file, 'utf8'), 'top\n');
    assert.equal(
      (await blockinfileExecutor.apply({ target_path: file, state: 'absent' }, ctx())).outcome,
      'none',
    );
    fs.writeFileSync(file, `top\n${begin}\nold\n${end}\n`);
    assert.equal(
      (await blockinfileExecutor.apply({ target_path: file, block: '' }, ctx())).outcome,
      'deleted',
    );
    assert.equal(fs.readFileSync(file, 'utf8'), 'top\n');
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'f');
    const text = `top\n${begin}\nold\n${end}\n`;
    fs.writeFileSync(file, text);
    const runs: Array<[Record<string, unknown>, string]> = [
      [{ target_path: path.join(dir, 'new'), block: 'x', create: true }, 'created'],
      [{ target_path: file, block: 'new' }, 'updated'],
      [{ target_path: file, state: 'absent' }, 'deleted'],
    ];
    for (const [params, outcome] of runs) {
      const r = await blockinfileExecutor.apply(params, ctx(true));
      assert.equal(r.outcome, outcome, r.message);
      assert.match(r.message, /^would /);
    }
    assert.deepEqual(fs.readdirSync(dir), ['f']);
    assert.equal(fs.readFileSync(file, 'utf8'), text);
    assert.deepEqual(snapshots, []);
  });

  it('fails on parameters that cannot work and on a broken block, leaving the file alone', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    const broken = `top\n${begin}\nno end marker\n`;
    fs.writeFileSync(file, broken);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target_path: file, block: 'x' }, /no "# END VIGO MANAGED BLOCK" after it/],
      [{ target_path: file, block: 'x', marker: '# managed' }, /marker must contain \{mark\}/],
      [{ target_path: file, block: `x\n${end}` }, /must not contain the marker/],
      [{ target_path: path.join(dir, 'missing'), block: 'x' }, /does not exist/],
      [
        { target_path: file, block: 'x', marker: '# {mark}', insert_after: '(' },
        /not a valid regular expression/,
      ],
    ];
    for (const [params, message] of cases) {
      const r = await blockinfileExecutor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), broken);
  });
});
