import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createLogrotateExecutor } from './logrotate.ts';
import { unixSetup } from './unix-test-support.ts';

describe('logrotate executor', () => {
  it('writes the stanza with Vigo defaults, then changes nothing', async (t) => {
    const s = unixSetup(t);
    const ex = createLogrotateExecutor({ root: s.root });
    const params = { name: 'myapp', target_path: '/var/log/myapp/*.log', frequency: 'daily', rotate: '7' };
    const dry = await ex.apply(params, s.ctx(true));
    assert.equal(dry.outcome, 'created');
    assert.match(dry.message, /would create .*\/etc\/logrotate\.d\/myapp/);
    assert.equal(fs.existsSync(s.at('/etc/logrotate.d')), false);
    assert.equal((await ex.apply(params, s.ctx())).outcome, 'created');
    assert.equal(
      fs.readFileSync(s.at('/etc/logrotate.d/myapp'), 'utf8'),
      '/var/log/myapp/*.log {\n    daily\n    rotate 7\n    compress\n    delaycompress\n    missingok\n    notifempty\n}\n',
    );
    assert.equal((await ex.apply(params, s.ctx())).outcome, 'none');
  });

  it('renders every option, corrects a hand-edited file, and removes it with state absent', async (t) => {
    const s = unixSetup(t);
    const file = s.put('/etc/logrotate.d/nginx', '/var/log/nginx/*.log {\n    weekly\n}\n');
    const ex = createLogrotateExecutor({ root: s.root });
    const r = await ex.apply(
      {
        name: 'nginx',
        path: '/var/log/nginx/*.log',
        rotate: 14,
        compress: 'false',
        delaycompress: false,
        copytruncate: 'yes',
        size: '100M',
        maxage: 30,
        create: '0640 www-data adm',
        postrotate: '/usr/sbin/nginx -s reload\n',
      },
      s.ctx(),
    );
    assert.equal(r.outcome, 'updated', r.message);
    assert.deepEqual(s.snapshots, [file]);
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      [
        '/var/log/nginx/*.log {',
        '    weekly',
        '    rotate 14',
        '    missingok',
        '    notifempty',
        '    copytruncate',
        '    size 100M',
        '    maxage 30',
        '    create 0640 www-data adm',
        '    postrotate',
        '        /usr/sbin/nginx -s reload',
        '    endscript',
        '}',
        '',
      ].join('\n'),
    );
    assert.equal((await ex.apply({ name: 'nginx', state: 'absent' }, s.ctx())).outcome, 'deleted');
    assert.equal(fs.existsSync(file), false);
  });

  it('refuses values that would break out of the stanza', async (t) => {
    const s = unixSetup(t);
    const ex = createLogrotateExecutor({ root: s.root });
    for (const params of [
      { name: 'a', path: '/var/log/a.log {\n}\n/etc/passwd' },
      { name: 'a', path: '/var/log/a b.log' },
      { name: 'a', path: 'var/log/a.log' },
      { name: 'a', path: '/var/log/a.log', frequency: 'sometimes' },
      { name: 'a', path: '/var/log/a.log', rotate: '7 }' },
      { name: 'a', path: '/var/log/a.log', size: '1T' },
      { name: 'a', path: '/var/log/a.log', compress: 'maybe' },
      { name: 'a', path: '/var/log/a.log', create: '0644 root root\n}' },
      { name: 'a', path: '/var/log/a.log', postrotate: 'true\nendscript\n}\n/etc/x {' },
      { name: '../../etc/cron.d/x', path: '/var/log/a.log' },
    ]) {
      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
    }
    assert.deepEqual(fs.readdirSync(s.root), []);
  });
});
