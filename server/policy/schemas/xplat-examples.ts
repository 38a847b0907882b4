/** One valid resource per cross-platform type: the shapes docs/stacks.md shows (checked by resource-schemas.test.ts). */
export const xplatExamples: Readonly<Record<string, Record<string, unknown>>> = {
  field_edit: {
    type: 'field_edit',
    target_path: '/etc/default/grub',
    key: 'GRUB_TIMEOUT',
    value: 5,
  },
  sshkey: {
    type: 'sshkey',
    user: 'deploy',
    key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop',
    options: 'from="10.0.0.0/8",no-pty',
  },
  process: {
    type: 'process',
    pattern: '^/usr/local/bin/worker --queue jobs',
    start: '/usr/local/bin/worker --queue jobs',
    user: 'app',
    timeout: 20,
  },
  git: {
    type: 'git',
    target_path: '/srv/app',
    repo: 'https://git.example.com/team/app.git',
    revision: 'v2.4.1',
    user: 'deploy',
  },
  npm: { type: 'npm', package: 'pm2', version: '5.3.1', prefix: '/opt/tools' },
  pip: { type: 'pip', package: 'requests', version: '2.32.3', python: '/opt/app/venv/bin/python' },
  gem: { type: 'gem', package: 'bundler', version: '2.5.6', install_dir: '/opt/gems' },
  nonrepo_package: {
    type: 'nonrepo_package',
    package: 'acme-agent',
    source: 'https://downloads.example.com/acme-agent_4.2.0-1_amd64.deb',
    checksum: 'sha256:3b1f0c2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a',
    version: '4.2.0',
  },
  source_package: {
    type: 'source_package',
    package: 'acme-tools',
    source: '/srv/packages/acme-tools-1.3-2.el9.x86_64.rpm',
  },
  repository: {
    type: 'repository',
    repository: 'docker',
    provider: 'apt',
    url: 'https://download.docker.com/linux/debian',
    distribution: 'bookworm',
    components: ['stable'],
    arch: 'amd64',
    key_url: 'https://download.docker.com/linux/debian/gpg',
  },
};
