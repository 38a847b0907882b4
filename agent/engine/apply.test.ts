import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isVigoError } from '../../server/core/index.ts';
import type { Executor } from '../executors/types.ts';
import { applyBundle, maxMessageBytes } from './index.ts';
import type { ResourceResult } from './index.ts';
import { bundleOf, optionsFor, rawResource, scriptedExecutor, tempDir } from './test-support.ts';
import type { Call } from './test-support.ts';

function step(id: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return rawResource(id, { params: { tag: id, ...params }, ...extra });
}

function byId(results: readonly ResourceResult[]): Map<string, ResourceResult> {
  return new Map(results.map((r) => [r.resourceId, r]));
}

describe('applyBundle: order and dependencies', () => {
  it('applies resources in array order and records the run', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([step('app/c'), step('app/a', { result: 'created' }), step('app/b')]);
    let clock = 1_800_000_000_000;
    const record = await applyBundle(
      optionsFor(t, bundle, [scriptedExecutor(calls)], { now: () => (clock += 5), runId: 'run-1' }),
    );
    assert.deepEqual(
      calls.map((c) => c.id),
      ['app/c', 'app/a', 'app/b'],
    );
    assert.equal(record.runId, 'run-1');
    assert.equal(record.policyVersion, 7);
    assert.equal(record.dryRun, false);
    assert.ok(record.finishedAtMs > record.startedAtMs);
    assert.deepEqual(record.results[1], {
      resourceId: 'app/a',
      resourceType: 'scripted',
      configcrate: 'app',
      outcome: 'created',
      message: 'applied app/a',
      durationMs: 5,
    });
  });

  it('generates a UUID run id when none is given', async (t) => {
    const record = await applyBundle(optionsFor(t, bundleOf([]), []));
    assert.match(record.runId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(record.results, []);
  });

  it('blocks the whole chain behind a failure and still applies unrelated resources', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([
      step('app/a', { result: 'failed', message: 'disk full' }),
      step('app/b', {}, { depends_on: ['app/a'] }),
      step('app/c', {}, { depends_on: ['app/b'] }),
      step('app/unrelated', { result: 'updated' }),
      step('app/d', {}, { depends_on: ['app/unrelated', 'app/c'] }),
    ]);
    const record = await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)]));
    const results = byId(record.results);
    assert.deepEqual(
      calls.map((c) => c.id),
      ['app/a', 'app/unrelated'],
    );
    assert.equal(results.get('app/a')?.outcome, 'failed');
    assert.equal(results.get('app/a')?.message, 'disk full');
    assert.deepEqual(
      [results.get('app/b'), results.get('app/c'), results.get('app/d')].map((r) => [r?.outcome, r?.message]),
      [
        ['blocked', 'depends on app/a which failed'],
        ['blocked', 'depends on app/b which was blocked'],
        ['blocked', 'depends on app/c which was blocked'],
      ],
    );
    assert.equal(results.get('app/unrelated')?.outcome, 'updated');
  });

  it('does not block dependents of a skipped resource', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([
      step('app/optional', {}, { when: 'os_family("redhat")' }),
      step('app/after', { result: 'created' }, { depends_on: ['app/optional'] }),
    ]);
    const record = await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)]));
    assert.deepEqual(
      record.results.map((r) => r.outcome),
      ['skipped', 'created'],
    );
  });

  it('marks resources not yet attempted as blocked once the agent shuts down', async (t) => {
    const controller = new AbortController();
    const stopper: Executor = {
      type: 'stopper',
      apply: async () => {
        controller.abort();
        return { outcome: 'updated', message: 'changed, then shutdown began' };
      },
    };
    const calls: Call[] = [];
    const bundle = bundleOf([step('app/first', {}, { type: 'stopper' }), step('app/second')]);
    const record = await applyBundle(
      optionsFor(t, bundle, [stopper, scriptedExecutor(calls)], { signal: controller.signal }),
    );
    assert.deepEqual(
      record.results.map((r) => [r.outcome, r.message]),
      [
        ['updated', 'changed, then shutdown began'],
        ['blocked', 'not attempted: the agent is shutting down'],
      ],
    );
    assert.equal(calls.length, 0);
  });
});

