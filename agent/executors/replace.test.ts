import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { replaceExecutor } from './replace.ts';
import { setup } from './test-context.ts';

const config = 'listen 80;\nserver_name old.example.com;\nlisten 8080;\n';

describe('replace executor', () => {
  it('replaces every match line by line with $1 groups, then changes nothing', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'nginx.conf');
    fs.writeFileSync(file, config);
    const params = { target_path: file, pattern: '^listen (\\d+);$', replacement: 'listen [::]:$1;' };
    const r = await replaceExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /replaced 2 match/);
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      'listen [::]:80;\nserver_name old.example.com;\nlisten [::]:8080;\n',
    );
    assert.deepEqual(snapshots, [file]);
    assert.equal((await replaceExecutor.apply(params, ctx())).outcome, 'none');
  });

  it('corrects drift again after someone reverts the file, and applies owner and mode', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'debug=true\n', { mode: 0o666 });
    const params = {
      target_path: file,
      pattern: '^debug=.*$',
      replacement: 'debug=false',
      mode: '0640',
      owner: 65534,
    };
    assert.equal((await replaceExecutor.apply(params, ctx())).outcome, 'updated');
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    assert.equal(fs.statSync(file).uid, 65534);
    fs.writeFileSync(file, 'debug=true\n');
    assert.equal((await replaceExecutor.apply(params, ctx())).outcome, 'updated');
    assert.equal(fs.readFileSync(file, 'utf8'), 'debug=false\n');
  });

  it('changes nothing when the pattern does not match', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, config);
    const r = await replaceExecutor.apply(
      { target_path: file, pattern: '^nomatch', replacement: 'x' },
      ctx(),
    );
    assert.equal(r.outcome, 'none');
    assert.equal(fs.readFileSync(file, 'utf8'), config);
    assert.deepEqual(snapshots, []);
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, config);
    const r = await replaceExecutor.apply(
      { target_path: file, pattern: 'old', replacement: 'new' },
      ctx(true),
    );
    assert.equal(r.outcome, 'updated');
    assert.match(r.message, /^would update/);
    assert.equal(fs.readFileSync(file, 'utf8'), config);
    assert.deepEqual(snapshots, []);
  });

  it('fails on parameters that cannot work, leaving the file alone', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, config);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target_path: file, pattern: '(', replacement: 'x' }, /pattern is not a valid regular expression/],
      [{ target_path: file, pattern: 'listen' }, /replacement is required/],
      [{ target_path: file, pattern: 'listen', replacement: 'listen listen' }, /matches its own replacement/],
      [{ target_path: path.join(dir, 'missing'), pattern: 'a', replacement: 'b' }, /does not exist/],
      [{ target_path: file, pattern: 'a', replacement: 'b', mode: 'rw-r--r--' }, /octal/],
    ];
    for (const [params, message] of cases) {
      const r = await replaceExecutor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), config);
  });
});
