import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createSystemdDropinExecutor } from './systemd-dropin.ts';
import { failed, ok, unixSetup } from './unix-test-support.ts';

const limits = '[Service]\nLimitNOFILE=65536\n';

describe('systemd_dropin executor', () => {
  it('writes the drop-in, reloads systemd once, and changes nothing the second time', async (t) => {
    const s = unixSetup(t);
    fs.mkdirSync(s.at('/run/systemd/system'), { recursive: true });
    s.script.set('systemctl', () => ok());
    const ex = createSystemdDropinExecutor({ root: s.root });
    const params = { unit: 'nginx', dropin: 'limits', content: limits };
    const dry = await ex.apply(params, s.ctx(true));
    assert.equal(dry.outcome, 'created', dry.message);
    assert.match(
      dry.message,
      /would create .*nginx\.service\.d\/limits\.conf.*would run systemctl daemon-reload/,
    );
    assert.equal(fs.existsSync(s.at('/etc/systemd/system/nginx.service.d')), false);
    assert.deepEqual(s.calls, []);

    const r = await ex.apply(params, s.ctx());
    assert.equal(r.outcome, 'created', r.message);
    assert.equal(fs.readFileSync(s.at('/etc/systemd/system/nginx.service.d/limits.conf'), 'utf8'), limits);
    assert.deepEqual(s.calls, [['systemctl', 'daemon-reload']]);
    assert.equal((await ex.apply(params, s.ctx())).outcome, 'none');
    assert.equal(s.calls.length, 1);
  });

  it('corrects drift, then removes the file and its empty directory with state absent', async (t) => {
    const s = unixSetup(t);
    fs.mkdirSync(s.at('/run/systemd/system'), { recursive: true });
    s.script.set('systemctl', () => ok());
    const file = s.put('/etc/systemd/system/app.timer.d/app-timer.conf', '[Timer]\nOnCalendar=daily\n');
    const ex = createSystemdDropinExecutor({ root: s.root });
    const r = await ex.apply(
      { unit: 'app.timer', name: 'app-timer', content: '[Timer]\nOnCalendar=hourly' },
      s.ctx(),
    );
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(fs.readFileSync(file, 'utf8'), '[Timer]\nOnCalendar=hourly\n');
    assert.deepEqual(s.snapshots, [file]);
    const gone = await ex.apply({ unit: 'app.timer', name: 'app-timer', state: 'absent' }, s.ctx());
    assert.equal(gone.outcome, 'deleted', gone.message);
    assert.equal(fs.existsSync(s.at('/etc/systemd/system/app.timer.d')), false);
    assert.equal(s.calls.length, 2);
    const again = await ex.apply({ unit: 'app.timer', name: 'app-timer', state: 'absent' }, s.ctx());
    assert.equal(again.outcome, 'none');
  });

  it('writes without a reload where systemd is not running, or when daemon_reload is false', async (t) => {
    const s = unixSetup(t);
    const ex = createSystemdDropinExecutor({ root: s.root });
    const r = await ex.apply({ unit: 'a.service', dropin: 'x.conf', content: limits }, s.ctx());
    assert.equal(r.outcome, 'created');
    assert.match(r.message, /systemd is not running here, so no daemon-reload/);
    assert.ok(fs.existsSync(s.at('/etc/systemd/system/a.service.d/x.conf')));
    fs.mkdirSync(s.at('/run/systemd/system'), { recursive: true });
    const quiet = await ex.apply(
      { unit: 'a.service', dropin: 'x', content: '[Service]\n', daemon_reload: false },
      s.ctx(),
    );
    assert.equal(quiet.outcome, 'updated');
    assert.deepEqual(s.calls, []);
  });

  it('names the resource and the command when daemon-reload fails', async (t) => {
    const s = unixSetup(t);
    fs.mkdirSync(s.at('/run/systemd/system'), { recursive: true });
    s.script.set('systemctl', () => failed('Access denied'));
    const ex = createSystemdDropinExecutor({ root: s.root });
    const r = await ex.apply({ unit: 'nginx.service', dropin: 'limits', content: limits }, s.ctx());
    assert.equal(r.outcome, 'failed');
    assert.match(
      r.message,
      /systemd_dropin nginx\.service\/limits\.conf: systemctl daemon-reload failed \(exit 1\): Access denied/,
    );
  });

  it('refuses unit and drop-in names that would leave the unit directory', async (t) => {
    const s = unixSetup(t);
    const ex = createSystemdDropinExecutor({ root: s.root });
    for (const params of [
      { unit: '../../etc', dropin: 'x', content: '' },
      { unit: 'nginx', dropin: '../../../passwd', content: '' },
      { unit: 'nginx', dropin: '-rf', content: '' },
      { unit: 'nginx', content: '' },
    ]) {
      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
    }
    const noContent = await ex.apply({ unit: 'nginx', dropin: 'x' }, s.ctx());
    assert.match(noContent.message, /content is required/);
    assert.deepEqual(fs.readdirSync(s.root), []);
  });
});
