import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dangerousPatterns, matchDangerous } from './guardrail.ts';

const patterns = dangerousPatterns(['/home/ops/vigo-data']);
const blocked = (command: string): string | undefined => matchDangerous(command, patterns)?.name;

describe('task guardrail', () => {
  it('refuses commands that stop or kill Vigo', () => {
    for (const command of [
      'systemctl stop vigo',
      'sudo systemctl stop vigosrv.service',
      'systemctl disable --now vigo-envoy',
      'systemctl mask vigo',
      'service vigo stop',
      'pkill vigo',
      'pkill -9 -f vigosrv',
      'killall vigo',
      'kill -9 $(pidof vigo)',
      'kill $(pgrep -f vigosrv)',
      'uptime; systemctl stop vigo',
    ])
      assert.ok(blocked(command), command);
  });

  it("refuses deleting Vigo's data and config directories, including the server's own", () => {
    for (const command of [
      'rm -rf /srv/vigo/',
      'rm -rf /srv/vigo',
      'sudo rm -rf "/var/lib/vigo"',
      'unlink /srv/vigo/tls/ca.key',
      'rm -r /etc/vigo-envoy',
      'rm -rf /home/ops/vigo-data/*',
    ])
      assert.ok(blocked(command), command);
  });

  it('lets ordinary commands through', () => {
    for (const command of [
      'uptime',
      'systemctl restart nginx',
      'systemctl status vigo',
      'journalctl -u vigo --since today',
      'pkill -f old-backup',
      'rm -rf /tmp/build',
      'rm -rf /srv/vigorous',
      'ls /srv/vigo',
      'cat /home/ops/vigo-data/server.yaml',
    ])
      assert.equal(blocked(command), undefined, command);
  });
});
