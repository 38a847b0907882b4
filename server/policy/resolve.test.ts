import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorsOf, validateFiles } from './testing.ts';

const crate = (name: string, vars = '', extra = ''): string =>
  `name: ${name}\n${extra}vars:\n${vars || '  x: "1"\n'}resources:\n  - name: ${name}-dir\n    type: directory\n    target_path: /srv/${name}\n`;

describe('variable precedence', () => {
  it('environments > match block > common (child over parent) > configcrate defaults', async () => {
    const r = await validateFiles({
      'configcrates/app.vgo': crate('app', '  a: crate\n  b: crate\n  c: crate\n  d: crate\n  e: crate\n'),
      'common.vgo': 'vars:\n  b: root-common\n  c: root-common\n  d: root-common\n  e: root-common\n',
      'site/common.vgo': 'vars:\n  c: site-common\n  d: site-common\n  e: site-common\n',
      'site/hosts.vgo':
        'envoys:\n  - match: "*"\n    environment: prod\n    configcrates: [app]\n    vars: { d: match, e: match }\n',
      'environments.vgo': 'env:\n  prod:\n    vars: { e: env }\n',
    });
    assert.deepEqual(errorsOf(r), []);
    const vars = r.snapshot!.entries[0]!.vars;
    assert.deepEqual(
      { a: vars.a, b: vars.b, c: vars.c, d: vars.d, e: vars.e },
      { a: 'crate', b: 'root-common', c: 'site-common', d: 'match', e: 'env' },
    );
  });

  it("lets one configcrate read another configcrate's defaults (Vigo merges them into one map)", async () => {
    const r = await validateFiles({
      'configcrates/redis.vgo': crate('redis', '  redis_port: "6379"\n'),
      'configcrates/app.vgo':
        'name: app\nresources:\n  - name: env\n    type: file\n    target_path: /etc/app.env\n    content: "REDIS={{ .Vars.redis_port }}"\n',
      'envoys.vgo': 'envoys:\n  - match: "*"\n    configcrates: [redis, app]\n',
    });
    assert.deepEqual(errorsOf(r), []);
    const e = r.snapshot!.entries[0]!;
    const inst = r.snapshot!.instances.get(e.configcrates[1]!.instance)!;
    assert.equal(inst.resources[0]!.params.content, 'REDIS=6379');
  });
});

describe('configcrate list', () => {
  it('orders common roles, entry roles, entry configcrates, environment additions, minus exclusions, then depends_on', async () => {
    const r = await validateFiles({
      'configcrates/a.vgo': crate('a'),
      'configcrates/b.vgo': crate('b'),
      'configcrates/c.vgo': crate('c', '', 'depends_on: [e]\n'),
      'configcrates/d.vgo': crate('d'),
      'configcrates/e.vgo': crate('e'),
      'configcrates/f.vgo': crate('f'),
      'roles.vgo':
        'roles:\n  base: { configcrates: [a] }\n  web: { includes: [base], configcrates: [b, c] }\n',
      'common.vgo': 'roles: [base]\n',
      'envoys.vgo':
        'envoys:\n  - match: "*"\n    environment: prod\n    roles: [web]\n    configcrates: [d, e, f]\n',
      'environments.vgo': 'env:\n  prod:\n    configcrates: [f]\n    exclude_configcrates: [d]\n',
    });
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(
      r.snapshot!.entries[0]!.configcrates.map((c) => c.name),
      ['a', 'b', 'e', 'c', 'f'],
    );
  });

  it('guards role case groups with os_family/distro and uses default for the rest', async () => {
    const r = await validateFiles({
      'configcrates/apt.vgo': crate('apt'),
      'configcrates/dnf.vgo': crate('dnf'),
      'configcrates/other.vgo': crate('other'),
      'roles.vgo':
        'roles:\n  pkg:\n    case:\n      debian: [apt]\n      rhel: [dnf]\n      default: [other]\n',
      'envoys.vgo': 'envoys:\n  - match: "*"\n    roles: [pkg]\n',
    });
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(
      r.snapshot!.entries[0]!.configcrates.map((c) => [c.name, c.when]),
      [
        ['apt', 'os_family("debian") || distro("debian")'],
        ['dnf', 'os_family("rhel") || distro("rhel")'],
        ['other', '!(os_family("debian") || distro("debian") || os_family("rhel") || distro("rhel"))'],
      ],
    );
  });

  it('rejects a configcrate depends_on that the entry does not apply', async () => {
    const r = await validateFiles({
      'configcrates/db.vgo': crate('db'),
      'configcrates/app.vgo': crate('app', '', 'depends_on: [db]\n'),
      'envoys.vgo': 'envoys:\n  - match: "*"\n    configcrates: [app]\n',
    });
    assert.deepEqual(errorsOf(r), ['configcrate.dependency_missing configcrates/app.vgo:2:14']);
  });
});

