import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { jsonFileExecutor, parseKeyPath } from './json-file.ts';
import { setup } from './test-context.ts';

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

describe('json_file executor', () => {
  it('parses dotted key paths with \\. and \\\\ escapes', () => {
    assert.deepEqual(parseKeyPath('a.b.c'), ['a', 'b', 'c']);
    assert.deepEqual(parseKeyPath('a\\.b.c'), ['a.b', 'c']);
    assert.deepEqual(parseKeyPath('a\\\\.b'), ['a\\', 'b']);
  });

  it('creates the file with nested objects, 2-space indented with a final newline, then changes nothing', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'daemon.json');
    const params = { target_path: file, key: 'log.opts.max-size', value: '10m', create: true };
    const r = await jsonFileExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      '{\n  "log": {\n    "opts": {\n      "max-size": "10m"\n    }\n  }\n}\n',
    );
    assert.equal((await jsonFileExecutor.apply(params, ctx())).outcome, 'none');
  });

  it('corrects a drifted value, keeping the rest of the document', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'cfg.json');
    fs.writeFileSync(file, '{"keep":[1,2],"server":{"port":80,"host":"a"}}');
    const r = await jsonFileExecutor.apply({ target_path: file, key: 'server.port', value: 8080 }, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(r.message.includes('8080'), false, 'values stay out of messages');
    assert.deepEqual(readJson(file), { keep: [1, 2], server: { port: 8080, host: 'a' } });
    assert.deepEqual(snapshots, [file]);
    const objectValue = { a: [1, { b: null }] };
    assert.equal(
      (await jsonFileExecutor.apply({ target_path: file, key: 'obj', value: objectValue }, ctx())).outcome,
      'updated',
    );
    assert.equal(
      (await jsonFileExecutor.apply({ target_path: file, key: 'obj', value: { a: [1, { b: null }] } }, ctx()))
        .outcome,
      'none',
    );
  });

  it('leaves a file that already holds the value byte for byte, whatever its formatting', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'cfg.json');
    fs.writeFileSync(file, '{"a":{"b":true}}');
    assert.equal(
      (await jsonFileExecutor.apply({ target_path: file, key: 'a.b', value: true }, ctx())).outcome,
      'none',
    );
    assert.equal(fs.readFileSync(file, 'utf8'), '{"a":{"b":true}}');
  });

  it('sets array elements by index and keys containing dots', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'cfg.json');
    fs.writeFileSync(file, '{"servers":[{"port":1},{"port":2}]}');
    await jsonFileExecutor.apply({ target_path: file, key: 'servers.1.port', value: 22 }, ctx());
    await jsonFileExecutor.apply({ target_path: file, key: 'servers.2', value: { port: 3 } }, ctx());
    await jsonFileExecutor.apply({ target_path: file, key: 'example\\.com.ttl', value: 60 }, ctx());
    assert.deepEqual(readJson(file), {
      servers: [{ port: 1 }, { port: 22 }, { port: 3 }],
      'example.com': { ttl: 60 },
    });
  });

  it('stores a key named __proto__ as data, never touching prototypes', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'cfg.json');
    fs.writeFileSync(file, '{}');
    await jsonFileExecutor.apply({ target_path: file, key: '__proto__.polluted', value: 'yes' }, ctx());
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(fs.readFileSync(file, 'utf8'), '{\n  "__proto__": {\n    "polluted": "yes"\n  }\n}\n');
  });

  it('state absent removes the key as deleted', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'cfg.json');
    fs.writeFileSync(file, '{"a":{"b":1,"c":2},"list":[1,2,3]}');
    const r = await jsonFileExecutor.apply({ target_path: file, key: 'a.b', state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted', r.message);
    await jsonFileExecutor.apply({ target_path: file, key: 'list.0', state: 'absent' }, ctx());
    assert.deepEqual(readJson(file), { a: { c: 2 }, list: [2, 3] });
    assert.equal(
      (await jsonFileExecutor.apply({ target_path: file, key: 'a.b', state: 'absent' }, ctx())).outcome,
      'none',
    );
    assert.equal(
      (await jsonFileExecutor.apply({ target_path: file, key: 'x.y.z', state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'cfg.json');
    const text = '{"a":1}';
    fs.writeFileSync(file, text);
    const runs: Array<[Record<string, unknown>, string]> = [
      [{ target_path: path.join(dir, 'new.json'), key: 'a', value: 1, create: true }, 'created'],
      [{ target_path: file, key: 'a', value: 2 }, 'updated'],
      [{ target_path: file, key: 'a', state: 'absent' }, 'deleted'],
    ];
    for (const [params, outcome] of runs) {
      const r = await jsonFileExecutor.apply(params, ctx(true));
      assert.equal(r.outcome, outcome, r.message);
      assert.match(r.message, /^would /);
    }
    assert.deepEqual(fs.readdirSync(dir), ['cfg.json']);
    assert.equal(fs.readFileSync(file, 'utf8'), text);
    assert.deepEqual(snapshots, []);
  });

  it('never overwrites invalid JSON and fails on parameters that cannot work', async (t) => {
    const { dir, ctx } = setup(t);
    const bad = path.join(dir, 'bad.json');
    const good = path.join(dir, 'good.json');
    fs.writeFileSync(bad, '{"a": 1,');
    fs.writeFileSync(good, '{"a":"text","arr":[1]}');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target_path: bad, key: 'a', value: 2 }, /not valid JSON .* will not be overwritten/],
      [{ target_path: bad, key: 'a', state: 'absent' }, /not valid JSON/],
      [{ target_path: good, key: 'a.b', value: 1 }, /^a is a string, not an object/],
      [{ target_path: good, key: 'arr.5', value: 1 }, /index 5 is out of range/],
      [{ target_path: good, key: 'arr.x', value: 1 }, /"x" is not an index/],
      [{ target_path: good, key: 'a..b', value: 1 }, /empty segment/],
      [{ target_path: good, key: 'a' }, /value is required/],
      [{ target_path: path.join(dir, 'missing.json'), key: 'a', value: 1 }, /does not exist/],
    ];
    for (const [params, message] of cases) {
      const r = await jsonFileExecutor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(fs.readFileSync(bad, 'utf8'), '{"a": 1,');
    assert.equal(fs.readFileSync(good, 'utf8'), '{"a":"text","arr":[1]}');
  });
});
