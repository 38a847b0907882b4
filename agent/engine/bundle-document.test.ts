import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../../server/core/index.ts';
import { bundleLimits, parseBundleDocument } from './index.ts';
import { rawBundle, rawResource } from './test-support.ts';

function problemsOf(json: unknown): string[] {
  try {
    parseBundleDocument(json);
  } catch (err) {
    assert.ok(isVigoError(err));
    assert.equal(err.code, 'agent.bundle_invalid');
    return err.details.problems as string[];
  }
  assert.fail('expected the bundle to be refused');
}

describe('parseBundleDocument', () => {
  it('accepts the documented example and keeps every field', () => {
    const json = rawBundle(
      [
        rawResource('motd/motd', {
          type: 'file',
          params: { content: 'PRODUCTION\n', mode: '0644', target_path: '/etc/motd' },
          notify: ['tools/admin-tools'],
        }),
        rawResource('tools/admin-tools', {
          type: 'package',
          params: { names: ['htop'], state: 'present' },
          depends_on: ['motd/motd'],
          when: 'os_family("debian")',
          revert: true,
          on_revert: { state: 'absent' },
        }),
      ],
      { unknown_future_field: 1 },
    );
    const doc = parseBundleDocument(JSON.parse(JSON.stringify(json)));
    assert.equal(doc.policy_version, 7);
    assert.equal(doc.entry_id, 'envoys.vgo[app-*]');
    assert.equal(doc.resources.length, 2);
    assert.deepEqual(doc.resources[1], {
      id: 'tools/admin-tools',
      name: 'admin-tools',
      type: 'package',
      configcrate: 'tools',
      params: { names: ['htop'], state: 'present' },
      depends_on: ['motd/motd'],
      notify: [],
      when: 'os_family("debian")',
      only_when_notified: false,
      revert: true,
      on_revert: { state: 'absent' },
    });
    assert.ok(!('unknown_future_field' in doc));
  });

  it('accepts the "manage nothing" document of a server without configuration', () => {
    const doc = parseBundleDocument(rawBundle([], { entry_id: null }));
    assert.equal(doc.entry_id, null);
    assert.deepEqual(doc.resources, []);
  });

  it('refuses something that is not an object', () => {
    assert.deepEqual(problemsOf([1, 2]), ['(bundle): must be an object']);
    assert.deepEqual(problemsOf(null), ['(bundle): must be an object']);
  });

  it('lists every header problem at once', () => {
    const problems = problemsOf(
      rawBundle([], {
        format_version: 2,
        policy_version: -1,
        merkle_root: 'XYZ',
        observe_only: 'yes',
        secret_paths: [1],
        expires_at_ms: 1.5,
      }),
    );
    assert.deepEqual(problems, [
      'format_version: is 2, this agent reads format 1 only',
      'policy_version: must be a non-negative integer',
      'expires_at_ms: must be a non-negative integer',
      'merkle_root: must be 64 lowercase hex digits',
      '(bundle).observe_only: must be true or false',
      '(bundle).secret_paths: must be a list of strings',
    ]);
  });

  it('names the resource and field of each problem', () => {
    const problems = problemsOf(
      rawBundle([
        rawResource('a/one', { params: [], when: 3, only_when_notified: 'no' }),
        { ...rawResource('a/two'), type: '', on_revert: 'absent', depends_on: 'a/one' },
        7 as unknown as ReturnType<typeof rawResource>,
      ]),
    );
    assert.deepEqual(problems, [
      'resources[0].params: must be an object',
      'resources[0].when: must be a string or null',
      'resources[0].only_when_notified: must be true or false',
      'resources[1].on_revert: must be an object or null',
      'resources[1].type: must be a non-empty string',
      'resources[1].depends_on: must be a list of strings',
      'resources[2]: must be an object',
    ]);
  });

  it('refuses duplicate ids and references that cannot be honoured in array order', () => {
    const problems = problemsOf(
      rawBundle([
        rawResource('a/first', { depends_on: ['a/later'], notify: ['a/first'] }),
        rawResource('a/later', { notify: ['a/first', 'b/ghost'], depends_on: ['b/missing'] }),
        rawResource('a/first'),
      ]),
    );
    assert.deepEqual(problems, [
      'resources[2].id: "a/first" is also resources[0]',
      'resources[0].depends_on: "a/later" must come before "a/first"',
      'resources[0].notify: "a/first" must come after "a/first"',
      'resources[1].depends_on: "b/missing" is not a resource in this bundle',
      'resources[1].notify: "a/first" must come after "a/later"',
      'resources[1].notify: "b/ghost" is not a resource in this bundle',
    ]);
  });

  it('enforces the run report limits', () => {
    const problems = problemsOf(
      rawBundle([rawResource(`a/${'x'.repeat(bundleLimits.maxIdBytes)}`, { type: 't'.repeat(65) })]),
    );
    assert.deepEqual(problems, [
      `resources[0].id: is ${bundleLimits.maxIdBytes + 2} bytes, at most ${bundleLimits.maxIdBytes} allowed`,
      'resources[0].type: is 65 bytes, at most 64 allowed',
    ]);
    const many = Array.from({ length: bundleLimits.maxResources + 1 }, (_, i) => rawResource(`a/${i}`));
    assert.deepEqual(problemsOf(rawBundle(many)), [
      `resources: has ${bundleLimits.maxResources + 1} entries, at most ${bundleLimits.maxResources} allowed`,
    ]);
  });

  it('shows the first 20 problems in the message and says how many more there are', () => {
    const broken = Array.from({ length: 25 }, (_, i) => rawResource(`a/${i}`, { revert: 'maybe' }));
    assert.throws(
      () => parseBundleDocument(rawBundle(broken)),
      (err: unknown) =>
        isVigoError(err) &&
        err.message.startsWith(
          'bundle document is invalid (25 problems), nothing was applied: resources[0].revert',
        ) &&
        err.message.endsWith('… and 5 more') &&
        (err.details.problems as string[]).length === 25,
    );
  });
});
