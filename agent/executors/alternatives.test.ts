import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createAlternativesExecutor } from './alternatives.ts';
import { findExecutable } from './exec.ts';
import { failed, unixSetup, type UnixTestSetup } from './unix-test-support.ts';

const skip = findExecutable('update-alternatives') === undefined && 'update-alternatives is not installed';

/** A temp root with the alternatives directories and two editors; the link lives in the root too. */
function tree(s: UnixTestSetup): { vim: string; nano: string; link: string } {
  fs.mkdirSync(s.at('/etc/alternatives'), { recursive: true });
  fs.mkdirSync(s.at('/var/lib/dpkg/alternatives'), { recursive: true });
  fs.mkdirSync(s.at('/usr/bin'), { recursive: true });
  const vim = s.put('/opt/vim', '#!/bin/sh\n');
  const nano = s.put('/opt/nano', '#!/bin/sh\n');
  fs.chmodSync(vim, 0o755);
  fs.chmodSync(nano, 0o755);
  return { vim, nano, link: s.at('/usr/bin/editor') };
}

describe('alternatives executor', { skip }, () => {
  it('installs and selects an alternative with update-alternatives in a temp root, then changes nothing', async (t) => {
    const s = unixSetup(t);
    const { vim, nano, link } = tree(s);
    const ex = createAlternativesExecutor({ root: s.root });
    const low = await ex.apply(
      { name: 'myeditor', target_path: nano, link, priority: 10, state: 'present' },
      s.ctx(),
    );
    assert.equal(low.outcome, 'created', low.message);
    const params = { name: 'myeditor', path: vim, link, priority: 20 };
    const dry = await ex.apply({ ...params, priority: 5 }, s.ctx(true));
    assert.equal(dry.message, `would install ${vim} (priority 5), select ${vim} for myeditor`);
    const r = await ex.apply({ ...params, priority: 5 }, s.ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readlinkSync(s.at('/etc/alternatives/myeditor')), vim);
    assert.equal(fs.readlinkSync(link), s.at('/etc/alternatives/myeditor'));
    assert.equal((await ex.apply({ ...params, priority: 5 }, s.ctx())).outcome, 'none');
    const auto = await ex.apply({ name: 'myeditor', path: nano, state: 'auto', priority: 10 }, s.ctx());
    assert.equal(auto.outcome, 'updated', auto.message);
    assert.equal(
      fs.readlinkSync(s.at('/etc/alternatives/myeditor')),
      nano,
      'auto mode picks the highest priority',
    );
    const gone = await ex.apply({ name: 'myeditor', path: vim, state: 'absent' }, s.ctx());
    assert.equal(gone.outcome, 'deleted', gone.message);
    assert.equal((await ex.apply({ name: 'myeditor', path: vim, state: 'absent' }, s.ctx())).outcome, 'none');
  });

  it('needs link to create a group, and names the command that fails', async (t) => {
    const s = unixSetup(t);
    const { vim, link } = tree(s);
    const ex = createAlternativesExecutor({ root: s.root });
    const noLink = await ex.apply({ name: 'newgroup', path: vim }, s.ctx());
    assert.match(noLink.message, /the group does not exist yet; set link/);
    s.script.set('update-alternatives', (args) =>
      args.includes('--install') ? failed("error: alternative path /x doesn't exist") : undefined,
    );
    const r = await ex.apply({ name: 'newgroup', path: vim, link }, s.ctx());
    assert.equal(r.outcome, 'failed');
    assert.match(
      r.message,
      /^alternatives newgroup: .*update-alternatives --altdir .* --install .*failed \(exit 1\): error: alternative path/,
    );
  });

  it('refuses names and paths that are not an alternatives group and an absolute path', async (t) => {
    const s = unixSetup(t);
    const ex = createAlternativesExecutor({ root: s.root });
    for (const params of [
      { name: '--all', path: '/usr/bin/vim' },
      { name: 'editor', path: 'vim' },
      { name: 'editor' },
      { name: 'editor', path: '/usr/bin/vim', priority: 'high' },
      { name: 'editor', path: '/usr/bin/vim', state: 'manual' },
      { name: '../x', path: '/usr/bin/vim' },
    ]) {
      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
    }
    assert.deepEqual(s.calls, []);
  });
});
