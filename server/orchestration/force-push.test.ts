import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { listAudit } from '../audit/index.ts';
import type { Ctx } from '../core/index.ts';
import { VigoError, silentLogger } from '../core/index.ts';
import type { JsonValue } from '../audit/index.ts';
import {
  createForcePush,
  defaultPushReason,
  pushListedMax,
  pushReasonMaxBytes,
  withStreamPush,
} from './force-push.ts';
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

function setup(hosts: string[]) {
  const f = fleetFixture(hosts.map((hostname) => ({ hostname })));
  fixtures.push(f);
  const streams = new RecordingStreams();
  const events: Record<string, JsonValue>[] = [];
  const push = createForcePush({
    fleet: f.fleet,
    traitsByHash: f.traitsByHash,
    targetGroups: noTargetGroups,
    streams,
    admin: f.admin,
    publish: (data) => events.push(data),
  });
  const flagged = (): string[] =>
    f.store.db
      .prepare<[], string>('SELECT hostname FROM envoys WHERE force_push = 1 ORDER BY hostname')
      .pluck()
      .all();
  return { f, streams, push, events, flagged };
}

function reasonsSentTo(streams: RecordingStreams, envoyId: string): string[] {
  return streams.sent
    .filter((s) => s.envoyId === envoyId && s.message.kind.case === 'forcePush')
    .map((s) => (s.message.kind.case === 'forcePush' ? s.message.kind.value.reason : ''));
}

describe('force-push', () => {
  it('flags every target durably, tells the online ones now and audits once', () => {
    const { f, streams, push, events, flagged } = setup(['web-1', 'web-2', 'db-1']);
    const [w1, w2, db] = ['web-1', 'web-2', 'db-1'].map(f.entry);
    streams.opened(w1!);
    const answer = push.push(ctx, { targets: ['web-*'], reason: 'hotfix 42' });
    assert.deepEqual(answer, {
      targeted: 2,
      pushedNow: [{ envoyId: w1!.id, hostname: 'web-1' }],
      atNextCheckin: [{ envoyId: w2!.id, hostname: 'web-2' }],
    });
    assert.deepEqual(flagged(), ['web-1', 'web-2']);
    assert.deepEqual([w1!.forcePush, w2!.forcePush, db!.forcePush], [true, true, false]);
    assert.deepEqual(reasonsSentTo(streams, w1!.id), ['hotfix 42']);
    const audit = listAudit(f.store.db, { action: 'push.requested', limit: 10 });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor, 'user:ann');
    assert.deepEqual(audit[0]?.details['envoyIds'], [w1!.id, w2!.id]);
    assert.equal(audit[0]?.details['count'], 2);
    assert.equal(audit[0]?.details['reason'], 'hotfix 42');
    assert.deepEqual(events, [
      {
        count: 2,
        pushedNow: 1,
        atNextCheckin: 1,
        envoyIds: [w1!.id, w2!.id],
        reason: 'hotfix 42',
        by: 'user:ann',
      },
    ]);
  });

  it('names at most pushListedMax envoys in the audit entry, and counts them all', () => {
    const hosts = Array.from({ length: pushListedMax + 20 }, (_, i) => `node-${String(i).padStart(3, '0')}`);
    const { f, push, flagged } = setup(hosts);
    const answer = push.push(ctx, { targets: ['node-*'] });
    assert.equal(answer.atNextCheckin.length, hosts.length);
    assert.equal(flagged().length, hosts.length);
    const [entry] = listAudit(f.store.db, { action: 'push.requested', limit: 10 });
    assert.equal((entry?.details['envoyIds'] as string[]).length, pushListedMax);
    assert.equal(entry?.details['count'], hosts.length);
    assert.equal(entry?.details['reason'], defaultPushReason);
  });

  it('refuses a reason over 1 KiB and an empty selection, with nothing written or sent', () => {
    const { f, streams, push, flagged } = setup(['web-1']);
    streams.opened(f.entry('web-1'));
    assert.throws(
      () => push.push(ctx, { targets: ['web-1'], reason: 'é'.repeat(pushReasonMaxBytes / 2 + 1) }),
      (err: unknown) => err instanceof VigoError && err.code === 'push.reason_invalid',
    );
    assert.throws(
      () => push.push(ctx, { targets: ['db-*'] }),
      (err: unknown) => err instanceof VigoError && err.code === 'orchestration.targets_empty',
    );
    assert.deepEqual(flagged(), []);
    assert.deepEqual(streams.sent, []);
    assert.deepEqual(listAudit(f.store.db, { action: 'push.requested', limit: 10 }), []);
  });

  it('pushes one envoy through the fleet admin, on its stream when it is open', () => {
    const { f, streams, push, flagged } = setup(['web-1', 'web-2']);
    const [w1, w2] = ['web-1', 'web-2'].map(f.entry);
    streams.opened(w1!);
    const admin = withStreamPush(f.admin, push);
    assert.deepEqual(admin.requestPush(ctx, w1!.id), { envoyId: w1!.id, forcePush: true, pushedNow: true });
    assert.deepEqual(admin.requestPush(ctx, w2!.id), { envoyId: w2!.id, forcePush: true, pushedNow: false });
    assert.deepEqual(reasonsSentTo(streams, w1!.id), [defaultPushReason]);
    assert.deepEqual(flagged(), ['web-1', 'web-2']);
    assert.equal(listAudit(f.store.db, { action: 'envoy.push_requested', limit: 10 }).length, 2);
    w2!.status = 'revoked';
    assert.throws(
      () => admin.requestPush(ctx, w2!.id),
      (err: unknown) => err instanceof VigoError && err.code === 'fleet.envoy_revoked',
    );
  });
});
