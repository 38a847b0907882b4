import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildBundleDocument } from '../bundle.ts';
import { errorsOf, validateFiles } from '../testing.ts';
import { unixResourceExamples, unixResourceTypeSpecs } from './unix-schemas.ts';

/** A Vigo-style configcrate using every Unix type as docs/stacks.md shows it. */
const crate = `name: linux
resources:
  - name: myapp-runtime
    type: tmpfile
    path: /run/myapp
    entry_type: d
    mode: "0750"
  - name: nginx
    type: logrotate
    path: /var/log/nginx/*.log
    frequency: daily
    rotate: "14"
    compress: "true"
  - { name: nginx-limits, type: systemd_dropin, unit: nginx.service, content: "[Service]\\nLimitNOFILE=65536\\n" }
  - { name: Set hostname, type: hostname, hostname: web-01.example.com }
  - { name: Set timezone, type: timezone, timezone: Europe/Paris }
  - { name: /mnt/data, type: mount, path: /mnt/data, device: /dev/sdb1, fstype: ext4 }
  - { name: swapfile, type: swap, path: /swapfile, size: 2G }
  - { name: br_netfilter, type: kernel_module }
  - { name: allow-https, type: firewall, port: "443", proto: tcp, action: allow, comment: HTTPS }
  - { name: editor, type: alternatives, path: /usr/bin/vim.basic, link: /usr/bin/editor }
  - name: selinux
    type: selinux
    state: enforcing
    booleans: { httpd_can_network_connect: on }
`;

describe('Unix resource types in a stack', () => {
  it('every type has a documented example', () => {
    assert.deepEqual(Object.keys(unixResourceExamples).sort(), Object.keys(unixResourceTypeSpecs).sort());
  });

  it('publish Vigo-style resources; path becomes target_path and file-named types carry their name', async () => {
    const r = await validateFiles({
      'configcrates/linux.vgo': crate,
      'roles.vgo': 'roles:\n  base:\n    configcrates: [linux]\n',
      'envoys.vgo': 'envoys:\n  - match: "*"\n    roles: [base]\n',
    });
    assert.deepEqual(errorsOf(r), []);
    const doc = buildBundleDocument(r.snapshot!.entries[0]!, {
      policyVersion: 1,
      secretsEpoch: 1,
      issuedAtMs: 1000,
      expiresAtMs: 2000,
      traits: { os: { family: 'debian' } },
    });
    const params = new Map(doc.resources.map((x) => [x.type, x.params]));
    assert.deepEqual(params.get('tmpfile'), {
      name: 'myapp-runtime',
      target_path: '/run/myapp',
      entry_type: 'd',
      mode: '0750',
    });
    assert.equal(params.get('logrotate')?.name, 'nginx');
    assert.equal(params.get('systemd_dropin')?.name, 'nginx-limits');
    assert.equal(params.get('kernel_module')?.module, 'br_netfilter');
    assert.equal(params.get('alternatives')?.alternative, 'editor');
    assert.equal(params.get('mount')?.target_path, '/mnt/data');
  });

  it('rejects an unknown field and a wrong enum with a diagnostic', async () => {
    const r = await validateFiles({
      'configcrates/bad.vgo':
        'name: bad\nresources:\n  - { name: m, type: mount, path: /mnt/x, state: up }\n  - { name: f, type: firewall, port: 22, chain: forward }\n',
      'roles.vgo': 'roles:\n  base:\n    configcrates: [bad]\n',
      'envoys.vgo': 'envoys:\n  - match: "*"\n    roles: [base]\n',
    });
    assert.equal(errorsOf(r).length >= 2, true, JSON.stringify(errorsOf(r)));
  });
});
