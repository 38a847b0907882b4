import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileLineExecutor } from './file-line.ts';
import { setup } from './test-context.ts';

const sshd = '# sshd\nPort 22\nPermitRootLogin yes\nUsePAM yes\n';

describe('file_line executor', () => {
  it('creates the file with create: true, then changes nothing', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'new.conf');
    const params = { target_path: file, line: 'enabled=1', create: true, mode: '0600' };
    const r = await fileLineExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readFileSync(file, 'utf8'), 'enabled=1\n');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal((await fileLineExecutor.apply(params, ctx())).outcome, 'none');
  });

  it('replaces the last line matching `match`, snapshotting first, and is then idempotent', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'sshd_config');
    fs.writeFileSync(file, `${sshd}PermitRootLogin prohibit-password\n`);
    const params = { target_path: file, match: '^PermitRootLogin ', line: 'PermitRootLogin no' };
    const r = await fileLineExecutor.apply(params, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(r.message.includes('PermitRootLogin no'), false, 'line text stays out of messages');
    assert.equal(fs.readFileSync(file, 'utf8'), `${sshd}PermitRootLogin no\n`);
    assert.deepEqual(snapshots, [file]);
    assert.equal((await fileLineExecutor.apply(params, ctx())).outcome, 'none');
  });

  it('inserts after / before anchors, with EOF and BOF keywords, or at the end without a match', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, sshd);
    await fileLineExecutor.apply({ target_path: file, line: 'Port 2222', insert_after: '^Port ' }, ctx());
    await fileLineExecutor.apply({ target_path: file, line: '# managed', insert_before: 'BOF' }, ctx());
    await fileLineExecutor.apply(
      { target_path: file, line: 'X11Forwarding no', insert_before: '^UsePAM' },
      ctx(),
    );
    await fileLineExecutor.apply({ target_path: file, line: 'Last 1', insert_after: 'EOF' }, ctx());
    await fileLineExecutor.apply(
      { target_path: file, line: 'Unanchored 1', insert_after: '^NoSuchLine' },
      ctx(),
    );
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      '# managed\n# sshd\nPort 22\nPort 2222\nPermitRootLogin yes\nX11Forwarding no\nUsePAM yes\nLast 1\nUnanchored 1\n',
    );
  });

  it('terminates a last line that had no newline before appending', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'a');
    assert.equal((await fileLineExecutor.apply({ target_path: file, line: 'b' }, ctx())).outcome, 'updated');
    assert.equal(fs.readFileSync(file, 'utf8'), 'a\nb\n');
  });

  it('state absent removes lines matching `match` (or equal to `line`) as deleted', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'keep\nbad 1\nbad 2\nexact\n');
    const byMatch = await fileLineExecutor.apply(
      { target_path: file, match: '^bad', state: 'absent' },
      ctx(),
    );
    assert.equal(byMatch.outcome, 'deleted', byMatch.message);
    assert.match(byMatch.message, /removed 2 line/);
    const byLine = await fileLineExecutor.apply({ target_path: file, line: 'exact', state: 'absent' }, ctx());
    assert.equal(byLine.outcome, 'deleted');
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep\n');
    assert.equal(
      (await fileLineExecutor.apply({ target_path: file, line: 'exact', state: 'absent' }, ctx())).outcome,
      'none',
    );
    const missing = path.join(dir, 'missing');
    assert.equal(
      (await fileLineExecutor.apply({ target_path: missing, line: 'x', state: 'absent' }, ctx())).outcome,
      'none',
    );
  });

  it('changes nothing in dry-run mode', async (t) => {
    const { dir, snapshots, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, sshd, { mode: 0o644 });
    const runs: Array<[Record<string, unknown>, string]> = [
      [{ target_path: path.join(dir, 'new'), line: 'x', create: true }, 'created'],
      [{ target_path: file, match: '^Port', line: 'Port 2' }, 'updated'],
      [{ target_path: file, line: 'Port 22', mode: '0600' }, 'updated'],
      [{ target_path: file, match: '^Use', state: 'absent' }, 'deleted'],
    ];
    for (const [params, outcome] of runs) {
      const r = await fileLineExecutor.apply(params, ctx(true));
      assert.equal(r.outcome, outcome, r.message);
      assert.match(r.message, /^would /);
    }
    assert.deepEqual(fs.readdirSync(dir), ['f']);
    assert.equal(fs.readFileSync(file, 'utf8'), sshd);
    assert.equal(fs.statSync(file).mode & 0o777, 0o644);
    assert.deepEqual(snapshots, []);
  });

  it('fails on parameters that cannot work, leaving the file alone', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, sshd);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ target_path: path.join(dir, 'missing'), line: 'x' }, /does not exist \(set create: true/],
      [{ target_path: file, line: 'x', match: '(' }, /match is not a valid regular expression/],
      [{ target_path: file, line: 'x', insert_after: '[' }, /insert_after is not a valid regular expression/],
      [{ target_path: file, line: 'x', insert_after: 'a', insert_before: 'b' }, /not both/],
      [{ target_path: file, match: '^Port' }, /line is required/],
      [{ target_path: file, state: 'absent' }, /needs match or line/],
      [{ target_path: file, line: 'a\nb' }, /single line/],
      [{ target_path: dir, line: 'x' }, /not a regular file/],
    ];
    for (const [params, message] of cases) {
      const r = await fileLineExecutor.apply(params, ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.match(r.message, message);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), sshd);
  });

  it('refuses to edit a file that is not UTF-8 text', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'latin1');
    const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]);
    fs.writeFileSync(file, bytes);
    const r = await fileLineExecutor.apply({ target_path: file, line: 'x' }, ctx());
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /not valid UTF-8/);
    assert.deepEqual(fs.readFileSync(file), bytes);
  });
});
