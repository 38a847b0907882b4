import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { VigoError } from '../core/index.ts';
import { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
import { resolveTargets, targetLimits } from './targets.ts';
import { noTargetGroups } from './target-groups.ts';
import type { TargetGroup } from './target-groups.ts';

const traits: Record<string, unknown> = {
  ubuntu: { os: { distro: 'ubuntu', version: '24.04' } },
  debian: { os: { distro: 'debian', version: '12' } },
};

function fleetOf(hosts: readonly [string, string, 'active' | 'revoked'][]): FleetIndex {
  const fleet = new FleetIndex();
  for (const [hostname, traitsHash, status] of hosts) {
    const entry = new EnvoyEntry({
      id: randomUUID(),
      hostname,
      public_key: Buffer.alloc(32, 9),
      cert_fingerprint: 'ab'.repeat(32),
      status,
      enrolled_at: 1,
      last_seen_at: null,
      last_ts_ms: 0,
      policy_version: 0,
      state_fingerprint: null,
      traits_hash: traitsHash,
      interval_ms: null,
      force_push: 0,
      agent_version: null,
    });
    fleet.put(entry);
  }
  return fleet;
}

const fleet = fleetOf([
  ['web-2', 'ubuntu', 'active'],
  ['web-1', 'debian', 'active'],
  ['db-1', 'ubuntu', 'active'],
  ['web-9', 'ubuntu', 'revoked'],
]);
const deps = { fleet, traitsByHash: (hash: string) => traits[hash], groups: noTargetGroups };
const names = (selection: Parameters<typeof resolveTargets>[1]) =>
  resolveTargets(deps, selection).map((e) => e.hostname);

function refusedWith(code: string, action: () => unknown): void {
  assert.throws(action, (err: unknown) => err instanceof VigoError && err.code === code);
}

const groupsByName: Record<string, TargetGroup> = {
  web: group('web', ['web-*']),
  ubuntu_web: group('ubuntu_web', ['web-*'], ['os.distro=ubuntu']),
  mail: group('mail', ['mail-*']),
};
const withGroups = { ...deps, groups: { get: (name: string) => groupsByName[name] } };

function group(name: string, targets: string[], where: string[] = []): TargetGroup {
  return { name, description: '', targets, where, updatedBy: 'test', updatedAtMs: 0 };
}

describe('target selection', () => {
  it('resolves a saved group @name to what its own selection names now, united with the other targets', () => {
    const resolve = (targets: string[], where?: string[]) =>
      resolveTargets(withGroups, { targets, ...(where ? { where } : {}) }).map((e) => e.hostname);
    assert.deepEqual(resolve(['@web']), ['web-1', 'web-2']);
    assert.deepEqual(resolve(['@ubuntu_web', 'db-1']), ['db-1', 'web-2']);
    assert.deepEqual(resolve(['@web'], ['os.distro=debian']), ['web-1']);
    // A group that names no envoy now adds nothing; alone it is an empty selection.
    assert.deepEqual(resolve(['@mail', 'db-1']), ['db-1']);
    refusedWith('orchestration.targets_empty', () => resolve(['@mail']));
    refusedWith('orchestration.target_unknown', () => resolve(['@nosuch']));
    refusedWith('orchestration.target_invalid', () => resolve(['@Not A Name']));
  });

  it('unites hostnames, globs, ids and trait filters, sorted by hostname, never a revoked envoy', () => {
    assert.deepEqual(names({ targets: ['web-*'] }), ['web-1', 'web-2']);
    assert.deepEqual(names({ targets: ['DB-1', 'web-1'] }), ['db-1', 'web-1']);
    assert.deepEqual(names({ targets: ['os.distro=ubuntu'] }), ['db-1', 'web-2']);
    const db = [...fleet.values()].find((e) => e.hostname === 'db-1')!;
    assert.deepEqual(names({ targets: [db.id.toUpperCase(), 'db-*'] }), ['db-1']);
  });

  it('narrows by every where filter', () => {
    assert.deepEqual(names({ targets: ['*'], where: ['os.distro=ubuntu', 'os.version>=24'] }), [
      'db-1',
      'web-2',
    ]);
  });

  it('refuses an unknown hostname or id, an empty result, and a filter that does not parse', () => {
    refusedWith('orchestration.target_unknown', () => names({ targets: ['web-1', 'nosuch'] }));
    refusedWith('orchestration.target_unknown', () => names({ targets: ['web-9'] }));
    refusedWith('orchestration.target_unknown', () => names({ targets: [randomUUID()] }));
    refusedWith('orchestration.targets_empty', () => names({ targets: ['mail-*'] }));
    refusedWith('orchestration.targets_empty', () =>
      names({ targets: ['web-*'], where: ['os.distro=arch'] }),
    );
    refusedWith('fleet.trait_filter', () => names({ targets: ['=ubuntu'] }));
    refusedWith('orchestration.target_invalid', () => names({ targets: [] }));
    refusedWith('orchestration.target_invalid', () => names({ targets: [''] }));
    refusedWith('orchestration.target_invalid', () =>
      names({ targets: Array.from({ length: targetLimits.maxTargets + 1 }, () => 'web-1') }),
    );
  });
});
