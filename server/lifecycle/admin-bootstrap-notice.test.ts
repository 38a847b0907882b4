import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstAdminBannerLines } from './admin-bootstrap-notice.ts';

const notice = { secret: 'vgbs_secret', file: '/srv/vigo/admin-bootstrap.secret' };

describe('firstAdminBannerLines', () => {
  it('shows the secret on a terminal', () => {
    const text = firstAdminBannerLines(notice, 'https://vigo:8443/setup', true).join('\n');
    assert.match(text, /vgbs_secret/);
    assert.match(text, /https:\/\/vigo:8443\/setup/);
  });

  it('names only the file when standard output is collected (systemd, containers)', () => {
    const text = firstAdminBannerLines(notice, 'https://vigo:8443/setup', false).join('\n');
    assert.equal(text.includes('vgbs_secret'), false);
    assert.match(text, /\/srv\/vigo\/admin-bootstrap\.secret/);
  });

  it('says nothing once an admin exists', () => {
    assert.deepEqual(firstAdminBannerLines(undefined, 'https://vigo:8443/setup', true), []);
  });
});
