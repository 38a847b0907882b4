import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigoError } from '../core/index.ts';
import { buildBundleDocument } from './bundle.ts';
import { LazySnapshot, encodeSnapshot } from './snapshot-encoded.ts';
import { deserializeSnapshot, serializeSnapshot } from './snapshot.ts';
import { bindTaskParams } from './task-params.ts';
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
const tasks = `tasks:
  uptime:
    command: uptime
  restart-web:
    description: Restart the web service and show its journal
    script: |
      systemctl restart "$VIGO_PARAM_SERVICE"
      journalctl -u "$VIGO_PARAM_SERVICE" -n "$VIGO_PARAM_LINES" --no-pager
    params:
      service: { type: string, default: nginx, format: name }
      lines: { type: integer, default: 20, min: 1, max: 1000 }
      follow: { type: boolean, default: false }
      mode: { type: enum, values: [graceful, hard] }
    timeout: 5m
    nice: 10
    roles: [web]
`;
const stack = (tasksText: string | undefined): Record<string, string> => ({
  'configcrates/base.vgo': crate,
  'roles.vgo': roles,
  'envoys.vgo': envoys,
  ...(tasksText === undefined ? {} : { 'tasks.vgo': tasksText }),
});

async function compiled(tasksText: string | undefined): Promise<CompiledSnapshot> {
  const result = await validateFiles(stack(tasksText));
  assert.deepEqual(errorsOf(result), []);
  assert.ok(result.snapshot);
  return result.snapshot;
}

function bundleOf(snapshot: CompiledSnapshot, hostname: string) {
  const entry = snapshot.matchEntry(hostname);
  assert.ok(entry);
  return buildBundleDocument(entry, { policyVersion: 1, secretsEpoch: 0, issuedAtMs: 0, expiresAtMs: 1 });
}

