/**
 * Live queries against a real trait runner with collectors under the test's control: fresh values (not
 * the cache), only the owning collector run, errors for an unknown path, a failed or slow collector and
 * an oversized value, the bound on queries at once, and an answer over a real AgentStream.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { LiveQuerySchema } from '../../protocol/index.ts';
import { silentLogger } from '../../server/core/index.ts';
import { waitFor } from '../../test/helpers/deadline.ts';
import { queryResultsOf, startAgentStreamServer } from '../runtime/agent-stream-server.fixture.ts';
import { createTraitCollector } from '../traits/index.ts';
import type { TraitCollector } from '../traits/index.ts';
import { LiveQueries, traitAt } from './live-query.ts';
import type { QueryAnswer } from './live-query.ts';
import { agentUnderTest } from './stream-tasks.fixture.ts';

const procRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-live-query-'));
after(() => fs.rmSync(procRoot, { recursive: true, force: true }));

const calls = new Map<string, number>();
function collector(
  name: string,
  volatile: boolean,
  collect: (n: number) => Promise<Record<string, unknown>>,
): TraitCollector {
  return {
    name,
    volatile,
    timeoutMs: 60_000,
    collect: () => {
      const n = (calls.get(name) ?? 0) + 1;
      calls.set(name, n);
      return collect(n);
    },
  };
}

let slowGate: () => void = () => undefined;
let slowPromise = Promise.resolve();
function closeSlowGate(): void {
  slowPromise = new Promise((resolve) => {
    slowGate = resolve;
  });
}

const collectors = [
  collector('disk', false, async (n) => ({
    host_self: { fs_root_pct: 40 + n },
    mounts: [{ mountpoint: '/' }],
  })),
  collector('other', false, async () => ({ other: { a: 1 } })),
  collector('flaky', false, async (n) => {
    if (n > 1) throw new Error('cannot read /proc/flaky');
    return { flaky: 'first' };
  }),
  collector('big', true, async () => ({ big: 'x'.repeat(1024 * 1024) })),
  collector('slow', true, async () => {
    await slowPromise;
    return { slow: true };
  }),
];

function queries(options: { maxRunning?: number; budgetMs?: number } = {}) {
  calls.clear();
  const traits = createTraitCollector({ collectors, env: { procRoot }, stableTtlMs: 3_600_000 });
  return new LiveQueries({ traits, log: silentLogger, ...options });
}

function ask(q: LiveQueries, traitPath: string): Promise<QueryAnswer> {
  return new Promise((resolve) =>
    q.answer(create(LiveQuerySchema, { queryId: randomUUID(), traitPath }), resolve),
  );
}

const json = (answer: QueryAnswer): unknown => JSON.parse(answer.valueJson.toString('utf8'));

describe('LiveQueries', () => {
  it('answers the value at a dotted path, collected afresh each time by its collector alone', async () => {
    const q = queries();
    const first = await ask(q, 'host_self.fs_root_pct');
    assert.equal(first.error, '');
    const otherCalls = calls.get('other');
    const second = await ask(q, 'host_self.fs_root_pct');
    assert.equal(
      (json(second) as number) - (json(first) as number),
      1,
      'a stable trait is not served from the cache',
    );
    assert.equal(calls.get('other'), otherCalls, 'only the collector that owns host_self ran');
    assert.deepEqual(json(await ask(q, 'host_self')), { fs_root_pct: 43 });
    assert.equal(json(await ask(q, 'mounts.0.mountpoint')), '/');
    // Vigo's name of the trait: the same collector alone, the same value.
    const before = calls.get('other');
    assert.equal(json(await ask(q, 'mountpoints.0.mountpoint')), '/');
    assert.equal(json(await ask(q, 'filesystem.0.mountpoint')), '/');
    assert.equal(calls.get('other'), before);
  });

  it('says so for a path with no trait, a failed collector and a value over 1 MiB', async () => {
    const q = queries();
    assert.equal((await ask(q, 'host_self.nope')).error, 'no trait at host_self.nope');
    assert.equal((await ask(q, 'mounts.7')).error, 'no trait at mounts.7');
    // No collector owns it, so all ran; one failed and might have owned it, and the answer says so.
    assert.equal(
      (await ask(q, 'nothing')).error,
      'no trait at nothing (trait collectors failed: flaky: cannot read /proc/flaky)',
    );
    const bad = await ask(q, 'a..b');
    assert.match(bad.error, /empty segment/);
    assert.match((await ask(q, 'p'.repeat(257))).error, /trait_path is 257 bytes; the limit is 256/);
    // flaky answered once; now it fails, and its last good value is not passed off as current.
    const flaky = await ask(q, 'flaky');
    assert.equal(flaky.valueJson.length, 0);
    assert.equal(flaky.error, 'trait collector flaky: cannot read /proc/flaky');
    const big = await ask(q, 'big');
    assert.match(big.error, /^the value at big is 1048578 bytes of JSON; the limit is 1048576$/);
  });

  it('answers a query whose collector does not finish in time with an error', async () => {
    closeSlowGate();
    const q = queries({ budgetMs: 50 });
    const answer = await ask(q, 'slow');
    assert.match(answer.error, /collecting slow timed out after 50 ms/);
    slowGate();
  });

  it('answers at most maxRunning queries at once and the next "agent busy" at once', async () => {
    closeSlowGate();
    const q = queries({ maxRunning: 2 });
    const running = [ask(q, 'slow'), ask(q, 'slow')];
    assert.equal(q.running, 2);
    const busy = await ask(q, 'host_self');
    assert.equal(busy.error, 'agent busy: 2 live queries running; ask again');
    slowGate();
    for (const answer of await Promise.all(running)) assert.equal(json(answer), true);
    assert.equal(q.running, 0);
  });

  it('finds values by object key and array index only', () => {
    const tree = { a: { b: [10, { c: null }] } };
    assert.equal(traitAt(tree, ['a', 'b', '0']), 10);
    assert.equal(traitAt(tree, ['a', 'b', '1', 'c']), null);
    assert.equal(traitAt(tree, ['a', 'b', '01']), undefined);
    assert.equal(traitAt(tree, ['a', 'toString']), undefined);
  });

  it('answers on the stream the query came on, with its query_id', async () => {
    const server = await startAgentStreamServer('query.example.com');
    const traits = createTraitCollector({ collectors, env: { procRoot } });
    const agent = agentUnderTest(server, { traits });
    try {
      agent.connect();
      const stream = await waitFor('the stream', () => server.opened[0]);
      await waitFor('its Hello', () => stream.received[0]);
      const queryId = randomUUID();
      stream.push({ case: 'liveQuery', value: { queryId, traitPath: 'other.a' } });
      const answer = await waitFor('the answer', () => queryResultsOf(stream)[0]);
      assert.equal(answer.queryId, queryId);
      assert.equal(Buffer.from(answer.valueJson).toString(), '1');
      assert.equal(answer.error, '');
    } finally {
      agent.stop();
      server.close();
      fs.rmSync(agent.dir, { recursive: true, force: true });
    }
  });
});
