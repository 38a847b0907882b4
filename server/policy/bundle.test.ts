import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../core/index.ts';
import { buildBundleDocument } from './bundle.ts';
import { diffEntries } from './diff.ts';
import { deserializeSnapshot, serializeSnapshot } from './snapshot.ts';
import { errorsOf, validateFiles } from './testing.ts';
import type { BundleOptions, CompiledSnapshot } from './types.ts';

const base: BundleOptions = { policyVersion: 3, secretsEpoch: 2, issuedAtMs: 1000, expiresAtMs: 2000 };
const debian = {
  os: { family: 'debian', distro: 'ubuntu', version: '22.04' },
  container: { is_container: false },
};
const rhel = { os: { family: 'rhel', distro: 'rocky', version: '9.3' } };

const stack = {
  'configcrates/web.vgo': `name: web
vars:
  port: "80"
resources:
  - name: pkg
    type: package
    package: apache2
    case:
      rhel: { package: httpd }
      ubuntu: { package: apache2-bin }
  - name: conf
    type: file
    target_path: /etc/web.conf
    content: "# {{ .Traits.os.distro }}\\nlisten {{ .Vars.port }}\\npass {{ .Vars.password }}\\n"
    depends_on: [pkg]
    notify: [reload]
  - name: reload
    type: service
    service: web
    state: reloaded
    when: changed
  - name: debian-only
    type: exec
    command: "a2enmod ssl"
    unless: "test -e /etc/apache2/mods-enabled/ssl.load"
    when: "os_family('debian') && !is_container"
`,
  'configcrates/selinux.vgo':
    'name: selinux\nresources:\n  - { name: se, type: exec, command: "setenforce 1", unless: "getenforce | grep -q Enforcing" }\n',
  'roles.vgo': 'roles:\n  web:\n    configcrates: [web]\n    case:\n      rhel: [selinux]\n',
  'envoys.vgo': 'envoys:\n  - match: "*"\n    roles: [web]\n    vars: { password: "secret:vigo/web/pass" }\n',
};

async function compile(files: Record<string, string>): Promise<CompiledSnapshot> {
  const r = await validateFiles(files);
  assert.deepEqual(errorsOf(r), []);
  return r.snapshot!;
}

describe('buildBundleDocument', () => {
  it('renders trait templates, picks the case override (distro before family) and decides trait whens', async () => {
    const snap = await compile(stack);
    const doc = buildBundleDocument(snap.entries[0]!, { ...base, traits: debian });
    assert.deepEqual(
      doc.resources.map((r) => r.id),
      ['web/pkg', 'web/conf', 'web/reload', 'web/debian-only'],
    );
    const [pkg, conf, reload, debianOnly] = doc.resources;
    assert.equal(pkg!.params.package, 'apache2-bin');
    assert.equal(conf!.params.content, '# ubuntu\nlisten 80\npass __VIGO_SECRET__vigo/web/pass__END__\n');
    assert.deepEqual(conf!.depends_on, ['web/pkg']);
    assert.deepEqual(conf!.notify, ['web/reload']);
    assert.equal(reload!.only_when_notified, true);
    assert.equal(debianOnly!.when, null);
    assert.deepEqual(doc.secret_paths, ['vigo/web/pass']);
    assert.match(doc.traits_hash!, /^[0-9a-f]{64}$/);
    assert.equal(doc.merkle_root, snap.entries[0]!.merkleRoot);
    assert.deepEqual(
      [doc.policy_version, doc.secrets_epoch, doc.issued_at_ms, doc.expires_at_ms],
      [3, 2, 1000, 2000],
    );
  });

  it('drops what the traits exclude and includes role case configcrates that match', async () => {
    const snap = await compile(stack);
    const doc = buildBundleDocument(snap.entries[0]!, { ...base, traits: rhel });
    assert.deepEqual(
      doc.resources.map((r) => [r.id, r.params.package ?? null]),
      [
        ['web/pkg', 'httpd'],
        ['web/conf', null],
        ['web/reload', null],
        ['selinux/se', null],
      ],
    );
  });

  it('refuses to build a trait-dependent bundle without traits', async () => {
    const snap = await compile(stack);
    assert.throws(
      () => buildBundleDocument(snap.entries[0]!, base),
      (err: unknown) => isVigoError(err) && err.code === 'policy.traits_required',
    );
  });

  it('leaves trait whens and role guards to the agent when the entry needs no traits', async () => {
    const snap = await compile({
      ...stack,
      'configcrates/web.vgo':
        'name: web\nresources:\n  - { name: x, type: exec, command: "true", creates: /x, when: "os_family(\'debian\')" }\n',
    });
    const doc = buildBundleDocument(snap.entries[0]!, base);
    assert.equal(doc.traits_hash, null);
    assert.deepEqual(
      doc.resources.map((r) => [r.id, r.when]),
      [
        ['web/x', 'os_family("debian")'],
        ['selinux/se', 'os_family("rhel") || distro("rhel")'],
      ],
    );
  });
});

describe('snapshot storage', () => {
  it('round-trips through serialization with the same hash and the same answers', async () => {
    const snap = await compile(stack);
    const restored = deserializeSnapshot(serializeSnapshot(snap));
    assert.equal(restored.hash, snap.hash);
    const a = buildBundleDocument(snap.entries[0]!, { ...base, traits: debian });
    const b = buildBundleDocument(restored.matchEntry('any.host')!, { ...base, traits: debian });
    assert.deepEqual(b, a);
  });

  it('rejects a stored snapshot whose content was altered', async () => {
    const snap = await compile(stack);
    const json = JSON.parse(serializeSnapshot(snap)) as { entries: { vars: Record<string, unknown> }[] };
    json.entries[0]!.vars.password = 'plaintext';
    assert.throws(
      () => deserializeSnapshot(JSON.stringify(json)),
      (err: unknown) => isVigoError(err) && err.code === 'policy.snapshot_invalid',
    );
    assert.throws(() => deserializeSnapshot('{"format":2}'), /unknown format/);
  });

  it('is frozen', async () => {
    const snap = await compile(stack);
    assert.throws(() => {
      snap.entries[0]!.vars.port = '8080';
    }, TypeError);
  });

  it('keeps the hash when only the compile time differs', async () => {
    const a = (await validateFiles(stack, { now: () => 1 })).snapshot!;
    const b = (await validateFiles(stack, { now: () => 2 })).snapshot!;
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.compiledAtMs, b.compiledAtMs);
  });
});

describe('diffEntries', () => {
  it('lists added, changed and removed resource ids per entry', async () => {
    const before = await compile(stack);
    const after = await compile({
      ...stack,
      'configcrates/web.vgo': stack['configcrates/web.vgo']
        .replace('port: "80"', 'port: "8080"')
        .replace(
          / {2}- name: debian-only[\s\S]*$/,
          '  - { name: extra, type: directory, target_path: /srv/web }\n',
        ),
    });
    const [d] = diffEntries(before, after);
    assert.deepEqual(d, {
      entryId: 'envoys.vgo[*]',
      status: 'changed',
      added: ['web/extra'],
      changed: ['web/conf'],
      removed: ['web/debian-only'],
    });
    assert.notEqual(before.entries[0]!.merkleRoot, after.entries[0]!.merkleRoot);
    assert.deepEqual(diffEntries(after, after)[0]!.status, 'unchanged');
  });
});
