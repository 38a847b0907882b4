/**
 * The validator worker: a stack that exhausts its heap or its time budget ends the worker, not this
 * process, with its own code; the next validation gets a fresh worker; a full queue answers busy with a retry delay; drain refuses what is still running.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { VigoError, silentLogger } from '../core/index.ts';
import type { StackFile } from './stack-source.ts';
import { createValidatorPool } from './validator-pool.ts';
import type { ValidatorLimits } from './validator-pool.ts';
import type { ValidateJob } from './validator-protocol.ts';
import { heapHungryStack } from '../policy/hostile.fixture.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-validator-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const small: StackFile[] = [
  {
    path: 'configcrates/motd.vgo',
    content:
      'name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /etc/motd\n    content: hi\n',
  },
  { path: 'envoys.vgo', content: 'envoys:\n  - match: "web-*"\n    configcrates: [motd]\n' },
];

/** The general YAML parser (an anchor sends the file there) reads a 400,000-item flow list for seconds. */
const slow: StackFile[] = [
  {
    path: 'common.vgo',
    content: `vars:\n  a: &a 1\n  l: [${Array.from({ length: 400_000 }, (_, i) => i).join(', ')}]\n`,
  },
];

function job(files: readonly StackFile[], wantSnapshot = false): Omit<ValidateJob, 'kind'> {
  const dir = fs.mkdtempSync(path.join(scratch, 'stack-'));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, file.path), file.content);
  }
  return {
    tree: { kind: 'dir', dir },
    options: { protectedPaths: [], protectedServices: [], knownSecrets: [] },
    nowMs: 1_700_000_000_000,
    wantSnapshot,
  };
}

function pool(limits: Partial<ValidatorLimits>) {
  return createValidatorPool({
    log: silentLogger,
    limits: () => ({ timeoutMs: 60_000, maxHeapMb: 256, maxQueued: 2, ...limits }),
  });
}

function code(expected: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof VigoError, String(err));
    assert.equal(err.code, expected, err.message);
    return true;
  };
}

describe('validator pool', () => {
  it('validates in the worker and sends the snapshot back only when asked', async () => {
    const p = pool({});
    try {
      const checked = await p.run(job(small));
      assert.deepEqual(checked.diagnostics, []);
      assert.equal(checked.snapshot?.entries, 1);
      assert.equal(checked.snapshot?.encoded, undefined);
      assert.deepEqual(checked.carried, { crates: 0, instances: 0 });
      const compiled = await p.run(job(small, true));
      assert.equal(compiled.snapshot?.hash, checked.snapshot?.hash);
      // The same files again (in another directory): the worker takes what it compiled before.
      assert.deepEqual(compiled.carried, { crates: 1, instances: 1 });
      const body = compiled.snapshot?.encoded?.body.toString('utf8') ?? '';
      assert.match(body, /"target_path":"\/etc\/motd"/);
      assert.equal(compiled.snapshot?.encoded?.index.hash, compiled.snapshot?.hash);
    } finally {
      await p.close();
    }
  });

  it('a stack that exhausts the worker heap is refused, and the next one gets a fresh worker', async () => {
    const p = pool({ maxHeapMb: 64 });
    try {
      await assert.rejects(p.run(job(heapHungryStack(60))), code('publish.validator_out_of_memory'));
      assert.deepEqual((await p.run(job(small))).diagnostics, []);
    } finally {
      await p.close();
    }
  });

  it('a validation over its time budget is stopped', async () => {
    const p = pool({ timeoutMs: 300 });
    try {
      await assert.rejects(p.run(job(slow)), code('publish.validator_timeout'));
      const relaxed = pool({});
      try {
        assert.equal((await relaxed.run(job(small))).snapshot?.entries, 1);
      } finally {
        await relaxed.close();
      }
    } finally {
      await p.close();
    }
  });

  it('a full queue answers busy with a retry delay, and drain refuses what is left', async () => {
    const p = pool({ maxQueued: 1 });
    const running = p.run(job(slow));
    const queued = p.run(job(small));
    await assert.rejects(p.run(job(small)), (err: unknown) => {
      code('publish.validator_busy')(err);
      const seconds = (err as VigoError).details['retryAfterSeconds'];
      assert.ok(typeof seconds === 'number' && seconds >= 1);
      return true;
    });
    const refused = [
      assert.rejects(running, code('unavailable')),
      assert.rejects(queued, code('unavailable')),
    ];
    await p.close();
    await Promise.all(refused);
    await assert.rejects(p.run(job(small)), code('unavailable'));
  });
});