describe('applyBundle: notifications', () => {
  it('applies an only_when_notified resource only after its notifier changed', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([
      step('app/config', { result: 'updated' }, { notify: ['app/handler'] }),
      step('app/same', { result: 'none' }, { notify: ['app/idle-handler'] }),
      step('app/broken', { result: 'failed' }, { notify: ['app/broken-handler'] }),
      step('app/handler', { result: 'updated' }, { only_when_notified: true }),
      step('app/idle-handler', {}, { only_when_notified: true }),
      step('app/broken-handler', {}, { only_when_notified: true }),
    ]);
    const record = await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)]));
    const results = byId(record.results);
    assert.equal(results.get('app/handler')?.outcome, 'updated');
    assert.deepEqual(
      ['app/idle-handler', 'app/broken-handler'].map((id) => [
        results.get(id)?.outcome,
        results.get(id)?.message,
      ]),
      [
        ['skipped', 'not notified'],
        ['skipped', 'not notified'],
      ],
    );
    assert.deepEqual(
      calls.map((c) => c.id),
      ['app/config', 'app/same', 'app/broken', 'app/handler'],
    );
  });

  it('treats a residual "when: changed" like only_when_notified', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([
      step('app/a', { result: 'none' }, { notify: ['app/h'] }),
      step('app/h', {}, { when: 'changed' }),
    ]);
    const record = await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)]));
    assert.deepEqual(record.results[1]?.message, 'not notified');
    assert.equal(calls.length, 1);
  });

  it('restarts a notified running service and leaves an unnotified one running', async (t) => {
    const calls: Call[] = [];
    const service = (id: string, extra: Record<string, unknown> = {}) =>
      rawResource(id, { type: 'service', params: { tag: id, service: 'nginx', state: 'running' }, ...extra });
    const bundle = bundleOf([
      step('web/config', { result: 'updated' }, { notify: ['web/nginx'] }),
      step('web/other-config', { result: 'none' }, { notify: ['web/quiet'] }),
      service('web/nginx'),
      service('web/quiet'),
      step('web/stop-config', { result: 'created' }, { notify: ['web/stopped'] }),
      rawResource('web/stopped', {
        type: 'service',
        params: { tag: 'web/stopped', service: 'x', state: 'stopped' },
      }),
    ]);
    await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls), scriptedExecutor(calls, 'service')]));
    const state = new Map(calls.map((c) => [c.id, c.params.state]));
    assert.equal(state.get('web/nginx'), 'restarted');
    assert.equal(state.get('web/quiet'), 'running');
    assert.equal(state.get('web/stopped'), 'stopped');
  });
});

describe('applyBundle: when conditions', () => {
  it('evaluates trait and probe conditions on the agent', async (t) => {
    const dir = tempDir(t);
    const present = path.join(dir, 'present.conf');
    fs.writeFileSync(present, 'x');
    const calls: Call[] = [];
    const bundle = bundleOf([
      step('app/debian', {}, { when: 'os_family("debian")' }),
      step('app/redhat', {}, { when: 'os_family("redhat")' }),
      step('app/has-file', {}, { when: `file_exists(${JSON.stringify(present)})` }),
      step('app/no-file', {}, { when: `file_exists(${JSON.stringify(path.join(dir, 'absent'))})` }),
      step('app/both', {}, { when: `(distro("ubuntu")) && (dir_exists(${JSON.stringify(dir)}))` }),
      step('app/command', {}, { when: 'command_succeeds("exit 3")' }),
    ]);
    const record = await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)]));
    assert.deepEqual(
      calls.map((c) => c.id),
      ['app/debian', 'app/has-file', 'app/both'],
    );
    const results = byId(record.results);
    assert.equal(results.get('app/redhat')?.outcome, 'skipped');
    assert.equal(results.get('app/redhat')?.message, 'when: os_family("redhat") is false');
    assert.equal(results.get('app/no-file')?.outcome, 'skipped');
    assert.equal(results.get('app/command')?.outcome, 'skipped');
  });

  it('fails a resource whose condition cannot be parsed or evaluated, and carries on', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([
      step('app/syntax', {}, { when: 'file_exists(' }),
      step('app/type', {}, { when: 'traits.os.family < true' }),
      step('app/fine'),
    ]);
    const record = await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)]));
    assert.deepEqual(
      record.results.map((r) => r.outcome),
      ['failed', 'failed', 'none'],
    );
    assert.match(record.results[0]!.message, /^when: file_exists\( could not be evaluated: bundle:1:/);
    assert.match(record.results[1]!.message, /booleans have no order|cannot compare/);
  });
});

describe('applyBundle: observe mode', () => {
  it('passes --dry-run to executors and does not snapshot', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'motd');
    fs.writeFileSync(file, 'old');
    const calls: Call[] = [];
    const bundle = bundleOf([step('app/a', { result: 'updated', snapshot: file })]);
    const options = optionsFor(t, bundle, [scriptedExecutor(calls)], { dryRun: true });
    const record = await applyBundle(options);
    assert.equal(calls[0]?.dryRun, true);
    assert.equal(record.dryRun, true);
    assert.equal(record.results[0]?.outcome, 'updated');
    assert.deepEqual(await options.snapshots.list(file), []);
  });

  it("honours the bundle's observe_only", async (t) => {
    const calls: Call[] = [];
    const record = await applyBundle(
      optionsFor(t, bundleOf([step('app/a')], { observe_only: true }), [scriptedExecutor(calls)], {
        dryRun: false,
      }),
    );
    assert.equal(calls[0]?.dryRun, true);
    assert.equal(record.dryRun, true);
  });

  it('snapshots files an executor is about to change outside observe mode', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'motd');
    fs.writeFileSync(file, 'before');
    const options = optionsFor(t, bundleOf([step('app/a', { result: 'updated', snapshot: file })]), [
      scriptedExecutor([]),
    ]);
    await applyBundle(options);
    const taken = await options.snapshots.list(file);
    assert.equal(taken.length, 1);
    assert.equal(fs.readFileSync(taken[0]!.snapshotPath, 'utf8'), 'before');
  });
});

