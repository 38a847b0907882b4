import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { findExecutable } from './exec.ts';
import { createTmpfileExecutor } from './tmpfile.ts';
import { failed, unixSetup } from './unix-test-support.ts';

const tmpfiles = findExecutable('systemd-tmpfiles');

describe('tmpfile executor', () => {
  it(
    'writes the rule and creates the directory with systemd-tmpfiles, then changes nothing',
    { skip: tmpfiles === undefined && 'systemd-tmpfiles is not installed' },
    async (t) => {
      const s = unixSetup(t);
      const ex = createTmpfileExecutor({ root: s.root });
      const params = {
        name: 'myapp-runtime',
        target_path: '/run/myapp',
        entry_type: 'd',
        mode: '0750',
        age: '10d',
      };
      const dry = await ex.apply(params, s.ctx(true));
      assert.equal(dry.outcome, 'created', dry.message);
      assert.match(dry.message, /would run systemd-tmpfiles --create/);
      assert.equal(fs.existsSync(s.at('/etc/tmpfiles.d')), false);

      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'created', r.message);
      assert.equal(
        fs.readFileSync(s.at('/etc/tmpfiles.d/myapp-runtime.conf'), 'utf8'),
        'd /run/myapp 0750 - - 10d\n',
      );
      const st = fs.statSync(s.at('/run/myapp'));
      assert.ok(st.isDirectory());
      assert.equal(st.mode & 0o7777, 0o750);
      assert.equal((await ex.apply(params, s.ctx())).outcome, 'none');

      // The path goes missing while the rule stays: it is created again.
      fs.rmdirSync(s.at('/run/myapp'));
      const again = await ex.apply(params, s.ctx());
      assert.equal(again.outcome, 'updated', again.message);
      assert.match(again.message, /\/run\/myapp is missing/);
      assert.ok(fs.statSync(s.at('/run/myapp')).isDirectory());
    },
  );

  it('writes file and symlink rules with their argument, and removes the rule with state absent', async (t) => {
    const s = unixSetup(t);
    const ex = createTmpfileExecutor({ root: s.root, tmpfilesPath: '/nonexistent/systemd-tmpfiles' });
    s.script.set('systemd-tmpfiles', () => {
      fs.mkdirSync(s.at('/etc'), { recursive: true });
      fs.symlinkSync('/usr/share/zoneinfo/UTC', s.at('/etc/localtime-link'));
      return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
    });
    const link = {
      name: 'tz',
      path: '/etc/localtime-link',
      entry_type: 'L+',
      argument: '/usr/share/zoneinfo/UTC',
    };
    const r = await ex.apply(link, s.ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(
      fs.readFileSync(s.at('/etc/tmpfiles.d/tz.conf'), 'utf8'),
      'L+ /etc/localtime-link - - - - /usr/share/zoneinfo/UTC\n',
    );
    assert.deepEqual(s.calls, [
      ['/nonexistent/systemd-tmpfiles', `--root=${s.root}`, '--create', s.at('/etc/tmpfiles.d/tz.conf')],
    ]);
    const gone = await ex.apply({ name: 'tz', state: 'absent' }, s.ctx());
    assert.equal(gone.outcome, 'deleted');
    assert.equal(fs.existsSync(s.at('/etc/tmpfiles.d/tz.conf')), false);
    assert.ok(fs.lstatSync(s.at('/etc/localtime-link')).isSymbolicLink(), 'the path itself is left alone');
  });

  it('fails naming the resource and command when systemd-tmpfiles fails or creates nothing', async (t) => {
    const s = unixSetup(t);
    const ex = createTmpfileExecutor({ root: s.root, tmpfilesPath: 'systemd-tmpfiles' });
    s.script.set('systemd-tmpfiles', () => failed('Failed to parse line'));
    const r = await ex.apply({ name: 'app', path: '/run/app' }, s.ctx());
    assert.equal(r.outcome, 'failed');
    assert.match(
      r.message,
      /^tmpfile app: systemd-tmpfiles --root=.* --create .*app\.conf failed \(exit 1\): Failed to parse line/,
    );
    s.script.set('systemd-tmpfiles', () => ({ exitCode: 0, stdout: '', stderr: '', timedOut: false }));
    const nothing = await ex.apply({ name: 'app', path: '/run/app' }, s.ctx());
    assert.match(nothing.message, /ran but \/run\/app still does not exist/);
  });

  it('refuses fields that would break or inject into the tmpfiles.d line', async (t) => {
    const s = unixSetup(t);
    const ex = createTmpfileExecutor({ root: s.root, tmpfilesPath: 'systemd-tmpfiles' });
    for (const params of [
      { name: 'a', path: '/run/a b' },
      { name: 'a', path: 'run/a' },
      { name: 'a', path: '/run/a', mode: '0755 root' },
      { name: 'a', path: '/run/a', user: 'root\nd /etc' },
      { name: 'a', path: '/run/a', age: 'forever' },
      { name: 'a', path: '/run/a', entry_type: 'Y' },
      { name: 'a', path: '/run/a', entry_type: 'f', argument: 'x\ny' },
      { name: '../a', path: '/run/a' },
      { name: 'a' },
    ]) {
      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
    }
    assert.deepEqual(s.calls, []);
    assert.deepEqual(fs.readdirSync(s.root), []);
  });
});
