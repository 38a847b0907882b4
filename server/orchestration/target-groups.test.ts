import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VigoError, silentLogger, systemCtx } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { TargetGroupStore, targetGroupLimits } from './target-groups.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-target-groups-'));
const store = openStore({ file: join(dir, 'vigo.db'), log: silentLogger, busyTimeoutMs: 1000 });
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});
const ctx = systemCtx(silentLogger);

function refusedWith(code: string, action: () => unknown): void {
  assert.throws(action, (err: unknown) => err instanceof VigoError && err.code === code);
}

function audited(action: string): number {
  return store.db.prepare('SELECT count(*) FROM audit_log WHERE action = ?').pluck().get(action) as number;
}

describe('target group store', () => {
  it('saves, replaces and deletes groups, audited, and reads them back after a restart', () => {
    const groups = new TargetGroupStore(store, () => 1_700_000_000_000);
    groups.save(ctx, 'web-prod', { targets: ['web-*'], where: ['env=production'], description: 'prod web' });
    groups.save(ctx, 'web-prod', { targets: ['web-*', 'api-*'] });
    groups.save(ctx, 'db', { targets: ['db-*'] });
    assert.deepEqual(
      groups.list().map((g) => [g.name, g.targets, g.where]),
      [
        ['db', ['db-*'], []],
        ['web-prod', ['web-*', 'api-*'], []],
      ],
    );
    assert.equal(audited('target_group.saved'), 3);
    groups.delete(ctx, 'db');
    assert.equal(audited('target_group.deleted'), 1);
    const reopened = new TargetGroupStore(store);
    assert.deepEqual(reopened.get('web-prod')?.targets, ['web-*', 'api-*']);
    assert.equal(reopened.get('db'), undefined);
    refusedWith('target_group.not_found', () => reopened.delete(ctx, 'db'));
  });

  it('refuses bad names, groups that name groups, targets that do not parse, and too many groups', () => {
    const groups = new TargetGroupStore(store);
    const before = audited('target_group.saved');
    refusedWith('target_group.name_invalid', () => groups.save(ctx, 'Web Prod', { targets: ['web-*'] }));
    refusedWith('target_group.invalid', () => groups.save(ctx, 'nested', { targets: ['@web-prod'] }));
    refusedWith('orchestration.target_invalid', () => groups.save(ctx, 'empty', { targets: [] }));
    refusedWith('fleet.trait_filter', () => groups.save(ctx, 'bad', { targets: ['=x'] }));
    refusedWith('target_group.invalid', () =>
      groups.save(ctx, 'long', {
        targets: ['x'],
        description: 'd'.repeat(targetGroupLimits.maxDescription + 1),
      }),
    );
    assert.equal(audited('target_group.saved'), before, 'nothing refused was stored or audited');
    assert.equal(groups.get('nested'), undefined);
    for (let i = groups.list().length; i < targetGroupLimits.maxGroups; i++)
      groups.save(ctx, `g${i}`, { targets: ['x-*'] });
    refusedWith('target_group.limit', () => groups.save(ctx, 'one-too-many', { targets: ['x-*'] }));
    groups.save(ctx, 'web-prod', { targets: ['web-*'] });
  });
});