describe('applyBundle: executor problems', () => {
  it('fails a resource of a type with no executor', async (t) => {
    const record = await applyBundle(
      optionsFor(t, bundleOf([step('app/x', {}, { type: 'cisco_vlan' }), step('app/y')]), [
        scriptedExecutor([]),
      ]),
    );
    assert.deepEqual(record.results[0]?.outcome, 'failed');
    assert.equal(record.results[0]?.message, 'no executor for type cisco_vlan on this agent');
    assert.equal(record.results[1]?.outcome, 'none');
  });

  it('turns a throwing executor into a failure and carries on', async (t) => {
    const thrower: Executor = {
      type: 'thrower',
      apply: () => Promise.reject(new TypeError('cannot read properties of undefined')),
    };
    const calls: Call[] = [];
    const bundle = bundleOf([
      step('app/bad', {}, { type: 'thrower' }),
      step('app/good', { result: 'created' }),
    ]);
    const record = await applyBundle(optionsFor(t, bundle, [thrower, scriptedExecutor(calls)]));
    assert.equal(record.results[0]?.outcome, 'failed');
    assert.match(record.results[0].message, /cannot read properties of undefined/);
    assert.equal(record.results[1]?.outcome, 'created');
  });

  it('fails a resource whose executor returns an outcome it may not use', async (t) => {
    const record = await applyBundle(
      optionsFor(t, bundleOf([step('app/a', { result: 'blocked' })]), [scriptedExecutor([])]),
    );
    assert.equal(record.results[0]?.outcome, 'failed');
    assert.match(record.results[0].message, /invalid result/);
  });

  it('keeps skipped from an executor whose subject is absent on the host (selinux without SELinux)', async (t) => {
    const record = await applyBundle(
      optionsFor(t, bundleOf([step('app/a', { result: 'skipped' })]), [scriptedExecutor([])]),
    );
    assert.equal(record.results[0]?.outcome, 'skipped');
  });

  it('cuts messages to the protocol limit', async (t) => {
    const long = 'é'.repeat(maxMessageBytes);
    const record = await applyBundle(
      optionsFor(t, bundleOf([step('app/a', { result: 'failed', message: long })]), [scriptedExecutor([])]),
    );
    const message = record.results[0]!.message;
    assert.ok(Buffer.byteLength(message) <= maxMessageBytes);
    assert.match(message, /^é+…$/);
  });
});

describe('applyBundle: revert', () => {
  it('applies on_revert over params, and fails a revert with nothing to apply', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([
      step(
        'app/pkg',
        { package: 'telnet', state: 'present' },
        { revert: true, on_revert: { state: 'absent', result: 'deleted' } },
      ),
      step('app/none', {}, { revert: true, on_revert: null }),
      step('app/kept', { state: 'present' }, { revert: false, on_revert: { state: 'absent' } }),
    ]);
    const record = await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)]));
    assert.deepEqual(calls[0]?.params, {
      tag: 'app/pkg',
      package: 'telnet',
      state: 'absent',
      result: 'deleted',
    });
    assert.equal(record.results[0]?.outcome, 'deleted');
    assert.equal(record.results[1]?.outcome, 'failed');
    assert.match(record.results[1].message, /nothing to revert/);
    assert.equal(calls[1]?.params.state, 'present');
  });
});

describe('applyBundle: progress and expiry', () => {
  it('reports each result as it happens, even to a listener that throws', async (t) => {
    const seen: string[] = [];
    const bundle = bundleOf([step('app/a'), step('app/b')]);
    const record = await applyBundle(
      optionsFor(t, bundle, [scriptedExecutor([])], {
        onResult: (r) => {
          seen.push(r.resourceId);
          throw new Error('listener broke');
        },
      }),
    );
    assert.deepEqual(seen, ['app/a', 'app/b']);
    assert.equal(record.results.length, 2);
  });

  it('refuses an expired bundle and applies nothing', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([step('app/a')], { expires_at_ms: 1_700_000_100_000 });
    await assert.rejects(
      applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)], { now: () => 1_700_000_100_000 })),
      (err: unknown) =>
        isVigoError(err) && err.code === 'agent.bundle_expired' && /nothing was applied/.test(err.message),
    );
    assert.equal(calls.length, 0);
  });
});
