import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createSelinuxExecutor } from './selinux.ts';
import { failed, ok, unixSetup, type UnixTestSetup } from './unix-test-support.ts';

/** A stand-in selinuxfs with setenforce and setsebool that change it as the kernel would. */
function selinuxHost(s: UnixTestSetup): string {
  const sefs = s.at('/selinuxfs');
  fs.mkdirSync(`${sefs}/booleans`, { recursive: true });
  fs.writeFileSync(`${sefs}/enforce`, '0');
  fs.writeFileSync(`${sefs}/booleans/httpd_can_network_connect`, '0 0');
  fs.writeFileSync(`${sefs}/booleans/ssh_sysadm_login`, '1 1');
  s.put('/etc/selinux/config', '# SELinux\nSELINUX=permissive\nSELINUXTYPE=targeted\n');
  s.script.set('setenforce', (args) => {
    fs.writeFileSync(`${sefs}/enforce`, args[0] ?? '');
    return ok();
  });
  s.script.set('setsebool', (args) => {
    const [name, v] = args.slice(-2);
    fs.writeFileSync(`${sefs}/booleans/${name}`, v === 'on' ? '1 1' : '0 0');
    return ok();
  });
  return sefs;
}

describe('selinux executor', () => {
  it('reports skipped where SELinux is absent, and none for state disabled', async (t) => {
    const s = unixSetup(t);
    const ex = createSelinuxExecutor({ root: s.root, selinuxfs: s.at('/no-selinuxfs') });
    const r = await ex.apply({ state: 'enforcing', booleans: { httpd_can_network_connect: true } }, s.ctx());
    assert.equal(r.outcome, 'skipped');
    assert.match(r.message, /SELinux is not present on this host/);
    assert.equal((await ex.apply({ state: 'disabled' }, s.ctx())).outcome, 'none');
    assert.deepEqual(s.calls, []);
  });

  it('switches to enforcing now and at boot, sets booleans persistently, then changes nothing', async (t) => {
    const s = unixSetup(t);
    const sefs = selinuxHost(s);
    const ex = createSelinuxExecutor({ root: s.root, selinuxfs: sefs });
    const params = {
      state: 'enforcing',
      booleans: { httpd_can_network_connect: 'on', ssh_sysadm_login: true },
    };
    const dry = await ex.apply(params, s.ctx(true));
    assert.equal(dry.outcome, 'updated');
    assert.match(
      dry.message,
      /would switch to enforcing now; would update .*config: SELINUX=enforcing at boot; would set httpd_can_network_connect on/,
    );
    assert.deepEqual(s.calls, []);
    const r = await ex.apply(params, s.ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(fs.readFileSync(`${sefs}/enforce`, 'utf8'), '1');
    assert.equal(
      fs.readFileSync(s.at('/etc/selinux/config'), 'utf8'),
      '# SELinux\nSELINUX=enforcing\nSELINUXTYPE=targeted\n',
    );
    assert.deepEqual(s.calls, [
      ['setenforce', '1'],
      ['setsebool', '-P', 'httpd_can_network_connect', 'on'],
    ]);
    assert.equal((await ex.apply(params, s.ctx())).outcome, 'none');
  });

  it('makes a disabled request permissive now and disabled at boot', async (t) => {
    const s = unixSetup(t);
    const sefs = selinuxHost(s);
    fs.writeFileSync(`${sefs}/enforce`, '1');
    const ex = createSelinuxExecutor({ root: s.root, selinuxfs: sefs });
    const r = await ex.apply({ state: 'disabled' }, s.ctx());
    assert.match(
      r.message,
      /switched to permissive now \(disabled takes a reboot\).*SELINUX=disabled at boot/,
    );
    assert.equal(fs.readFileSync(`${sefs}/enforce`, 'utf8'), '0');
  });

  it('fails naming the command, refuses unknown and malformed booleans', async (t) => {
    const s = unixSetup(t);
    const sefs = selinuxHost(s);
    s.script.set('setsebool', () => failed('Could not change active booleans: Permission denied'));
    const ex = createSelinuxExecutor({ root: s.root, selinuxfs: sefs });
    const r = await ex.apply({ booleans: { httpd_can_network_connect: 'on' }, persist: false }, s.ctx());
    assert.equal(
      r.message,
      'selinux: setsebool httpd_can_network_connect on failed (exit 1): Could not change active booleans: Permission denied',
    );
    for (const params of [
      { booleans: { no_such_boolean: true } },
      { booleans: { 'x -P': true } },
      { booleans: { httpd_can_network_connect: 'maybe' } },
      { booleans: ['httpd_can_network_connect'] },
      { state: 'strict' },
      {},
    ]) {
      const bad = await ex.apply(params, s.ctx());
      assert.equal(bad.outcome, 'failed', JSON.stringify(params));
    }
    assert.equal(s.calls.length, 1);
  });
});
