import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createTimezoneExecutor } from './timezone.ts';
import { ok, unixSetup } from './unix-test-support.ts';

const zoneinfo = '/usr/share/zoneinfo';
const skip = !fs.existsSync(`${zoneinfo}/Europe/Paris`) && 'no zoneinfo database on this machine';

describe('timezone executor', { skip }, () => {
  it('links /etc/localtime and writes /etc/timezone on a Debian-style root, then changes nothing', async (t) => {
    const s = unixSetup(t);
    s.put('/etc/timezone', 'Etc/UTC\n');
    fs.symlinkSync('/usr/share/zoneinfo/Etc/UTC', s.at('/etc/localtime'));
    const ex = createTimezoneExecutor({ root: s.root, zoneinfoDir: zoneinfo });
    const dry = await ex.apply({ timezone: 'Europe/Paris' }, s.ctx(true));
    assert.equal(
      dry.message,
      'would set /etc/localtime Etc/UTC -> Europe/Paris, /etc/timezone Etc/UTC -> Europe/Paris',
    );
    assert.equal(fs.readlinkSync(s.at('/etc/localtime')), '/usr/share/zoneinfo/Etc/UTC');
    const r = await ex.apply({ timezone: 'Europe/Paris' }, s.ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.equal(fs.readlinkSync(s.at('/etc/localtime')), '/usr/share/zoneinfo/Europe/Paris');
    assert.equal(fs.readFileSync(s.at('/etc/timezone'), 'utf8'), 'Europe/Paris\n');
    assert.equal((await ex.apply({ timezone: 'Europe/Paris' }, s.ctx())).outcome, 'none');
  });

  it('replaces a copied zone file only when its bytes differ, and leaves /etc/timezone off non-Debian roots', async (t) => {
    const s = unixSetup(t);
    s.put('/etc/localtime', '');
    fs.copyFileSync(`${zoneinfo}/UTC`, s.at('/etc/localtime'));
    const ex = createTimezoneExecutor({ root: s.root, zoneinfoDir: zoneinfo });
    assert.equal((await ex.apply({ timezone: 'UTC' }, s.ctx())).outcome, 'none');
    const r = await ex.apply({ timezone: 'America/New_York' }, s.ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.deepEqual(s.snapshots, [s.at('/etc/localtime')]);
    assert.equal(fs.readlinkSync(s.at('/etc/localtime')), '/usr/share/zoneinfo/America/New_York');
    assert.equal(fs.existsSync(s.at('/etc/timezone')), false);
  });

  it('uses timedatectl where systemd runs, and checks its effect', async (t) => {
    const s = unixSetup(t);
    fs.mkdirSync(s.at('/run/systemd/system'), { recursive: true });
    fs.mkdirSync(s.at('/etc'));
    s.script.set('timedatectl', (args) => {
      fs.symlinkSync(`/usr/share/zoneinfo/${args[1]}`, s.at('/etc/localtime'));
      return ok();
    });
    const ex = createTimezoneExecutor({ root: s.root, zoneinfoDir: zoneinfo });
    const r = await ex.apply({ timezone: 'Asia/Tokyo' }, s.ctx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.deepEqual(s.calls, [['timedatectl', 'set-timezone', 'Asia/Tokyo']]);
    s.script.set('timedatectl', () => ok());
    const noop = await ex.apply({ timezone: 'UTC' }, s.ctx());
    assert.match(noop.message, /after setting it \/etc\/localtime still does not name UTC/);
  });

  it('refuses unknown zones and names that leave the zoneinfo directory', async (t) => {
    const s = unixSetup(t);
    const ex = createTimezoneExecutor({ root: s.root, zoneinfoDir: zoneinfo });
    const typo = await ex.apply({ timezone: 'Europe/Pariss' }, s.ctx());
    assert.match(typo.message, /unknown time zone/);
    for (const timezone of ['../../../etc/passwd', '/etc/passwd', '-u', 'Europe/../UTC', 'zone.tab']) {
      const r = await ex.apply({ timezone }, s.ctx());
      assert.equal(r.outcome, 'failed', timezone);
    }
    assert.deepEqual(fs.readdirSync(s.root), []);
  });
});
