import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createSshkeyExecutor, parseAuthorizedKey } from './sshkey.ts';
import { setup } from './test-context.ts';

const alice = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxA1iceKeyMaterialOnlyForTests000000000000 alice@laptop';
const bob = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQBobKeyMaterialForTestsOnly== bob@desk';

describe('sshkey executor', () => {
  it('creates ~/.ssh 0700 and authorized_keys 0600 for a user, then changes nothing', async (t) => {
    const { dir, ctx } = setup(t);
    const home = path.join(dir, 'home', 'alice');
    fs.mkdirSync(home, { recursive: true });
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const ex = createSshkeyExecutor({
      lookupUser: async (_run, name) =>
        name === 'alice' ? { name, uid, gid, gecos: '', home, shell: '/bin/sh' } : undefined,
    });
    const params = { user: 'alice', key: alice };
    const dry = await ex.apply(params, ctx(true));
    assert.equal(dry.outcome, 'created', dry.message);
    assert.match(dry.message, /would create .*would create .*\.ssh 0700/);
    assert.equal(fs.existsSync(path.join(home, '.ssh')), false);
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'created', r.message);
    const file = path.join(home, '.ssh', 'authorized_keys');
    assert.equal(fs.readFileSync(file, 'utf8'), `${alice}\n`);
    assert.equal(fs.statSync(path.join(home, '.ssh')).mode & 0o777, 0o700);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    const unknown = await ex.apply({ user: 'mallory', key: alice }, ctx());
    assert.equal(unknown.outcome, 'failed');
    assert.match(unknown.message, /unknown user "mallory"/);
  });

  it('updates options and comment of the same key in place and keeps other entries', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'authorized_keys');
    fs.writeFileSync(file, `# managed elsewhere\n${bob}\n${alice}\n`);
    const ex = createSshkeyExecutor();
    const params = { target_path: file, key: alice, options: 'from="10.0.0.0/8",no-pty', comment: 'alice' };
    const r = await ex.apply(params, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    const [, key] = alice.split(' ');
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      `# managed elsewhere\n${bob}\nfrom="10.0.0.0/8",no-pty ssh-ed25519 ${key} alice\n`,
    );
    assert.equal((await ex.apply(params, ctx())).outcome, 'none');
    const parsed = parseAuthorizedKey('command="echo a b",no-pty ssh-ed25519 AAAA x y');
    assert.deepEqual(parsed, {
      options: 'command="echo a b",no-pty',
      keyType: 'ssh-ed25519',
      blob: 'AAAA',
      comment: 'x y',
    });
  });

  it('exclusive removes every other key; absent removes only the managed one', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'authorized_keys');
    fs.writeFileSync(file, `${bob}\n${alice}\n`);
    const ex = createSshkeyExecutor();
    const r = await ex.apply({ target_path: file, key: alice, exclusive: true }, ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.match(r.message, /removed 1 other key/);
    assert.equal(fs.readFileSync(file, 'utf8'), `${alice}\n`);
    fs.writeFileSync(file, `${bob}\n${alice}\n`);
    const gone = await ex.apply({ target_path: file, key: alice, state: 'absent' }, ctx());
    assert.equal(gone.outcome, 'deleted', gone.message);
    assert.equal(fs.readFileSync(file, 'utf8'), `${bob}\n`);
    assert.equal((await ex.apply({ target_path: file, key: alice, state: 'absent' }, ctx())).outcome, 'none');
  });

  it('refuses a line that is not a public key, and multi-line input', async (t) => {
    const { dir, ctx } = setup(t);
    const file = path.join(dir, 'authorized_keys');
    fs.writeFileSync(file, `${bob}\n`);
    const ex = createSshkeyExecutor();
    for (const key of ['-----BEGIN OPENSSH PRIVATE KEY-----', `${alice}\n${bob}`, 'ssh-ed25519 not*base64']) {
      const r = await ex.apply({ target_path: file, key }, ctx());
      assert.equal(r.outcome, 'failed', key);
    }
    const noTarget = await ex.apply({ key: alice }, ctx());
    assert.match(noTarget.message, /set user .* or target_path/);
    assert.equal(fs.readFileSync(file, 'utf8'), `${bob}\n`);
  });
});
