import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazySnapshot, encodeSnapshot } from './snapshot-encoded.ts';
import { deserializeSnapshot, serializeSnapshot } from './snapshot.ts';
import { errorsOf, validateFiles } from './testing.ts';
import type { CompiledSnapshot } from './types.ts';

const base = {
  'configcrates/base.vgo':
    'name: base\nresources:\n  - name: motd\n    type: file\n    target_path: /tmp/vigo-demo/motd\n    content: hello\n',
  'roles.vgo': 'roles:\n  web:\n    configcrates: [base]\n',
  'envoys.vgo': 'envoys:\n  - match: "web-*"\n    roles: [web]\n',
  'tasks.vgo':
    'tasks:\n  check:\n    command: test -e "$VIGO_PARAM_PATH"\n    params:\n      path: { type: string }\n      lines: { type: integer, default: 5, max: 10 }\n',
};
const good = `workflows:
  roll:
    description: check, gate, push, converge
    params:
      target: { type: string, default: "web-*" }
    steps:
      - id: probe
        type: task
        task: check
        params: { path: /etc/hostname }
        targets: ["{{ .Params.target }}"]
        batch_size: 50%
        on_failure: retry
      - id: gate
        type: approval
        timeout: 10m
      - id: push
        type: force_push
        targets: ["{{ .Params.target }}"]
      - id: converge
        type: wait_for_convergence
        targets: ["{{ .Params.target }}"]
        timeout: 5m
        on_success: end
      - id: retry
        type: task
        command: uptime
        targets: ["{{ .Steps.probe.failed_hosts }}"]
        on_success: fail
  release:
    steps:
      - { id: gate, type: approval }
      - { id: activate, type: publish }
      - { id: tell, type: force_push, targets: ["{{ .Steps.activate.version }}"] }
`;

async function compiled(files: Record<string, string>): Promise<CompiledSnapshot> {
  const result = await validateFiles(files);
  assert.deepEqual(errorsOf(result), []);
  assert.ok(result.snapshot);
  return result.snapshot;
}