describe('named tasks (tasks.vgo)', () => {
  it('compile into the snapshot and into the bundles of the entries whose roles they name', async () => {
    const snapshot = await compiled(tasks);
    assert.deepEqual(Object.keys(snapshot.tasks), ['restart-web', 'uptime']);
    const restart = snapshot.tasks['restart-web']!;
    assert.equal(restart.timeout_seconds, 300);
    assert.equal(restart.nice, 10);
    assert.deepEqual(restart.roles, ['web']);
    assert.deepEqual(Object.keys(restart.params), ['follow', 'lines', 'mode', 'service']);
    assert.equal(snapshot.tasks['uptime']!.timeout_seconds, 60);
    assert.deepEqual(Object.keys(bundleOf(snapshot, 'web-1').tasks ?? {}), ['restart-web', 'uptime']);
    assert.deepEqual(Object.keys(bundleOf(snapshot, 'db-1').tasks ?? {}), ['uptime']);
  });

  it('leave stacks without tasks exactly as they were, and change the Merkle root of entries they reach', async () => {
    const without = await compiled(undefined);
    assert.equal(without.matchEntry('web-1')?.tasks, undefined);
    assert.equal(bundleOf(without, 'web-1').tasks, undefined);
    const withTasks = await compiled(tasks);
    assert.notEqual(withTasks.hash, without.hash);
    assert.notEqual(withTasks.matchEntry('web-1')?.merkleRoot, without.matchEntry('web-1')?.merkleRoot);
    // Editing a task an entry does not carry leaves that entry's root alone.
    const edited = await compiled(tasks.replace('journalctl -u', 'journalctl --unit'));
    assert.notEqual(edited.matchEntry('web-1')?.merkleRoot, withTasks.matchEntry('web-1')?.merkleRoot);
    assert.equal(edited.matchEntry('db-1')?.merkleRoot, withTasks.matchEntry('db-1')?.merkleRoot);
    assert.notEqual(edited.hash, withTasks.hash);
  });

  it('survive storage: the encoded body, its lazy reading and a verified reload agree', async () => {
    const snapshot = await compiled(tasks);
    const encoded = encodeSnapshot(snapshot);
    assert.equal(encoded.body.toString('utf8'), serializeSnapshot(snapshot));
    const lazy = new LazySnapshot(encoded.body, encoded.index);
    assert.deepEqual(lazy.tasks, snapshot.tasks);
    assert.deepEqual(lazy.matchEntry('web-1')?.tasks, ['restart-web', 'uptime']);
    const reloaded = deserializeSnapshot(serializeSnapshot(snapshot));
    assert.equal(reloaded.hash, snapshot.hash);
    assert.deepEqual(reloaded.tasks, snapshot.tasks);
    const tampered = JSON.parse(serializeSnapshot(snapshot)) as {
      tasks: Record<string, { command: string }>;
    };
    tampered.tasks['uptime']!.command = 'rm -rf /';
    assert.throws(() => deserializeSnapshot(JSON.stringify(tampered)), /Merkle root|content hash/);
  });

  it('are refused with a diagnostic at their line when they are malformed', async () => {
    const bad = `tasks:
  both:
    command: a
    script: b
  neither:
    description: nothing to run
  slow:
    command: sleep 1
    timeout: 3d
  wrong-key:
    command: x
    params:
      n: { type: integer, format: name }
  bad-default:
    command: x
    params:
      n: { type: integer, default: 5, max: 3 }
  orphan:
    command: x
    roles: [nosuch]
  Bad_Name:
    command: x
`;
    const result = await validateFiles(stack(bad));
    const codes = errorsOf(result).map((e) => e.split(' ')[0]);
    for (const code of [
      'task.command_missing',
      'task.timeout_invalid',
      'task.param_invalid',
      'ref.unknown',
      'task.name_invalid',
    ])
      assert.ok(codes.includes(code), `${code} in ${JSON.stringify(errorsOf(result))}`);
    assert.equal(codes.filter((c) => c === 'task.command_missing').length, 2);
    assert.equal(codes.filter((c) => c === 'task.param_invalid').length, 2);
    assert.ok(errorsOf(result).every((e) => e.includes('tasks.vgo:')));
    assert.equal(result.snapshot, undefined);
  });

  it('refuse a task defined in both tasks.vgo and tasks.yaml', async () => {
    const result = await validateFiles({
      ...stack(tasks),
      'tasks.yaml': 'tasks:\n  uptime:\n    command: w\n',
    });
    assert.ok(
      errorsOf(result).some((e) => e.startsWith('task.duplicate ')),
      JSON.stringify(errorsOf(result)),
    );
  });
});

describe('binding a named task\u2019s parameters', () => {
  const task = {
    description: '',
    command: null,
    script: 'true',
    params: {
      follow: { type: 'boolean' as const, default: false },
      lines: { type: 'integer' as const, default: 20, min: 1, max: 1000 },
      mode: { type: 'enum' as const, values: ['graceful', 'hard'] },
      service: { type: 'string' as const, default: 'nginx', format: 'name' as const },
    },
    timeout_seconds: 60,
    nice: 0,
    roles: [],
  };
  const refused = (code: string, given: Record<string, string | number | boolean>): void => {
    assert.throws(
      () => bindTaskParams('restart-web', task, given),
      (err: unknown) => err instanceof VigoError && err.code === code,
    );
  };

  it('fills defaults and reads CLI text as the declared type', () => {
    assert.deepEqual(bindTaskParams('restart-web', task, { mode: 'hard', lines: '50', follow: 'true' }), {
      follow: 'true',
      lines: '50',
      mode: 'hard',
      service: 'nginx',
    });
  });

  it('refuses unknown, missing and ill-typed values before anything is dispatched', () => {
    refused('task.param_unknown', { mode: 'hard', colour: 'red' });
    refused('task.param_missing', {});
    refused('task.param_invalid', { mode: 'soft' });
    refused('task.param_invalid', { mode: 'hard', lines: '5000' });
    refused('task.param_invalid', { mode: 'hard', lines: 'ten' });
    refused('task.param_invalid', { mode: 'hard', follow: 'yes' });
    refused('task.param_invalid', { mode: 'hard', service: 'nginx; rm -rf /' });
  });
});
