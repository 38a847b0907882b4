import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorsOf, validateFiles } from './testing.ts';
import type { CompiledResource, ValidateResult } from './types.ts';

const envoys = (crates: string): string => `envoys:\n  - match: "*"\n    configcrates: [${crates}]\n`;

function resources(r: ValidateResult, index = 0): CompiledResource[] {
  const s = r.snapshot!;
  return s.entries[0]!.configcrates.flatMap((c) => s.instances.get(c.instance)!.resources).slice(index);
}

describe('foreach', () => {
  it('stamps a resource per item of a list variable, with .Item and .Each for maps', async () => {
    const r = await validateFiles({
      'configcrates/sites.vgo': `name: sites
vars:
  sites: [{ name: shop, port: 81 }, { name: blog, port: 82 }]
resources:
  - name: "site-{{ .Item.name }}"
    type: file
    foreach: sites
    target_path: "/etc/sites/{{ .Each.name }}.conf"
    content: "port {{ .Item.port }}"
`,
      'envoys.vgo': envoys('sites'),
    });
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(
      resources(r).map((x) => [x.id, x.params.target_path, x.params.content]),
      [
        ['sites/site-shop', '/etc/sites/shop.conf', 'port 81'],
        ['sites/site-blog', '/etc/sites/blog.conf', 'port 82'],
      ],
    );
  });

  it('stamps a whole configcrate with configcrate-level foreach and an inline list', async () => {
    const r = await validateFiles({
      'configcrates/users.vgo': `name: users
foreach: [alice, bob]
resources:
  - name: "user-{{ .Item }}"
    type: user
    user: "{{ .Item }}"
  - name: "home-{{ .Item }}"
    type: directory
    target_path: "/home/{{ .Item }}"
    depends_on: ["user-{{ .Item }}"]
`,
      'envoys.vgo': envoys('users'),
    });
    assert.deepEqual(errorsOf(r), []);
    const list = resources(r);
    assert.deepEqual(
      list.map((x) => x.name),
      ['user-alice', 'home-alice', 'user-bob', 'home-bob'],
    );
    assert.deepEqual(list[3]!.dependsOn, ['users/user-bob']);
  });

  it('asks for {{ .Item }} in the name when foreach produces duplicates', async () => {
    const r = await validateFiles({
      'configcrates/p.vgo':
        'name: p\nresources:\n  - name: pkg\n    type: package\n    foreach: [a, b]\n    package: "{{ .Item }}"\n',
      'envoys.vgo': envoys('p'),
    });
    const d = r.diagnostics.find((x) => x.code === 'resource.duplicate_name')!;
    assert.match(d.hint, /\{\{ \.Item \}\}/);
    assert.equal(r.snapshot, undefined);
  });

  it('rejects foreach over a variable that is not a list', async () => {
    const r = await validateFiles({
      'configcrates/p.vgo':
        'name: p\nvars:\n  pkgs: nginx\nresources:\n  - name: "pkg-{{ .Item }}"\n    type: package\n    foreach: pkgs\n    package: "{{ .Item }}"\n',
      'envoys.vgo': envoys('p'),
    });
    assert.deepEqual(errorsOf(r), ['foreach.not_list configcrates/p.vgo:7:14']);
  });
});

describe('defaults', () => {
  it('applies only the fields each resource type has, and lets resources override them', async () => {
    const r = await validateFiles({
      'configcrates/d.vgo': `name: d
defaults:
  owner: root
  mode: "0600"
resources:
  - name: secret-file
    type: file
    target_path: /etc/secret
    content: x
  - name: public-file
    type: file
    target_path: /etc/public
    content: y
    mode: "0644"
  - name: svc
    type: service
    service: d
`,
      'envoys.vgo': envoys('d'),
    });
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(
      resources(r).map((x) => x.params),
      [
        { target_path: '/etc/secret', content: 'x', owner: 'root', mode: '0600' },
        { target_path: '/etc/public', content: 'y', mode: '0644', owner: 'root' },
        { service: 'd' },
      ],
    );
  });

  it('rejects a default that is not a field of any type', async () => {
    const r = await validateFiles({
      'configcrates/d.vgo': 'name: d\ndefaults:\n  depends_on: [x]\n  ownr: root\nresources: []\n',
      'envoys.vgo': envoys('d'),
    });
    assert.deepEqual(errorsOf(r), [
      'schema.unknown_key configcrates/d.vgo:3:3',
      'schema.unknown_key configcrates/d.vgo:4:3',
    ]);
  });
});