describe('workflows (workflows.vgo)', () => {
  it('compile into the snapshot with their branches made explicit', async () => {
    const snapshot = await compiled({ ...base, 'workflows.vgo': good });
    const roll = snapshot.workflows['roll'];
    assert.ok(roll);
    assert.deepEqual(
      roll.steps.map((s) => [s.id, s.type, s.on_success, s.on_failure]),
      [
        ['probe', 'task', 'gate', 'retry'],
        ['gate', 'approval', 'push', 'fail'],
        ['push', 'force_push', 'converge', 'fail'],
        ['converge', 'wait_for_convergence', 'end', 'fail'],
        ['retry', 'task', 'fail', 'fail'],
      ],
    );
    assert.equal(roll.steps[1]!.timeout_seconds, 600);
    assert.equal(roll.steps[3]!.timeout_seconds, 300);
    assert.equal(roll.steps[0]!.batch_size, '50%');
    assert.deepEqual(
      snapshot.workflows['release']?.steps.map((s) => [s.id, s.type, s.on_success]),
      [
        ['gate', 'approval', 'activate'],
        ['activate', 'publish', 'tell'],
        ['tell', 'force_push', 'end'],
      ],
    );
  });

  it('leave the hash of stacks without workflows byte for byte as it was, and survive storage', async () => {
    const without = await compiled(base);
    assert.deepEqual(without.workflows, {});
    assert.ok(!serializeSnapshot(without).includes('"workflows"'));
    const withWorkflows = await compiled({ ...base, 'workflows.vgo': good });
    assert.notEqual(withWorkflows.hash, without.hash);
    assert.equal(withWorkflows.matchEntry('web-1')?.merkleRoot, without.matchEntry('web-1')?.merkleRoot);
    const encoded = encodeSnapshot(withWorkflows);
    assert.equal(encoded.body.toString('utf8'), serializeSnapshot(withWorkflows));
    assert.deepEqual(new LazySnapshot(encoded.body, encoded.index).workflows, withWorkflows.workflows);
    const reloaded = deserializeSnapshot(serializeSnapshot(withWorkflows));
    assert.equal(reloaded.hash, withWorkflows.hash);
    const tampered = JSON.parse(serializeSnapshot(withWorkflows)) as {
      workflows: Record<string, { steps: { command?: string }[] }>;
    };
    tampered.workflows['roll']!.steps[4]!.command = 'rm -rf /';
    assert.throws(() => deserializeSnapshot(JSON.stringify(tampered)), /content hash/);
  });

  it('are refused with stable codes at their file and line', async () => {
    const bad = `workflows:
  Bad_Name:
    steps: [{ id: a, type: approval }]
  broken:
    params:
      n: { type: integer, default: 5, max: 3 }
    steps:
      - id: a
        type: task
        task: nosuch
        targets: [web-1]
        on_failure: nowhere
      - id: a
        type: approval
        targets: [web-1]
      - id: end
        type: force_push
        targets: ["{{ .Steps.later.status }}"]
      - id: c
        type: task
        command: "echo {{ .Params.n }}"
        targets: ["{{ .Params.nosuch }}", "{{ .Steps.a.nosuch }}", "{{ .Env.HOME }}"]
        timeout: 3d
      - id: d
        type: task
        task: check
        params: { path: 5, lines: 50, other: x }
        targets: [web-1]
      - id: e
        type: wait_for_convergence
      - id: f
        type: task
        task: check
        command: uptime
        targets: [web-1]
      - id: g
        type: publish
        targets: [web-1]
      - id: later
        type: approval
`;
    const result = await validateFiles({ ...base, 'workflows.vgo': bad });
    const errors = errorsOf(result);
    const codes = errors.map((e) => e.split(' ')[0]);
    for (const code of [
      'workflow.name_invalid',
      'workflow.param_invalid',
      'workflow.next_unknown',
      'workflow.step_duplicate',
      'workflow.step_field',
      'workflow.step_id_invalid',
      'workflow.ref_invalid',
      'workflow.ref_in_command',
      'workflow.duration_invalid',
      'workflow.targets_missing',
      'workflow.task_missing',
    ])
      assert.ok(codes.includes(code), `${code} in ${JSON.stringify(errors)}`);
    // later is defined, but after the step that reads it; a.nosuch is no output; .Env is no root.
    assert.equal(codes.filter((c) => c === 'workflow.ref_invalid').length, 4);
    assert.ok(
      errors.every((e) => /workflows\.vgo:\d+:\d+$/.test(e)),
      JSON.stringify(errors),
    );
    assert.ok(
      errors.some((e) => e === 'workflow.name_invalid workflows.vgo:2:3'),
      JSON.stringify(errors),
    );
    assert.equal(result.snapshot, undefined);
  });

  it('check the named tasks their steps run against tasks.vgo', async () => {
    const text = `workflows:
  w:
    steps:
      - id: a
        type: task
        task: chek
        targets: [web-1]
      - id: b
        type: task
        task: check
        params: { path: 5, lines: 50, other: x }
        targets: [web-1]
      - id: c
        type: task
        task: check
        params: { path: "{{ .Steps.a.status }}" }
        targets: [web-1]
      - id: d
        type: task
        task: vigo.converge
        targets: [web-1]
`;
    const errors = errorsOf(await validateFiles({ ...base, 'workflows.vgo': text }));
    assert.deepEqual(errors.map((e) => e.split(' ')[0]).sort(), [
      'workflow.param_invalid',
      'workflow.param_invalid',
      'workflow.param_invalid',
      'workflow.task_unknown',
    ]);
  });

  it('refuse more steps than a workflow may hold', async () => {
    const steps = Array.from({ length: 51 }, (_, i) => `      - { id: s${i}, type: approval }`).join('\n');
    const result = await validateFiles({
      ...base,
      'workflows.vgo': `workflows:\n  w:\n    steps:\n${steps}\n`,
    });
    assert.ok(errorsOf(result).length > 0);
    assert.equal(result.snapshot, undefined);
  });
});