describe('first match wins', () => {
  it('reads shallower files first, then by path, then blocks in file order', async () => {
    const r = await validateFiles({
      'configcrates/a.vgo': crate('a'),
      'zz.vgo':
        'envoys:\n  - match: "web-1.example.com"\n    configcrates: [a]\n  - match: "web-*"\n    configcrates: [a]\n',
      'aa/hosts.vgo': 'match: "web-*"\nconfigcrates: [a]\n',
      'bb.vgo': 'match: ["db-*", "web-2.example.com"]\nconfigcrates: [a]\n',
    });
    assert.deepEqual(errorsOf(r), []);
    const s = r.snapshot!;
    assert.deepEqual(
      s.entries.map((e) => e.id),
      ['bb.vgo[db-*]', 'zz.vgo[web-1.example.com]', 'zz.vgo[web-*]', 'aa/hosts.vgo[web-*]'],
    );
    assert.equal(s.matchEntry('web-2.example.com')?.id, 'bb.vgo[db-*]');
    assert.equal(s.matchEntry('WEB-1.example.com')?.id, 'zz.vgo[web-1.example.com]');
    assert.equal(s.matchEntry('web-9.example.com')?.id, 'zz.vgo[web-*]');
    assert.equal(s.matchEntry('mail.example.com'), undefined);
    assert.ok(r.diagnostics.some((d) => d.code === 'match.shadowed' && d.file === 'aa/hosts.vgo'));
  });
});

describe('entries sharing configcrates', () => {
  it('keep their own resource ids when names derive from variables', async () => {
    const r = await validateFiles({
      'configcrates/site.vgo':
        'name: site\nresources:\n  - type: file\n    target_path: "/etc/{{ .Vars.site }}.conf"\n    content: x\n',
      'configcrates/web.vgo': 'name: web\nresources:\n  - { name: web, type: service, service: web }\n',
      'envoys.vgo':
        'envoys:\n  - match: a\n    configcrates: [site, web]\n    vars: { site: a }\n  - match: b\n    configcrates: [site, web]\n    vars: { site: b }\n',
    });
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(
      r.snapshot!.entries.map((e) => e.order),
      [
        ['site/file:/etc/a.conf', 'web/web'],
        ['site/file:/etc/b.conf', 'web/web'],
      ],
    );
    assert.notEqual(r.snapshot!.entries[0]!.merkleRoot, r.snapshot!.entries[1]!.merkleRoot);
  });

  it('share one instance unless an entry overrides a variable the configcrate reads', async () => {
    const r = await validateFiles({
      'configcrates/app.vgo':
        'name: app\nvars:\n  port: "80"\nresources:\n  - { name: conf, type: file, target_path: /etc/app, content: "port={{ .Vars.port }}" }\n',
      'envoys.vgo':
        'envoys:\n  - match: a\n    configcrates: [app]\n  - match: b\n    configcrates: [app]\n    vars: { port: "8080" }\n  - match: c\n    configcrates: [app]\n    vars: { unrelated: x }\n',
    });
    assert.deepEqual(errorsOf(r), []);
    const s = r.snapshot!;
    const [a, b, c] = s.entries.map((e) => e.configcrates[0]!.instance);
    assert.equal(a, c);
    assert.notEqual(a, b);
    assert.equal(s.instances.get(b!)!.resources[0]!.params.content, 'port=8080');
    assert.equal(s.instances.get(a!)!.resources[0]!.params.content, 'port=80');
  });
});
