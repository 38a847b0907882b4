/** The task result store on a real directory: durable, private, bounded, and honest about restarts. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { TaskResultStore } from './result-store.ts';
import type { TaskOutcome } from './types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-task-store-'));
  dirs.push(dir);
  return path.join(dir, 'tasks');
}

function outcome(taskId: string, extra: Partial<TaskOutcome> = {}): TaskOutcome {
  return {
    taskId,
    status: 'succeeded',
    exitCode: 0,
    stdout: Buffer.from([0, 1, 2, 255]),
    stderr: Buffer.from('warn\n'),
    truncated: true,
    startedAtMs: 1_000,
    finishedAtMs: 2_000,
    message: '',
    results: [
      {
        resourceId: 'r',
        resourceType: 'file',
        configcrate: 'c',
        outcome: 'updated',
        message: 'm',
        durationMs: 4,
      },
    ],
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ...extra,
  };
}

describe('TaskResultStore', () => {
  it('keeps a result across a restart, in a 0600 file, and remembers whether it was sent', () => {
    const dir = tempDir();
    const id = randomUUID();
    const store = new TaskResultStore(dir);
    store.markRunning(id, 1_000, 'tp');
    assert.equal(store.stateOf(id), 'running');
    store.finish(outcome(id));
    assert.equal(fs.statSync(path.join(dir, `${id}.json`)).mode & 0o777, 0o600);
    const reopened = new TaskResultStore(dir);
    assert.equal(reopened.stateOf(id), 'finished');
    assert.deepEqual(reopened.result(id), outcome(id));
    assert.deepEqual(reopened.unsentIds(), [id]);
    reopened.markSent(id);
    assert.deepEqual(new TaskResultStore(dir).unsentIds(), []);
  });

  it('turns a task a restart cut off into a FAILED result to send, never to run again', () => {
    const dir = tempDir();
    const id = randomUUID();
    new TaskResultStore(dir).markRunning(id, 1_000, 'tp');
    const after = new TaskResultStore(dir, { now: () => 5_000 });
    assert.equal(after.stateOf(id), 'finished');
    const result = after.result(id);
    assert.equal(result?.status, 'failed');
    assert.equal(result?.exitCode, -1);
    assert.equal(result?.startedAtMs, 1_000);
    assert.equal(result?.finishedAtMs, 5_000);
    assert.equal(result?.traceparent, 'tp');
    assert.match(result?.message ?? '', /restarted while the task ran/);
    assert.deepEqual(after.unsentIds(), [id]);
  });

  it('keeps at most maxRecords, dropping the oldest, and nothing older than maxAgeMs', () => {
    const dir = tempDir();
    let nowMs = 1_000_000;
    const store = new TaskResultStore(dir, { maxRecords: 3, maxAgeMs: 10_000, now: () => nowMs });
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const id of ids) {
      nowMs += 1;
      store.finish(outcome(id));
    }
    assert.equal(store.size, 3);
    assert.deepEqual(
      ids.map((id) => store.stateOf(id)),
      [undefined, undefined, 'finished', 'finished', 'finished'],
    );
    assert.equal(fs.readdirSync(dir).length, 3);
    nowMs += 20_000;
    const later = randomUUID();
    store.finish(outcome(later));
    assert.equal(store.size, 1);
    assert.equal(store.stateOf(later), 'finished');
  });

  it('drops files it cannot read and temp files a crash left behind', () => {
    const dir = tempDir();
    fs.mkdirSync(dir, { recursive: true });
    const id = randomUUID();
    fs.writeFileSync(path.join(dir, `${id}.json`), '{"format":"vigo-task/1"');
    fs.writeFileSync(
      path.join(dir, `${randomUUID()}.json`),
      JSON.stringify({ format: 'vigo-task/1', task_id: 'x' }),
    );
    fs.writeFileSync(path.join(dir, `${id}.json.tmp-123`), 'partial');
    const store = new TaskResultStore(dir);
    assert.equal(store.size, 0);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('takes only UUIDs as task ids, so no id names a file outside its directory', () => {
    const store = new TaskResultStore(tempDir());
    assert.throws(() => store.markRunning('../../etc/passwd', 1, ''), /is not a UUID/);
    assert.equal(store.result('../x'), undefined);
  });
});
