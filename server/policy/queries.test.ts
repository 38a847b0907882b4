import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildBundleDocument } from './bundle.ts';
import { LazySnapshot, encodeSnapshot } from './snapshot-encoded.ts';
import { deserializeSnapshot, serializeSnapshot } from './snapshot.ts';
import { errorsOf, validateFiles } from './testing.ts';
import type { CompiledSnapshot } from './types.ts';

const crate = `name: base
resources:
  - name: motd
    type: file
    target_path: /tmp/vigo-demo/motd
    content: hello
`;
const roles = 'roles:\n  web:\n    configcrates: [base]\n  db:\n    configcrates: [base]\n';
const envoys = `envoys:
  - match: "web-*"
    roles: [web]
  - match: "db-*"
    roles: [db]
`;
const queries = `queries:
  os-version:
    description: The distribution's version
    trait: os.version
  sshd-config:
    description: Which sshd config each host has
    probe: file_sha256
    args: { path: /etc/ssh/sshd_config }
  open-ports:
    probe: listening_ports
`;
const stack = (queriesText: string | undefined): Record<string, string> => ({
  'configcrates/base.vgo': crate,
  'roles.vgo': roles,
  'envoys.vgo': envoys,
  ...(queriesText === undefined ? {} : { 'queries.vgo': queriesText }),
});

async function compiled(queriesText: string | undefined): Promise<CompiledSnapshot> {
  const result = await validateFiles(stack(queriesText));
  assert.deepEqual(errorsOf(result), []);
  assert.ok(result.snapshot);
  return result.snapshot;
}

function bundleOf(snapshot: CompiledSnapshot, hostname: string) {
  const entry = snapshot.matchEntry(hostname);
  assert.ok(entry);
  return buildBundleDocument(entry, { policyVersion: 1, secretsEpoch: 0, issuedAtMs: 0, expiresAtMs: 1 });
}

describe('named queries (queries.vgo)', () => {
  it('compile into the snapshot and into every bundle', async () => {
    const snapshot = await compiled(queries);
    assert.deepEqual(Object.keys(snapshot.queries), ['open-ports', 'os-version', 'sshd-config']);
    assert.deepEqual(snapshot.queries['sshd-config'], {
      description: 'Which sshd config each host has',
      trait: null,
      probe: 'file_sha256',
      args: { path: '/etc/ssh/sshd_config' },
    });
    assert.deepEqual(snapshot.queries['os-version'], {
      description: "The distribution's version",
      trait: 'os.version',
      probe: null,
      args: {},
    });
    for (const host of ['web-1', 'db-1'])
      assert.deepEqual(Object.keys(bundleOf(snapshot, host).queries ?? {}), Object.keys(snapshot.queries));
  });

  it('leave stacks without queries exactly as they were, and change every Merkle root when present', async () => {
    const without = await compiled(undefined);
    assert.equal(bundleOf(without, 'web-1').queries, undefined);
    assert.equal('queries' in without.toJSON(), false);
    const withQueries = await compiled(queries);
    assert.notEqual(withQueries.hash, without.hash);
    for (const host of ['web-1', 'db-1'])
      assert.notEqual(withQueries.matchEntry(host)?.merkleRoot, without.matchEntry(host)?.merkleRoot);
    const edited = await compiled(queries.replace('sshd_config', 'ssh_config'));
    assert.notEqual(edited.matchEntry('db-1')?.merkleRoot, withQueries.matchEntry('db-1')?.merkleRoot);
    assert.notEqual(edited.hash, withQueries.hash);
  });

  it('survive storage: the encoded body, its lazy reading and a verified reload agree', async () => {
    const snapshot = await compiled(queries);
    const encoded = encodeSnapshot(snapshot);
    assert.equal(encoded.body.toString('utf8'), serializeSnapshot(snapshot));
    assert.deepEqual(new LazySnapshot(encoded.body, encoded.index).queries, snapshot.queries);
    const reloaded = deserializeSnapshot(serializeSnapshot(snapshot));
    assert.equal(reloaded.hash, snapshot.hash);
    assert.deepEqual(reloaded.queries, snapshot.queries);
    const tampered = JSON.parse(serializeSnapshot(snapshot)) as {
      queries: Record<string, { args: Record<string, string> }>;
    };
    tampered.queries['sshd-config']!.args['path'] = '/etc/shadow';
    assert.throws(() => deserializeSnapshot(JSON.stringify(tampered)), /Merkle root|content hash/);
  });

  it('are refused with a diagnostic at their line when they are malformed', async () => {
    const bad = `queries:
  both:
    trait: os.version
    probe: listening_ports
  neither:
    description: nothing to read
  shell:
    probe: run_command
    args: { command: "cat /etc/shadow" }
  relative:
    probe: file_sha256
    args: { path: etc/passwd }
  dotdot:
    probe: file_exists
    args: { path: /etc/../root/.ssh }
  missing-arg:
    probe: package_version
  extra-arg:
    probe: listening_ports
    args: { port: "22" }
  bad-name-arg:
    probe: process_running
    args: { name: "nginx; reboot" }
  bad-trait:
    trait: os..version
  trait-args:
    trait: os.version
    args: { path: /etc }
  Bad_Name:
    trait: os.version
  unknown-key:
    trait: os.version
    command: id
`;
    const result = await validateFiles(stack(bad));
    const errors = errorsOf(result);
    const codes = errors.map((e) => e.split(' ')[0]);
    const count = (code: string): number => codes.filter((c) => c === code).length;
    assert.equal(count('query.source_missing'), 2, JSON.stringify(errors));
    assert.equal(count('query.probe_unknown'), 1);
    assert.equal(count('query.args_invalid'), 6);
    assert.equal(count('query.trait_invalid'), 1);
    assert.equal(count('query.name_invalid'), 1);
    assert.ok(
      codes.some((c) => c?.startsWith('schema.')),
      JSON.stringify(errors),
    );
    assert.ok(
      errors.every((e) => /queries\.vgo:\d+:\d+/.test(e)),
      JSON.stringify(errors),
    );
    assert.ok(
      errors.some((e) => e === 'query.args_invalid queries.vgo:12:5'),
      'the line of the relative path',
    );
    assert.equal(result.snapshot, undefined);
  });

  it('refuse a query defined in both queries.vgo and queries.yaml', async () => {
    const result = await validateFiles({
      ...stack(queries),
      'queries.yaml': 'queries:\n  os-version:\n    trait: os.name\n',
    });
    assert.ok(
      errorsOf(result).some((e) => e.startsWith('query.duplicate ')),
      JSON.stringify(errorsOf(result)),
    );
  });
});
