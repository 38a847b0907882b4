/**
 * The cross-platform types through the stack validator: Vigo-style stacks using them publish, unnamed
 * resources get `<type>:<target>` names, and the self-protection guardrails cover the types that write
 * to a path (field_edit, sshkey, git) exactly as they cover file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveName } from './names.ts';
import { errorsOf, validateFiles } from './testing.ts';

const envoys = 'envoys:\n  - match: "*"\n    configcrates: [c]\n';

describe('cross-platform resource types in stacks', () => {
  it('validate, and derive names from their main field', async () => {
    const r = await validateFiles({
      'configcrates/c.vgo': `name: c
resources:
  - { type: field_edit, path: /etc/default/grub, key: GRUB_TIMEOUT, value: 5 }
  - { type: sshkey, user: deploy, key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b" }
  - { type: git, target_path: /srv/app, repo: "https://git.example.com/app.git", revision: v1 }
  - { type: pip, package: requests, version: 2.32.3, target: /opt/lib }
  - { type: reboot, reason: updates, onlyif: "test -f /var/run/reboot-required" }
  - { type: docker_container, container: web, image: "nginx:1.27", ports: ["8080:80"] }
`,
      'envoys.vgo': envoys,
    });
    assert.deepEqual(errorsOf(r), []);
    assert.equal(
      deriveName('field_edit', { target_path: '/etc/default/grub' }),
      'field_edit:/etc/default/grub',
    );
    assert.equal(deriveName('sshkey', { user: 'deploy' }), 'sshkey:deploy');
    assert.equal(deriveName('docker_container', { container: 'web' }), 'docker_container:web');
    assert.equal(deriveName('npm', { package: 'pm2' }), 'npm:pm2');
  });

  it('reject a reboot without a guard and a URL package without a digest-shaped checksum', async () => {
    const r = await validateFiles({
      'configcrates/c.vgo': `name: c
resources:
  - { name: r, type: reboot, reason: updates }
  - { name: p, type: nonrepo_package, package: x, source: "https://example.com/x.deb", checksum: md5-abc }
`,
      'envoys.vgo': envoys,
    });
    assert.equal(errorsOf(r).length, 2, JSON.stringify(errorsOf(r)));
  });

  it('keep field_edit, sshkey and git away from the agent’s own files', async () => {
    const r = await validateFiles({
      'configcrates/c.vgo': `name: c
resources:
  - { name: a, type: field_edit, target_path: /var/lib/vigo/identity.json, key: k, value: v }
  - { name: b, type: sshkey, target_path: /var/lib/vigo/keys, key: "ssh-ed25519 AAAA x" }
  - { name: c, type: git, target_path: /var/lib/vigo, repo: /srv/repo.git }
  - { name: ok, type: field_edit, target_path: /etc/default/grub, key: k, value: v }
`,
      'envoys.vgo': envoys,
    });
    assert.deepEqual(
      errorsOf(r).map((e) => e.split(' ')[0]),
      ['guard.protected_path', 'guard.protected_path', 'guard.protected_path'],
    );
  });
});
