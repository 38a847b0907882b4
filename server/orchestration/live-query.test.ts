import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { listAudit } from '../audit/index.ts';
import type { Ctx } from '../core/index.ts';
import { VigoError, silentLogger } from '../core/index.ts';
import { createLiveQueries } from './live-query.ts';
import type { LiveQueries, LiveQueryDeps } from './live-query.ts';
import type { LiveQueryAnswer } from './query-run.ts';
import { RecordingStreams, fleetFixture } from './query-push.fixture.ts';
import type { FleetFixture } from './query-push.fixture.ts';
import { noTargetGroups } from './target-groups.ts';

const ctx: Ctx = {
  requestId: 'r1',
  actor: { kind: 'user', userId: 'u1', username: 'ann', role: 'operator' },
  log: silentLogger,
};
const fixtures: FleetFixture[] = [];
after(() => fixtures.forEach((f) => f.cleanup()));

function setup(
  hosts: string[],
  options: Partial<Pick<LiveQueryDeps, 'connection' | 'maxInFlight'>> = {},
): { f: FleetFixture; streams: RecordingStreams; queries: LiveQueries; events: string[] } {
  const f = fleetFixture(
    hosts.map((hostname) => ({
      hostname,
      traits: { os: { distro: hostname.startsWith('db') ? 'debian' : 'ubuntu' } },
    })),
  );
  fixtures.push(f);
  const streams = new RecordingStreams();
  const events: string[] = [];
  const queries = createLiveQueries({
    fleet: f.fleet,
    traitsByHash: f.traitsByHash,
    targetGroups: noTargetGroups,
    streams,
    store: f.store,
    connection: options.connection ?? (() => 'held'),
    log: silentLogger,
    registry: f.registry,
    maxInFlight: options.maxInFlight,
    publish: (type, data, queryId) => events.push(`${type} ${queryId} ${JSON.stringify(data['traitPath'])}`),
  });
  return { f, streams, queries, events };
}

function refused(code: string): (err: unknown) => boolean {
  return (err) => err instanceof VigoError && err.code === code;
}

async function ignoredResults(f: FleetFixture): Promise<number> {
  const metric = await f.registry.getSingleMetricAsString('vigo_live_query_results_ignored_total');
  return Number(/ (\d+)$/m.exec(metric)?.[1] ?? Number.NaN);
}

