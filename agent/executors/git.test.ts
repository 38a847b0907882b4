import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gitExecutor as ex } from './git.ts';
import { setup } from './test-context.ts';

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.invalid',
};

function g(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], {
    cwd,
    env,
    encoding: 'utf8',
  }).trim();
}

/** A bare repository with tag v1 (app.txt = one) and main one commit later (app.txt = two). */
function remote(dir: string): { bare: string; v1: string; main: string } {
  const bare = path.join(dir, 'remote.git');
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  g(dir, 'init', '--quiet', '--bare', bare);
  g(work, 'init', '--quiet');
  fs.writeFileSync(path.join(work, 'app.txt'), 'one\n');
  g(work, 'add', 'app.txt');
  g(work, 'commit', '--quiet', '-m', 'one');
  g(work, 'tag', '-a', 'v1', '-m', 'v1');
  const v1 = g(work, 'rev-parse', 'HEAD');
  fs.writeFileSync(path.join(work, 'app.txt'), 'two\n');
  g(work, 'commit', '--quiet', '-am', 'two');
  g(work, 'push', '--quiet', '--tags', bare, 'main');
  return { bare, v1, main: g(work, 'rev-parse', 'HEAD') };
}

describe('git executor', () => {
  it('clones at a tag, changes nothing the second time, moves to a branch and back', async (t) => {
    const { dir, ctx } = setup(t);
    const { bare, v1, main } = remote(dir);
    const dest = path.join(dir, 'srv', 'app');
    const params = { target_path: dest, repo: bare, revision: 'v1' };
    const dry = await ex.apply(params, ctx(true));
    assert.equal(dry.outcome, 'created', dry.message);
    assert.match(dry.message, new RegExp(`would clone .* at v1 \\(${v1.slice(0, 12)}\\)`));
    assert.equal(fs.existsSync(dest), false);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readFileSync(path.join(dest, 'app.txt'), 'utf8'), 'one\n');
    assert.equal(g(dest, 'rev-parse', 'HEAD'), v1);
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    const onMain = await ex.apply({ ...params, revision: 'main' }, ctx());
    assert.equal(onMain.outcome, 'updated', onMain.message);
    assert.equal(g(dest, 'rev-parse', 'HEAD'), main);
    assert.equal(g(dest, 'symbolic-ref', 'HEAD'), 'refs/heads/main');
    assert.equal(fs.readFileSync(path.join(dest, 'app.txt'), 'utf8'), 'two\n');
    // Drift: someone checks out the old commit by hand; the next run puts main back.
    g(dest, 'checkout', '--quiet', '--detach', v1);
    const back = await ex.apply({ ...params, revision: 'main' }, ctx());
    assert.equal(back.outcome, 'updated', back.message);
    assert.equal(g(dest, 'rev-parse', 'HEAD'), main);
    const byCommit = await ex.apply({ ...params, revision: v1 }, ctx());
    assert.equal(byCommit.outcome, 'updated', byCommit.message);
    assert.equal(g(dest, 'rev-parse', 'HEAD'), v1);
  });

  it('refuses to discard local changes unless force is set, and follows the remote default branch', async (t) => {
    const { dir, ctx } = setup(t);
    const { bare, main } = remote(dir);
    const dest = path.join(dir, 'app');
    const params = { target_path: dest, repo: bare };
    assert.equal((await ex.apply(params, ctx())).outcome, 'created');
    assert.equal(g(dest, 'rev-parse', 'HEAD'), main);
    fs.writeFileSync(path.join(dest, 'app.txt'), 'edited\n');
    fs.writeFileSync(path.join(dest, 'untracked.log'), 'kept\n');
    const refused = await ex.apply(params, ctx());
    assert.equal(refused.outcome, 'failed');
    assert.match(refused.message, /local changes \(force: true discards them\)/);
    assert.equal(fs.readFileSync(path.join(dest, 'app.txt'), 'utf8'), 'edited\n');
    const forced = await ex.apply({ ...params, force: true }, ctx());
    assert.equal(forced.outcome, 'updated', forced.message);
    assert.match(forced.message, /discarded local changes/);
    assert.equal(fs.readFileSync(path.join(dest, 'app.txt'), 'utf8'), 'two\n');
    assert.equal(fs.readFileSync(path.join(dest, 'untracked.log'), 'utf8'), 'kept\n');
  });

  it('fails on an unknown revision, a foreign directory and another origin, leaving nothing behind', async (t) => {
    const { dir, ctx } = setup(t);
    const { bare } = remote(dir);
    const dest = path.join(dir, 'app');
    const unknown = await ex.apply({ target_path: dest, repo: bare, revision: 'nope' }, ctx());
    assert.match(unknown.message, /has no branch or tag "nope"/);
    assert.equal(fs.existsSync(dest), false);
    const foreign = path.join(dir, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'x'), '');
    const r = await ex.apply({ target_path: foreign, repo: bare }, ctx());
    assert.match(r.message, /is not empty and is not a git checkout/);
    assert.equal((await ex.apply({ target_path: dest, repo: bare }, ctx())).outcome, 'created');
    const other = await ex.apply({ target_path: dest, repo: path.join(dir, 'work') }, ctx());
    assert.equal(other.outcome, 'failed');
    assert.match(other.message, /has origin .*remote\.git, not .*work/);
    for (const revision of ['--upload-pack=x', 'a..b']) {
      const bad = await ex.apply({ target_path: dest, repo: bare, revision }, ctx());
      assert.match(bad.message, /is not a branch, tag or commit id/);
    }
  });

  it('keeps credentials in a URL off messages and out of .git/config', async (t) => {
    const { dir, ctx } = setup(t);
    const dest = path.join(dir, 'app');
    // Nothing listens on port 9 of loopback: the clone fails at once.
    const r = await ex.apply(
      { target_path: dest, repo: 'http://deploy:s3cr3t-token@127.0.0.1:9/app.git', timeout: 30 },
      ctx(),
    );
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /git ls-remote -- http:\/\/127\.0\.0\.1:9\/app\.git HEAD/);
    assert.doesNotMatch(r.message, /s3cr3t|deploy/);
    assert.equal(fs.existsSync(dest), false);
  });
});
