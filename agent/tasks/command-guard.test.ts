import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardRules, scanCommand } from './command-guard.ts';
import type { GuardContext } from './command-guard.ts';
import { parseShell } from './shell-words.ts';

const context: GuardContext = {
  protectedPaths: ['/var/lib/vigo-agent', '/opt/agent/agent.yaml'],
  protectedPids: [4242],
  cwd: '/',
};

const refused: [string, string][] = [
  ['rm -rf /', 'wipe-root'],
  ['rm -r -f /', 'wipe-root'],
  ['sudo /bin/rm --recursive --force /', 'wipe-root'],
  ['rm -rf /*', 'wipe-root'],
  ['rm -rf /usr/*', 'wipe-root'],
  ['cd /tmp && rm -rf --no-preserve-root /', 'wipe-root'],
  ['rm -rf "/"', 'wipe-root'],
  ['chmod -R 000 /', 'wipe-root'],
  ['chown -R nobody /etc', 'wipe-root'],
  ['echo ok; nohup nice -n 5 rm -fr /boot', 'wipe-root'],
  ["sh -c 'rm -rf /'", 'wipe-root'],
  ['bash -lc "rm -rf /"', 'wipe-root'],
  ['eval rm -rf /', 'wipe-root'],
  ['echo $(rm -rf /)', 'wipe-root'],
  ['if true; then rm -rf /; fi', 'wipe-root'],
  ['rm -rf /etc/vigo', 'delete-agent-files'],
  ['rm /etc/vigo/agent.yaml', 'delete-agent-files'],
  ['rm -rf /etc/vig*', 'delete-agent-files'],
  ['rm -f /etc/vigo/*', 'delete-agent-files'],
  ['rm -rf /var/lib/vigo-agent/tasks', 'delete-agent-files'],
  ['cd / && rm -rf var/lib/vigo-agent', 'delete-agent-files'],
  ['mv /etc/vigo /tmp/old', 'delete-agent-files'],
  ['shred -u /opt/agent/agent.yaml', 'delete-agent-files'],
  ['truncate -s 0 /opt/agent/agent.yaml', 'delete-agent-files'],
  ['echo x > /opt/agent/agent.yaml', 'delete-agent-files'],
  ['find /var/lib/vigo -delete', 'delete-agent-files'],
  ['rm -rf /var/lib', 'delete-agent-files'],
  ['mkfs.ext4 /dev/sda1', 'format-disk'],
  ['mkfs -t xfs /dev/nvme0n1', 'format-disk'],
  ['wipefs -a /dev/vdb', 'format-disk'],
  ['dd if=/dev/zero of=/dev/sda bs=1M', 'overwrite-device'],
  ['cat image > /dev/sdb', 'overwrite-device'],
  ['shred /dev/sda', 'overwrite-device'],
  ['systemctl stop vigo-envoy', 'stop-agent-service'],
  ['systemctl disable --now vigo-envoy.service', 'stop-agent-service'],
  ['sudo systemctl mask vigo', 'stop-agent-service'],
  ['systemctl stop "vigo*"', 'stop-agent-service'],
  ['service vigo-envoy stop', 'stop-agent-service'],
  ['pkill vigo', 'kill-agent'],
  ['pkill -9 -f vig', 'kill-agent'],
  ['killall vigo-envoy', 'kill-agent'],
  ['kill -9 $(pidof vigo)', 'kill-agent'],
  ['kill `pgrep -f vigo`', 'kill-agent'],
  ['kill 4242', 'kill-agent'],
  ['kill -9 -1', 'kill-agent'],
  ['kill -- -1', 'kill-agent'],
];

const allowed = [
  'echo "rm -rf /"',
  "echo 'systemctl stop vigo-envoy'",
  'rm -rf /tmp/build',
  'rm -rf /var/tmp/*',
  'rm /etc/vigo.bak',
  'ls -la /etc/vigo',
  'cat /etc/vigo/agent.yaml',
  'cp /etc/vigo/agent.yaml /tmp/agent.yaml',
  'mv /tmp/a /tmp/b',
  'chmod 755 /',
  'dd if=/dev/sda of=/tmp/mbr bs=512 count=1',
  'dd if=/dev/zero of=/dev/null count=1',
  'echo hi > /dev/null 2>&1',
  'mkfs.ext4 /tmp/disk.img',
  'systemctl restart nginx',
  'systemctl status vigo-envoy',
  'systemctl stop nginx',
  'service nginx stop',
  'pkill nginx',
  'kill -HUP 1234',
  'kill -1 1234',
  'grep vigo /var/log/syslog | wc -l # rm -rf /',
  'uptime',
];

describe('the agent command guard', () => {
  it('refuses what would stop the agent, delete its files or destroy the host', () => {
    for (const [command, rule] of refused) {
      const match = scanCommand(command, context);
      assert.equal(match?.rule, rule, `${command} → ${JSON.stringify(match)}`);
      assert.ok(match.detail.length > 0);
    }
  });

  it('lets ordinary commands run, including ones that only mention a dangerous one', () => {
    for (const command of allowed) assert.equal(scanCommand(command, context), undefined, command);
  });

  it('refuses command lines nested too deeply to judge', () => {
    let command = 'true';
    for (let i = 0; i < 12; i += 1) command = `sh -c ${JSON.stringify(command)}`;
    assert.equal(scanCommand(command, context)?.rule, 'too-nested');
  });

  it('has a stable id and a description for every rule', () => {
    const ids = guardRules.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const rule of guardRules) assert.match(rule.id, /^[a-z-]+$/);
  });
});

describe('shell words', () => {
  it('splits lists, pipes, quotes, redirections and substitutions as sh does', () => {
    const parsed = parseShell(`a 'b c' "d $(e f)" g\\ h 2>/dev/null | i >> out; j && k # l`);
    assert.deepEqual(
      parsed.commands.map((c) => c.words.map((w) => w.text)),
      [['a', 'b c', 'd $(e f)', 'g h'], ['i'], ['j'], ['k']],
    );
    assert.deepEqual(
      parsed.commands[0]?.redirections.map((r) => [r.op, r.target.text]),
      [['>', '/dev/null']],
    );
    assert.deepEqual(
      parsed.commands[1]?.redirections.map((r) => [r.op, r.target.text]),
      [['>>', 'out']],
    );
    assert.deepEqual(parsed.substitutions, ['e f']);
  });
});