describe('live queries', () => {
  it('asks every online target with its own query id, aggregates, and ends when all answered', async () => {
    const { f, streams, queries, events } = setup(['web-1', 'web-2', 'web-3', 'db-1']);
    const [w1, w2, w3, db] = ['web-1', 'web-2', 'web-3', 'db-1'].map(f.entry);
    for (const entry of [w1!, w2!, w3!]) streams.opened(entry);
    const pending = queries.run(ctx, { targets: ['web-*', 'db-1'], traitPath: 'os.release' });
    const ids = [w1!, w2!, w3!].map((e) => streams.liveQueryTo(e)?.queryId);
    assert.equal(new Set(ids).size, 3, 'one query id per envoy');
    assert.equal(streams.liveQueryTo(db!), undefined, 'db-1 has no stream: nothing sent');
    assert.equal(queries.running(), 1);

    streams.answer(w1!, { json: '{"name":"noble","id":24}' });
    streams.answer(w2!, { json: '{"id":24,"name":"noble"}' });
    streams.answer(w3!, { json: '{"id":22,"name":"jammy"}' });
    const answer = await pending;
    assert.equal(answer.status, 'finished');
    assert.deepEqual([answer.targeted, answer.asked, answer.answered, answer.notAnsweredCount], [4, 3, 3, 1]);
    assert.deepEqual(answer.values, [
      { value: { id: 24, name: 'noble' }, count: 2 },
      { value: { id: 22, name: 'jammy' }, count: 1 },
    ]);
    assert.deepEqual(answer.notAnswered, [
      { envoyId: db!.id, hostname: 'db-1', reason: 'offline', askedToConnect: false },
    ]);
    assert.deepEqual(
      answer.rows.map((r) => r.hostname),
      ['web-1', 'web-2', 'web-3'],
    );
    assert.equal(queries.running(), 0);

    const audit = listAudit(f.store.db, { action: 'query.started', limit: 10 });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor, 'user:ann');
    assert.deepEqual(audit[0]?.details['targets'], ['web-*', 'db-1']);
    assert.equal(audit[0]?.details['traitPath'], 'os.release');
    assert.deepEqual(events, [
      `query.started ${answer.queryId} "os.release"`,
      `query.finished ${answer.queryId} "os.release"`,
    ]);
    assert.deepEqual(JSON.parse(queries.get(answer.queryId)) as LiveQueryAnswer, answer);
  });

  it('lists agent errors apart from values, and ignores results it did not ask for', async () => {
    const { f, streams, queries } = setup(['web-1', 'web-2']);
    const [w1, w2] = ['web-1', 'web-2'].map(f.entry);
    streams.opened(w1!);
    streams.opened(w2!);
    const pending = queries.run(ctx, { targets: ['web-*'], traitPath: 'nosuch.trait' });
    const w1Query = streams.liveQueryTo(w1!)!.queryId;
    streams.answer(w2!, { json: '"forged"' }, w1Query);
    streams.answer(w1!, { json: '1' }, '00000000-0000-4000-8000-000000000000');
    assert.equal(await ignoredResults(f), 2, 'another envoy’s id and an unknown id are ignored');
    streams.answer(w1!, { error: 'unknown trait path nosuch.trait' });
    streams.answer(w1!, { json: '"again"' }, w1Query);
    streams.answer(w2!, { json: '{"a":' });
    const answer = await pending;
    assert.equal(await ignoredResults(f), 3, 'a second answer to the same id is ignored');
    assert.equal(answer.answered, 2);
    assert.deepEqual(answer.values, []);
    assert.equal(answer.errorCount, 2);
    assert.deepEqual(
      answer.errors.map((e) => [e.hostname, e.error.slice(0, 27)]),
      [
        ['web-1', 'unknown trait path nosuch.t'],
        ['web-2', "the agent's value is not JS"],
      ],
    );
    streams.answer(w2!, { json: '2' }, streams.liveQueryTo(w2!)!.queryId);
    assert.equal(await ignoredResults(f), 4, 'a result after the query ended is ignored');
  });

  it('ends at the deadline: an envoy asked but silent is listed as timed out', async () => {
    const { f, streams, queries, events } = setup(['web-1', 'web-2']);
    const [w1, w2] = ['web-1', 'web-2'].map(f.entry);
    streams.opened(w1!);
    streams.opened(w2!);
    const pending = queries.run(ctx, { targets: ['web-*'], traitPath: 'os.version', deadlineSeconds: 1 });
    streams.answer(w1!, { json: '"24.04"' });
    const queryId = events[0]?.split(' ')[1] ?? '';
    const running = JSON.parse(queries.get(queryId)) as LiveQueryAnswer;
    assert.equal(running.status, 'running');
    assert.deepEqual(
      running.notAnswered.map((n) => n.reason),
      ['pending'],
    );
    const answer = await pending;
    assert.deepEqual(answer.values, [{ value: '24.04', count: 1 }]);
    assert.deepEqual(
      answer.notAnswered.map((n) => [n.hostname, n.reason]),
      [['web-2', 'timeout']],
    );
  });

  it('asks an envoy whose stream opens while the query runs, and again after its stream came back', async () => {
    const { f, streams, queries } = setup(['web-1', 'web-2']);
    const [w1, w2] = ['web-1', 'web-2'].map(f.entry);
    streams.opened(w1!);
    const pending = queries.run(ctx, { targets: ['web-*'], traitPath: 'os.version', deadlineSeconds: 60 });
    streams.opened(w2!);
    const asked = streams.liveQueryTo(w2!);
    assert.ok(asked, 'web-2 was asked when its stream opened');
    streams.closed(w2!);
    streams.opened(w2!);
    assert.equal(streams.liveQueryTo(w2!)?.queryId, asked.queryId, 'asked again with the same id');
    streams.answer(w2!, { json: '"24.04"' });
    streams.closed(w1!);
    const answer = await pending;
    assert.deepEqual([answer.asked, answer.answered], [2, 1]);
    assert.deepEqual(
      answer.notAnswered.map((n) => [n.hostname, n.reason]),
      [['web-1', 'offline']],
    );
  });

  it('in poll mode asks offline envoys to open their stream and waits for them', async () => {
    const { f, streams, queries } = setup(['web-1', 'web-2'], { connection: () => 'poll' });
    const [w1, w2] = ['web-1', 'web-2'].map(f.entry);
    w2!.stale = true;
    const pending = queries.run(ctx, { targets: ['web-*'], traitPath: 'os.version', deadlineSeconds: 60 });
    assert.equal(w1!.streamRequested, true, 'its next check-in reply says open_stream');
    assert.equal(w2!.streamRequested, false, 'a stale envoy is not waited for');
    assert.equal(queries.running(), 1, 'waits for web-1 to connect');
    streams.opened(w1!);
    streams.answer(w1!, { json: '"24.04"' });
    const answer = await pending;
    assert.equal(answer.answered, 1);
    assert.deepEqual(
      answer.notAnswered.map((n) => [n.hostname, n.reason, n.askedToConnect]),
      [['web-2', 'offline', false]],
    );
  });

  it('with no target online ends at once with everyone offline', async () => {
    const { queries } = setup(['web-1', 'web-2']);
    const answer = await queries.run(ctx, { targets: ['web-*'], traitPath: 'os.version' });
    assert.deepEqual([answer.targeted, answer.asked, answer.notAnsweredCount], [2, 0, 2]);
  });

  it('refuses bad input before anything is sent or audited', async () => {
    const { f, streams, queries } = setup(['web-1']);
    streams.opened(f.entry('web-1'));
    const base = { targets: ['web-1'], traitPath: 'os.version' };
    await assert.rejects(
      queries.run(ctx, { ...base, traitPath: 'os..version' }),
      refused('query.trait_path_invalid'),
    );
    await assert.rejects(queries.run(ctx, { ...base, deadlineSeconds: 0 }), refused('query.invalid'));
    await assert.rejects(queries.run(ctx, { ...base, deadlineSeconds: 61 }), refused('query.invalid'));
    await assert.rejects(queries.run(ctx, { ...base, deadlineSeconds: 1.5 }), refused('query.invalid'));
    await assert.rejects(queries.run(ctx, { ...base, rawLimit: 1001 }), refused('query.invalid'));
    await assert.rejects(queries.run(ctx, { ...base, rawLimit: -1 }), refused('query.invalid'));
    await assert.rejects(queries.run(ctx, { ...base, targets: [] }), refused('orchestration.target_invalid'));
    await assert.rejects(
      queries.run(ctx, { ...base, targets: ['db-*'] }),
      refused('orchestration.targets_empty'),
    );
    await assert.rejects(
      queries.run(ctx, { ...base, where: ['os.distro=arch'] }),
      refused('orchestration.targets_empty'),
    );
    await assert.rejects(
      queries.run(ctx, { ...base, targets: ['nosuch'] }),
      refused('orchestration.target_unknown'),
    );
    assert.deepEqual(streams.sent, []);
    assert.equal(queries.running(), 0);
    assert.deepEqual(listAudit(f.store.db, { action: 'query.started', limit: 10 }), []);
    assert.throws(() => queries.get('00000000-0000-4000-8000-000000000000'), refused('query.not_found'));
  });

  it('runs at most maxInFlight queries at once, and close() answers the running ones', async () => {
    const { f, streams, queries } = setup(['web-1'], { maxInFlight: 1 });
    streams.opened(f.entry('web-1'));
    const first = queries.run(ctx, { targets: ['web-1'], traitPath: 'os.version', deadlineSeconds: 60 });
    await assert.rejects(
      queries.run(ctx, { targets: ['web-1'], traitPath: 'os.version' }),
      (err: unknown) => refused('query.busy')(err) && (err as VigoError).details['retryAfterSeconds'] === 60,
    );
    assert.equal(streams.sent.length, 1, 'the refused query sent nothing');
    queries.close();
    const answer = await first;
    assert.equal(answer.status, 'finished');
    assert.deepEqual(
      answer.notAnswered.map((n) => n.reason),
      ['timeout'],
    );
    await assert.rejects(
      queries.run(ctx, { targets: ['web-1'], traitPath: 'os.version' }),
      refused('unavailable'),
    );
  });
});
