import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { knownResourceTypes, resourceSchemas } from './resource-schemas.ts';
import { xplatExamples } from './xplat-examples.ts';
import { unixResourceExamples } from './unix-schemas.ts';

/** One valid resource per type: the shapes docs/stacks.md shows. */
const examples: Record<string, Record<string, unknown>> = {
  file: {
    type: 'file',
    target_path: '/etc/motd',
    content: 'hi\n',
    owner: 'root',
    group: 'root',
    mode: '0644',
    backup: true,
  },
  directory: { type: 'directory', path: '/srv/app', mode: '0755', recurse: false },
  symlink: { type: 'symlink', target_path: '/usr/local/bin/app', link_to: '/opt/app/bin/app' },
  exec: {
    type: 'exec',
    command: 'make install',
    creates: '/usr/local/bin/app',
    timeout: 300,
    cwd: '/opt/app',
    env: { CC: 'gcc' },
  },
  file_line: {
    type: 'file_line',
    target_path: '/etc/hosts.allow',
    line: 'sshd: 10.0.0.0/8',
    match: '^sshd:',
  },
  blockinfile: {
    type: 'blockinfile',
    target_path: '/etc/ssh/sshd_config',
    block: 'PermitRootLogin no\n',
    marker: '# {mark} VIGO',
  },
  replace: {
    type: 'replace',
    target_path: '/etc/default/grub',
    pattern: 'quiet',
    replacement: 'quiet splash',
  },
  ini: { type: 'ini', target_path: '/etc/php.ini', section: 'Date', key: 'date.timezone', value: 'UTC' },
  json_file: {
    type: 'json_file',
    target_path: '/etc/docker/daemon.json',
    key: 'log-driver',
    value: 'journald',
  },
  package: { type: 'package', package: 'nginx', state: 'latest', provider: 'apt' },
  service: { type: 'service', service: 'nginx', state: 'running', enabled: true, provider: 'systemd' },
  user: {
    type: 'user',
    user: 'deploy',
    uid: 1500,
    groups: ['sudo'],
    shell: '/bin/bash',
    authorized_keys: ['ssh-ed25519 AAAA…'],
  },
  group: { type: 'group', group: 'deploy', gid: 1500 },
  cron: { type: 'cron', name: 'backup', command: '/usr/local/bin/backup', minute: 5, hour: '*/6' },
  sysctl: { type: 'sysctl', key: 'vm.swappiness', value: 10 },
  host: { type: 'host', ip: '10.0.0.5', hostname: 'db.internal', aliases: ['db'] },
  container: {
    type: 'container',
    container: 'redis',
    image: 'redis:7-alpine',
    state: 'running',
    ports: '6379:6379',
    restart: 'unless-stopped',
  },
  custom: { type: 'custom', executor: 'my_check', params: { level: 3 } },
  ...xplatExamples,
  ...unixResourceExamples,
};

describe('resourceSchemas', () => {
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strict: true, strictRequired: false });

  it('has a documented example for every type', () => {
    assert.deepEqual(Object.keys(examples).sort(), [...knownResourceTypes]);
  });

  for (const type of knownResourceTypes) {
    it(`${type}: accepts its example and rejects an unknown field`, () => {
      const validate = ajv.compile(resourceSchemas[type]!);
      assert.equal(validate(examples[type]), true, JSON.stringify(validate.errors));
      assert.equal(validate({ ...examples[type], no_such_field: 1 }), false);
    });
  }
});
