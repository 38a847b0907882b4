import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigoError } from '../core/index.ts';
import {
  QueryAggregate,
  canonicalValue,
  liveQueryLimits,
  parseTraitPath,
  whatToAsk,
} from './query-aggregate.ts';

const host = (n: number) => ({ envoyId: `id-${n}`, hostname: `web-${n}` });
const text = (json: string): string => {
  const value = canonicalValue(Buffer.from(json));
  if (!('text' in value)) throw new Error(value.problem);
  return value.text;
};
const problem = (json: string): string => {
  const value = canonicalValue(Buffer.from(json));
  if ('text' in value) throw new Error(`accepted ${json}`);
  return value.problem;
};

describe('live query aggregation', () => {
  it('counts values by canonical JSON: key order and spacing do not make a new value', () => {
    const aggregate = new QueryAggregate(10);
    aggregate.addValue(host(1), text('{"a":1,"b":2}'));
    aggregate.addValue(host(2), text('{ "b": 2, "a": 1 }'));
    aggregate.addValue(host(3), text('{"a":1,"b":3}'));
    assert.deepEqual(aggregate.values(), [
      { text: '{"a":1,"b":2}', count: 2 },
      { text: '{"a":1,"b":3}', count: 1 },
    ]);
    assert.equal(aggregate.valueCount, 3);
  });

  it('sorts by count, most first, ties by value', () => {
    const aggregate = new QueryAggregate(10);
    for (const [n, value] of [
      [1, '"b"'],
      [2, '"a"'],
      [3, '"c"'],
      [4, '"c"'],
    ] as const)
      aggregate.addValue(host(n), text(value));
    assert.deepEqual(
      aggregate.values().map((v) => [v.text, v.count]),
      [
        ['"c"', 2],
        ['"a"', 1],
        ['"b"', 1],
      ],
    );
  });

  it('keeps the first rawLimit rows and errors, and counts every one', () => {
    const aggregate = new QueryAggregate(2);
    for (let n = 0; n < 5; n++) aggregate.addValue(host(n), text('"24.04"'));
    for (let n = 5; n < 9; n++) aggregate.addError(host(n), 'no such trait');
    assert.deepEqual(
      aggregate.rows().map((r) => r.hostname),
      ['web-0', 'web-1'],
    );
    assert.deepEqual(
      aggregate.errors().map((e) => e.hostname),
      ['web-5', 'web-6'],
    );
    assert.equal(aggregate.errorCount, 4);
    assert.deepEqual(aggregate.values(), [{ text: '"24.04"', count: 5 }]);
    const none = new QueryAggregate(0);
    none.addValue(host(1), text('1'));
    assert.deepEqual(none.rows(), []);
  });

  it('counts values beyond the distinct-value budget as otherValues, and lists no row for them', () => {
    const aggregate = new QueryAggregate(liveQueryLimits.rawLimitMax);
    const distinct = liveQueryLimits.distinctValuesMax;
    for (let n = 0; n < distinct + 5; n++) aggregate.addValue(host(n), text(String(n)));
    aggregate.addValue(host(0), text('0'));
    assert.equal(aggregate.values().length, distinct);
    assert.equal(aggregate.otherValues, 5);
    assert.equal(aggregate.values()[0]?.count, 2, 'a value already counted still counts');
    assert.equal(aggregate.rows().length, liveQueryLimits.rawLimitMax);

    const big = new QueryAggregate(10);
    const huge = `"${'x'.repeat(liveQueryLimits.distinctValueTextMax)}"`;
    big.addValue(host(1), huge);
    assert.equal(big.otherValues, 1, 'one value larger than the budget is not kept');
    assert.deepEqual(big.rows(), []);
  });

  it('refuses values that are not JSON, nest too deep or cannot be represented', () => {
    assert.match(problem(''), /neither a value nor an error/);
    assert.match(problem('{"a":'), /not JSON/);
    const depth = liveQueryLimits.valueMaxDepth;
    assert.match(problem('['.repeat(depth + 1) + ']'.repeat(depth + 1)), /nests deeper than 64/);
    assert.equal(text('['.repeat(depth) + ']'.repeat(depth)), '['.repeat(depth) + ']'.repeat(depth));
    assert.match(problem('1e400'), /cannot be compared/);
    assert.equal(text('[1.0, "é", null, true]'), '[1,"é",null,true]');
  });
});

describe('trait paths', () => {
  const refused = (path: string): void =>
    assert.throws(
      () => parseTraitPath(path),
      (err: unknown) => err instanceof VigoError && err.code === 'query.trait_path_invalid',
      path,
    );

  it('accepts dotted names', () => {
    for (const path of ['os', 'os.version', 'host_self.fs_root_pct', 'net.eth-0.mtu', 'packages.7zip'])
      assert.equal(parseTraitPath(path), path);
    assert.equal(parseTraitPath('a'.repeat(256)).length, 256);
  });

  it('refuses empty, too long, empty segments and other characters', () => {
    for (const path of ['', 'a'.repeat(257), 'os.', '.os', 'os..version', 'os version', 'os/version'])
      refused(path);
    for (const path of ['os.-x', 'os.version=1', 'é'.repeat(129), 'os.$x', 'os.*']) refused(path);
  });
});

describe('what a live query asks', () => {
  const named = {
    kernel: { description: '', trait: 'os.kernel', probe: null, args: {} },
    'sshd-config': {
      description: '',
      trait: null,
      probe: 'file_sha256' as const,
      args: { path: '/etc/ssh/sshd_config' },
    },
  };
  const refused = (input: { traitPath?: string; name?: string }, code: string): void =>
    assert.throws(
      () => whatToAsk(input, named),
      (err: unknown) => err instanceof VigoError && err.code === code,
    );

  it('reads a trait path, or the named query the active configuration defines', () => {
    assert.deepEqual(whatToAsk({ traitPath: 'os.version' }, named), {
      traitPath: 'os.version',
      queryName: undefined,
    });
    assert.deepEqual(whatToAsk({ name: 'kernel' }, named), { traitPath: 'os.kernel', queryName: 'kernel' });
    assert.deepEqual(whatToAsk({ name: 'sshd-config' }, named), { traitPath: '', queryName: 'sshd-config' });
  });

  it('refuses neither or both, and a name the configuration does not define', () => {
    refused({}, 'query.invalid');
    refused({ traitPath: '', name: '' }, 'query.invalid');
    refused({ traitPath: 'os.version', name: 'kernel' }, 'query.invalid');
    refused({ name: 'nope' }, 'query.unknown');
    refused({ name: 'toString' }, 'query.unknown');
    refused({ name: '__proto__' }, 'query.unknown');
    refused({ traitPath: 'os..version' }, 'query.trait_path_invalid');
  });
});
