import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { TaskDispatchSchema } from '../../protocol/index.ts';
import { checkDispatch, clipText, taskLimits } from './dispatch-check.ts';

const taskId = '8d3c1f7e-5b2a-4c9d-a1e0-3f4b5c6d7e8f';

describe('checkDispatch', () => {
  it('turns a valid dispatch into a task, timeout 0 meaning 300 s', () => {
    const checked = checkDispatch(
      create(TaskDispatchSchema, {
        taskId,
        action: { case: 'taskName', value: 'vigo.traits' },
        params: { a: 'b' },
        nice: -20,
      }),
    );
    assert.ok(checked.ok);
    assert.equal(checked.task.timeoutMs, 300_000);
    assert.deepEqual(checked.task.action, {
      kind: 'named',
      name: 'vigo.traits',
      params: new Map([['a', 'b']]),
    });
    assert.equal(checked.task.nice, -20);
  });

  it('holds a timeout beyond what a timer can wait to the longest one, never to "at once"', () => {
    const checked = checkDispatch(
      create(TaskDispatchSchema, {
        taskId,
        action: { case: 'command', value: 'true' },
        timeoutSeconds: 4_000_000_000,
      }),
    );
    assert.ok(checked.ok);
    assert.equal(checked.task.timeoutMs, taskLimits.maxTimeoutMs);
  });

  it('cannot answer a dispatch whose task_id is not a UUID', () => {
    const checked = checkDispatch(
      create(TaskDispatchSchema, { taskId: 'x', action: { case: 'command', value: 'true' } }),
    );
    assert.deepEqual(checked, {
      ok: false,
      answerable: false,
      message: 'task_id "x" is not a UUID in its text form',
    });
  });

  it('rejects an empty command and one with a NUL byte', () => {
    for (const [command, message] of [
      ['  ', /command is empty/],
      ['echo a\0b', /NUL byte/],
    ] as const) {
      const checked = checkDispatch(
        create(TaskDispatchSchema, { taskId, action: { case: 'command', value: command } }),
      );
      assert.ok(!checked.ok && checked.answerable);
      assert.match(checked.message, message);
    }
  });
});

describe('clipText', () => {
  it('cuts to a byte budget without splitting a character', () => {
    assert.equal(clipText('short', 10), 'short');
    const clipped = clipText('é'.repeat(10), 8);
    assert.ok(Buffer.byteLength(clipped) <= 8);
    assert.equal(clipped, 'éé…');
  });
});
