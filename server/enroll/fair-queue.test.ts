import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigoError } from '../core/index.ts';
import { FairQueue } from './fair-queue.ts';

/** A job that finishes when released, recording when it started. */
function gate(log: string[], name: string): { work: () => Promise<string>; release(): void } {
  let release = (): void => {};
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    work: async () => {
      log.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

describe('FairQueue', () => {
  it('runs one job per key at a time and serves waiting keys round-robin', async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaiting: 10 });
    const started: string[] = [];
    const jobs = ['a1', 'a2', 'a3', 'b1', 'c1', 'b2'].map((name) => ({ name, ...gate(started, name) }));
    const results = jobs.map((j) => queue.run(j.name[0] as string, j.work));
    const order: string[] = [];
    for (let i = 0; i < jobs.length; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      const current = started[started.length - 1] as string;
      order.push(current);
      jobs.find((j) => j.name === current)?.release();
    }
    assert.deepEqual(
      await Promise.all(results),
      jobs.map((j) => j.name),
    );
    // a1 first; then each waiting key in turn, a key going to the back once served.
    assert.deepEqual(order, ['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    assert.equal(queue.started, 6);
  });

  it('never runs two jobs of one key at once, even with free slots', async () => {
    const queue = new FairQueue({ concurrency: 4, maxWaiting: 10 });
    const started: string[] = [];
    const one = gate(started, 'x1');
    const two = gate(started, 'x2');
    const first = queue.run('x', one.work);
    const second = queue.run('x', two.work);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['x1']);
    assert.equal(queue.waiting, 1);
    one.release();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['x1', 'x2']);
    two.release();
    await second;
  });

  it('refuses a job at once with rate_limited and a Retry-After beyond the waiting bound', async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaiting: 2, what: 'checks' });
    const started: string[] = [];
    const held = ['k1', 'k2', 'k3'].map((name) => gate(started, name));
    const accepted = held.map((g, i) => queue.run(`key${i}`, g.work));
    const refusal = await queue
      .run('key9', async () => 'never')
      .then(
        () => assert.fail('the job ran'),
        (err: unknown) => err,
      );
    assert.ok(refusal instanceof VigoError);
    assert.equal(refusal.code, 'rate_limited');
    assert.equal(refusal.details['retryAfterSeconds'], 1);
    assert.match(refusal.message, /2 checks are waiting/);
    assert.equal(queue.refused, 1);
    for (const g of held) g.release();
    assert.equal((await Promise.all(accepted)).length, 3);
    assert.equal(await queue.run('key9', async () => 'now'), 'now');
  });

  it('serves priority jobs first, in a lane of their own that a full queue does not close', async () => {
    const queue = new FairQueue({ concurrency: 1, maxWaiting: 2 });
    const started: string[] = [];
    const jobs = ['f1', 'f2', 'f3'].map((name) => gate(started, name));
    const flood = jobs.map((g, i) => queue.run(`flood${i}`, g.work));
    assert.equal(await queue.run('flood9', async () => 'x').catch(() => 'refused'), 'refused');
    const known = gate(started, 'known');
    const admitted = queue.run('admin', known.work, { priority: true });
    jobs[0]?.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['f1', 'known'], 'the priority job goes before the waiting flood');
    known.release();
    for (const g of jobs) g.release();
    assert.equal(await admitted, 'known');
    await Promise.all(flood);
  });
});
