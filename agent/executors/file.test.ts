import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import { createFileExecutor, fileExecutor } from './file.ts';
import { setup } from './test-context.ts';

function modeOf(p: string): number {
  return fs.statSync(p).mode & 0o7777;
}

describe('file executor', () => {
  it('creates a file with content, owner, group and mode, then changes nothing', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const target = path.join(dir, 'motd');
    const params = { target_path: target, content: 'hello\n', owner: 'nobody', group: 65534, mode: '0640' };
    const first = await fileExecutor.apply(params, ctx());
    assert.equal(first.outcome, 'created', first.message);
    assert.equal(fs.readFileSync(target, 'utf8'), 'hello\n');
    assert.equal(modeOf(target), 0o640);
    assert.equal(fs.statSync(target).uid, 65534);
    assert.equal(fs.statSync(target).gid, 65534);
    const second = await fileExecutor.apply(params, ctx());
    assert.equal(second.outcome, 'none', second.message);
    assert.deepEqual(snapshots, []);
  });

  it('corrects drifted content and attributes, snapshotting first', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const target = path.join(dir, 'conf');
    fs.writeFileSync(target, 'old\n', { mode: 0o600 });
    const r = await fileExecutor.apply({ target_path: target, content: 'new\n', mode: '0644' }, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /content/);
    assert.match(r.message, /mode 0600 -> 0644/);
    assert.equal(fs.readFileSync(target, 'utf8'), 'new\n');
    assert.equal(modeOf(target), 0o644);
    assert.deepEqual(snapshots, [target]);
  });

  it('reports an attributes-only change as updated, naming what changed, and keeps the bytes', async (t) => {
    const { dir, ctx } = setup(t);
    const target = path.join(dir, 'keep');
    fs.writeFileSync(target, 'same', { mode: 0o644 });
    const r = await fileExecutor.apply({ target_path: target, content: 'same', owner: 65534 }, ctx());
    assert.equal(r.outcome, 'updated');
    assert.match(r.message, /owner uid 0 -> 65534/);
    assert.doesNotMatch(r.message, /content/);
    assert.equal(fs.statSync(target).uid, 65534);
  });

  it('without content or source creates an empty file and later manages attributes only', async (t) => {
    const { dir, ctx } = setup(t);
    const target = path.join(dir, 'empty');
    assert.equal((await fileExecutor.apply({ target_path: target }, ctx())).outcome, 'created');
    assert.equal(fs.readFileSync(target, 'utf8'), '');
    fs.writeFileSync(target, 'written by someone else');
    assert.equal((await fileExecutor.apply({ target_path: target }, ctx())).outcome, 'none');
    assert.equal(fs.readFileSync(target, 'utf8'), 'written by someone else');
  });

  it('deletes with state absent after a snapshot, and then has nothing to do', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const target = path.join(dir, 'gone');
    fs.writeFileSync(target, 'x');
    const r = await fileExecutor.apply({ target_path: target, state: 'absent' }, ctx());
    assert.equal(r.outcome, 'deleted');
    assert.equal(fs.existsSync(target), false);
    assert.deepEqual(snapshots, [target]);
    assert.equal((await fileExecutor.apply({ target_path: target, state: 'absent' }, ctx())).outcome, 'none');
  });

  it('changes nothing in dry-run mode but reports what it would do', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const fresh = path.join(dir, 'fresh');
    const drifted = path.join(dir, 'drifted');
    fs.writeFileSync(drifted, 'old', { mode: 0o600 });
    const created = await fileExecutor.apply({ target_path: fresh, content: 'x' }, ctx(true));
    assert.equal(created.outcome, 'created');
    assert.match(created.message, /^would create/);
    assert.equal(fs.existsSync(fresh), false);
    const updated = await fileExecutor.apply(
      { target_path: drifted, content: 'new', mode: '0644' },
      ctx(true),
    );
    assert.equal(updated.outcome, 'updated');
    assert.match(updated.message, /^would update/);
    const deleted = await fileExecutor.apply({ target_path: drifted, state: 'absent' }, ctx(true));
    assert.equal(deleted.outcome, 'deleted');
    assert.match(deleted.message, /^would delete/);
    assert.equal(fs.readFileSync(drifted, 'utf8'), 'old');
    assert.equal(modeOf(drifted), 0o600);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['drifted']);
    assert.deepEqual(snapshots, []);
  });

  it('fails on parameters the schema lets through but that cannot work', async (t) => {
    const { dir, ctx } = setup(t);
    const target = path.join(dir, 'f');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target_path: 'etc/motd', content: 'x' }, /must be absolute/],
      [{ target_path: target, content: 'x', source: '/etc/hostname' }, /content or source, not both/],
      [{ target_path: target, content: 'x', owner: 'no-such-user-vigo' }, /unknown user "no-such-user-vigo"/],
      [{ target_path: target, content: 'x', group: 'no-such-group-vigo' }, /unknown group/],
      [{ target_path: target, content: 'x', mode: '0999' }, /octal/],
      [{ target_path: target, source: 'http://example.com/x' }, /plain http is refused/],
      [{ target_path: target, source: 'relative/file' }, /absolute path, a file:\/\/ URL or an https/],
      [{ target_path: target, source: path.join(dir, 'missing') }, /does not exist/],
      [{ target_path: dir, content: 'x' }, /not a regular file/],
      [{ target_path: path.join(dir, 'no-dir', 'f'), content: 'x' }, /directory .* does not exist/],
      [{ target_path: dir, state: 'absent' }, /is a directory/],
    ];
    for (const [params, message] of cases) {
      const r = await fileExecutor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(fs.existsSync(target), false);
  });

  it('keeps <path>.vigo-bak with the previous content when backup is true', async (t) => {
    const { dir, ctx } = setup(t);
    const target = path.join(dir, 'app.conf');
    fs.writeFileSync(target, 'v1\n', { mode: 0o640 });
    await fileExecutor.apply({ target_path: target, content: 'v2\n', backup: true }, ctx());
    assert.equal(fs.readFileSync(`${target}.vigo-bak`, 'utf8'), 'v1\n');
    assert.equal(modeOf(`${target}.vigo-bak`), 0o640);
    assert.equal(modeOf(target), 0o640);
    await fileExecutor.apply({ target_path: target, content: 'v3\n' }, ctx());
    assert.equal(fs.readFileSync(`${target}.vigo-bak`, 'utf8'), 'v1\n', 'no backup without backup: true');
    await fileExecutor.apply({ target_path: target, state: 'absent', backup: true }, ctx());
    assert.equal(fs.existsSync(target), false);
    assert.equal(
      fs.readFileSync(`${target}.vigo-bak`, 'utf8'),
      'v3\n',
      'a delete keeps the last version too',
    );
  });

  it('reads a source from an absolute path and from a file:// URL', async (t) => {
    const { dir, ctx } = setup(t);
    const src = path.join(dir, 'src.bin');
    fs.writeFileSync(src, Buffer.from([0, 1, 2, 255]));
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    assert.equal((await fileExecutor.apply({ target_path: a, source: src }, ctx())).outcome, 'created');
    const url = pathToFileURL(src).href;
    assert.equal((await fileExecutor.apply({ target_path: b, source: url }, ctx())).outcome, 'created');
    assert.deepEqual(fs.readFileSync(a), Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(fs.readFileSync(b), Buffer.from([0, 1, 2, 255]));
    assert.equal((await fileExecutor.apply({ target_path: b, source: url }, ctx())).outcome, 'none');
  });

  it('writes through a symlink to the file it points to, keeping the link', async (t) => {
    const { dir, ctx } = setup(t);
    const real = path.join(dir, 'real');
    const link = path.join(dir, 'link');
    fs.writeFileSync(real, 'old');
    fs.symlinkSync(real, link);
    assert.equal((await fileExecutor.apply({ target_path: link, content: 'new' }, ctx())).outcome, 'updated');
    assert.equal(fs.lstatSync(link).isSymbolicLink(), true);
    assert.equal(fs.readFileSync(real, 'utf8'), 'new');
    assert.equal(
      (await fileExecutor.apply({ target_path: link, state: 'absent' }, ctx())).outcome,
      'deleted',
    );
    assert.equal(fs.existsSync(link), false);
    assert.equal(fs.readFileSync(real, 'utf8'), 'new', 'absent removes the link, not what it points to');
  });

  it('downloads an https source with a trusted CA, and fails on HTTP errors and unreachable hosts', async (t) => {
    const { dir, ctx } = setup(t);
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const gen = await runCommand('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    assert.equal(gen.exitCode, 0, gen.stderr);
    const server = https.createServer(
      { key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
      (req, res) => {
        const route = req.url?.split('?')[0];
        if (route === '/file.txt') res.end('downloaded\n');
        else if (route === '/moved') res.writeHead(302, { location: '/file.txt' }).end();
        else res.writeHead(404).end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const executor = createFileExecutor({ ca: fs.readFileSync(cert), fetchTimeoutMs: 5000 });
    const target = path.join(dir, 'dl');
    const r = await executor.apply({ target_path: target, source: `${base}/moved?token=abc` }, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readFileSync(target, 'utf8'), 'downloaded\n');
    assert.equal(
      (await executor.apply({ target_path: target, source: `${base}/file.txt` }, ctx())).outcome,
      'none',
    );
    const notFound = await executor.apply(
      { target_path: target, source: `${base}/nope?secret=s3cr3t` },
      ctx(),
    );
    assert.equal(notFound.outcome, 'failed');
    assert.match(notFound.message, /HTTP 404/);
    assert.doesNotMatch(notFound.message, /s3cr3t/);
    const untrusted = await fileExecutor.apply({ target_path: target, source: `${base}/file.txt` }, ctx());
    assert.equal(untrusted.outcome, 'failed', 'the system CA list does not trust a self-signed certificate');
    const closed = await executor.apply({ target_path: target, source: 'https://127.0.0.1:1/x' }, ctx());
    assert.equal(closed.outcome, 'failed');
    assert.match(closed.message, /downloading https:\/\/127\.0\.0\.1:1\/x failed/);
    assert.equal(fs.readFileSync(target, 'utf8'), 'downloaded\n');
  });
});
