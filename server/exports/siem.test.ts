import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../core/index.ts';
import { formatSiemCursor, parseSiemCursor } from './siem.ts';
import { auditToEcs, eventToEcs } from './ecs.ts';

describe('siem export', () => {
  it('round-trips cursors and refuses malformed ones', () => {
    for (const cursor of [
      { auditSeq: 0, eventId: undefined },
      { auditSeq: 42, eventId: 'mabc12345-7' },
    ])
      assert.deepEqual(parseSiemCursor(formatSiemCursor(cursor)), cursor);
    for (const bad of [
      '',
      'v1',
      'v1.1',
      'v2.1._',
      'v1.-1._',
      'v1.01._',
      'v1.1.ABC-1',
      'v1.1.x-',
      'v1.99999999999999999._',
    ])
      assert.throws(
        () => parseSiemCursor(bad),
        (err) => isVigoError(err) && err.code === 'export.cursor_invalid',
        bad,
      );
  });

  it('maps events and audit entries to ECS, keeping everything else under vigo', () => {
    const run = eventToEcs({
      id: 'mabc12345-3',
      type: 'run.reported',
      at: '2026-01-02T03:04:05.678Z',
      subject: 'e1',
      data: { envoyId: 'e1', failed: 2, resources: 5 },
    });
    assert.deepEqual(
      [run['@timestamp'], run.event.kind, run.event.category, run.event.outcome, run.event.id, run.host],
      [
        '2026-01-02T03:04:05.678Z',
        'event',
        ['configuration', 'host'],
        'failure',
        'mabc12345-3',
        { id: 'e1' },
      ],
    );
    assert.deepEqual(run.vigo['data'], { envoyId: 'e1', failed: 2, resources: 5 });
    const audit = auditToEcs({
      seq: 9,
      at: Date.UTC(2026, 0, 2),
      actor: 'user:ann',
      action: 'user.created',
      target: 'user:u1',
      details: { username: 'bob' },
      prevHash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
    });
    assert.deepEqual(
      [audit.event.id, audit.event.category, audit.event.type, audit.user, audit.message],
      ['audit-9', ['iam'], ['user', 'creation'], { name: 'user:ann' }, 'user.created user:u1 by user:ann'],
    );
    assert.equal(audit.host, undefined);
    const alert = eventToEcs({
      id: 'x1234567-1',
      type: 'convergence.threshold',
      at: '2026-01-01T00:00:00.000Z',
      data: {},
    });
    assert.equal(alert.event.kind, 'alert');
  });
});