describe('names', () => {
  it('derives type:target for unnamed resources, says so, and resolves references to it', async () => {
    const r = await validateFiles({
      'configcrates/m.vgo': `configcrate: m
resources:
  - type: file
    target_path: /etc/motd
    content: hi
  - name: after
    type: exec
    command: "true"
    creates: /tmp/x
    depends_on: ["file:/etc/motd"]
`,
      'envoys.vgo': envoys('m'),
    });
    assert.deepEqual(errorsOf(r), []);
    const info = r.diagnostics.find((d) => d.code === 'name.derived')!;
    assert.equal(info.severity, 'info');
    assert.match(info.message, /"file:\/etc\/motd"/);
    assert.deepEqual(resources(r)[1]!.dependsOn, ['m/file:/etc/motd']);
  });

  it('fills the subject of service/package resources from the name', async () => {
    const r = await validateFiles({
      'configcrates/s.vgo':
        'name: s\nresources:\n  - name: nginx\n    type: service\n    state: running\n  - name: curl\n    type: package\n',
      'envoys.vgo': envoys('s'),
    });
    assert.deepEqual(
      resources(r).map((x) => x.params),
      [{ service: 'nginx', state: 'running' }, { package: 'curl' }],
    );
  });
});

describe('case', () => {
  it('keeps per-OS overrides for the bundle and marks the entry as trait-dependent', async () => {
    const r = await validateFiles({
      'configcrates/web.vgo':
        'name: web\nresources:\n  - name: httpd\n    type: package\n    package: apache2\n    case:\n      rhel: { package: httpd }\n',
      'envoys.vgo': envoys('web'),
    });
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(resources(r)[0]!.case, { rhel: { package: 'httpd' } });
    assert.equal(r.snapshot!.entries[0]!.usesTraits, true);
  });

  it('checks override fields against the type', async () => {
    const r = await validateFiles({
      'configcrates/web.vgo':
        'name: web\nresources:\n  - name: httpd\n    type: package\n    case:\n      rhel: { pkg: httpd }\n',
      'envoys.vgo': envoys('web'),
    });
    assert.deepEqual(errorsOf(r), ['schema.unknown_key configcrates/web.vgo:6:15']);
  });
});

describe('dependency cycles', () => {
  it('prints the loop', async () => {
    const r = await validateFiles({
      'configcrates/c.vgo': `name: c
resources:
  - { name: a, type: directory, target_path: /a, depends_on: [b] }
  - { name: b, type: directory, target_path: /b, depends_on: [c] }
  - { name: c, type: directory, target_path: /c, depends_on: [a] }
`,
      'envoys.vgo': envoys('c'),
    });
    const d = r.diagnostics.find((x) => x.code === 'dag.cycle')!;
    assert.match(d.message, /a → b → c → a/);
    assert.equal(d.line, 3);
  });

  it('finds loops across configcrates', async () => {
    const r = await validateFiles({
      'configcrates/x.vgo':
        'name: x\nresources:\n  - { name: x1, type: directory, target_path: /x, depends_on: [y/y1] }\n',
      'configcrates/y.vgo':
        'name: y\nresources:\n  - { name: y1, type: directory, target_path: /y, depends_on: [x/x1] }\n',
      'envoys.vgo': envoys('x, y'),
    });
    const d = r.diagnostics.find((x) => x.code === 'dag.cycle')!;
    assert.match(d.message, /x\/x1 → y\/y1 → x\/x1/);
  });
});

describe('compatibility with Vigo stacks', () => {
  it('reads unquoted modes and versions as written and yes/no/on/off as booleans', async () => {
    const r = await validateFiles({
      'configcrates/c.vgo': `name: c
resources:
  - { name: f, type: file, target_path: /etc/f, content: x, mode: 0640, backup: yes }
  - { name: p, type: package, package: app, version: 1.10 }
  - { name: s, type: service, service: app, enabled: off }
`,
      'envoys.vgo': 'envoys:\n  - match: "*"\n    configcrates: [c]\n    observe_only: on\n',
    });
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(
      resources(r).map((x) => x.params),
      [
        { backup: true, content: 'x', mode: '0640', target_path: '/etc/f' },
        { package: 'app', version: '1.10' },
        { enabled: false, service: 'app' },
      ],
    );
    assert.equal(r.snapshot!.entries[0]!.observeOnly, true);
  });
});
