import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Executor } from '../executors/types.ts';
import { applyBundle } from './index.ts';
import { createScrubber } from './secret-values.ts';
import { bundleOf, optionsFor, rawResource, scriptedExecutor, tempDir } from './test-support.ts';
import type { Call } from './test-support.ts';

const dbMarker = '__VIGO_SECRET__vigo/db/pass__END__';
const apiMarker = '__VIGO_SECRET__vigo/api/token__END__';

function resolverOf(values: Record<string, string>) {
  const requests: string[][] = [];
  return {
    requests,
    resolve: async (paths: string[]) => {
      requests.push(paths);
      return new Map(Object.entries(values).filter(([k]) => paths.includes(k)));
    },
  };
}

describe('applyBundle: secrets', () => {
  it('resolves every marker once per run and hands executors the values', async (t) => {
    const calls: Call[] = [];
    const resolver = resolverOf({
      'vigo/db/pass': 'hunter2',
      'vigo/api/token': 'tok-123',
      'vigo/unused': 'u',
    });
    const bundle = bundleOf(
      [
        rawResource('app/env', {
          params: { tag: 'app/env', content: `DB=${dbMarker}\n`, env: [{ TOKEN: apiMarker }] },
        }),
        rawResource('app/plain', { params: { tag: 'app/plain', content: 'no secrets' } }),
      ],
      { secret_paths: ['vigo/api/token', 'vigo/db/pass', 'vigo/unused'] },
    );
    await applyBundle(optionsFor(t, bundle, [scriptedExecutor(calls)], { resolveSecrets: resolver.resolve }));
    assert.deepEqual(resolver.requests, [['vigo/api/token', 'vigo/db/pass', 'vigo/unused']]);
    assert.deepEqual(calls[0]?.params, {
      tag: 'app/env',
      content: 'DB=hunter2\n',
      env: [{ TOKEN: 'tok-123' }],
    });
    // The document itself keeps its markers: values exist only in what executors are handed.
    assert.equal(bundle.resources[0]?.params.content, `DB=${dbMarker}\n`);
  });

  it('does not call ResolveSecrets when the bundle has no markers', async (t) => {
    const resolver = resolverOf({});
    await applyBundle(
      optionsFor(t, bundleOf([rawResource('app/a')]), [scriptedExecutor([])], {
        resolveSecrets: resolver.resolve,
      }),
    );
    assert.deepEqual(resolver.requests, []);
  });

  it('scrubs resolved values from executor messages, also thrown ones', async (t) => {
    const leaky: Executor = {
      type: 'leaky',
      apply: async (params) => {
        throw new Error(
          `mysql -p${String(params.password)} failed: {"password":${JSON.stringify(params.password)}}`,
        );
      },
    };
    const secret = 's3cr"et\\pw';
    const resolver = resolverOf({ 'vigo/db/pass': secret });
    const bundle = bundleOf([
      rawResource('app/echo', {
        params: { tag: 'app/echo', message: `connected with ${dbMarker}`, result: 'updated' },
      }),
      rawResource('app/leak', { type: 'leaky', params: { password: dbMarker } }),
    ]);
    const record = await applyBundle(
      optionsFor(t, bundle, [scriptedExecutor([]), leaky], { resolveSecrets: resolver.resolve }),
    );
    assert.equal(record.results[0]?.message, 'connected with [secret]');
    const thrown = record.results[1]!.message;
    assert.equal(record.results[1]?.outcome, 'failed');
    assert.ok(!thrown.includes(secret) && !thrown.includes(JSON.stringify(secret).slice(1, -1)), thrown);
    assert.match(thrown, /mysql -p\[secret\] failed: \{"password":"\[secret\]"\}/);
  });

  it('fails only the resources whose marker cannot be resolved', async (t) => {
    const calls: Call[] = [];
    const resolver = resolverOf({ 'vigo/db/pass': 'hunter2' });
    const bundle = bundleOf([
      rawResource('app/missing', { params: { tag: 'app/missing', token: apiMarker } }),
      rawResource('app/fine', { params: { tag: 'app/fine', password: dbMarker, result: 'created' } }),
    ]);
    const record = await applyBundle(
      optionsFor(t, bundle, [scriptedExecutor(calls)], { resolveSecrets: resolver.resolve }),
    );
    assert.equal(record.results[0]?.outcome, 'failed');
    assert.equal(
      record.results[0]?.message,
      'secret vigo/api/token unavailable (the server did not return it)',
    );
    assert.equal(record.results[1]?.outcome, 'created');
    assert.deepEqual(
      calls.map((c) => c.id),
      ['app/fine'],
    );
  });

  it('fails resources that need secrets when ResolveSecrets itself fails, and applies the rest', async (t) => {
    const calls: Call[] = [];
    const bundle = bundleOf([
      rawResource('app/needs', { params: { tag: 'app/needs', password: dbMarker } }),
      rawResource('app/plain', { params: { tag: 'app/plain' } }),
    ]);
    const record = await applyBundle(
      optionsFor(t, bundle, [scriptedExecutor(calls)], {
        resolveSecrets: () => Promise.reject(new Error('server unreachable')),
      }),
    );
    assert.equal(record.results[0]?.outcome, 'failed');
    assert.match(
      record.results[0].message,
      /^secret vigo\/db\/pass unavailable \(ResolveSecrets failed: server unreachable\)$/,
    );
    assert.equal(record.results[1]?.outcome, 'none');
  });

  it('resolves markers in on_revert fields and in when-expressions', async (t) => {
    const dir = tempDir(t);
    const awkward = path.join(dir, `it's "quoted"\\ file`);
    fs.writeFileSync(awkward, '');
    const calls: Call[] = [];
    const resolver = resolverOf({ 'vigo/path': awkward, 'vigo/db/pass': 'pw' });
    const bundle = bundleOf([
      rawResource('app/guarded', {
        params: { tag: 'app/guarded' },
        when: 'file_exists("__VIGO_SECRET__vigo/path__END__")',
      }),
      rawResource('app/revert', {
        params: { tag: 'app/revert', password: 'old' },
        revert: true,
        on_revert: { password: dbMarker },
      }),
    ]);
    const record = await applyBundle(
      optionsFor(t, bundle, [scriptedExecutor(calls)], { resolveSecrets: resolver.resolve }),
    );
    assert.deepEqual(
      record.results.map((r) => r.outcome),
      ['none', 'none'],
    );
    assert.equal(calls[1]?.params.password, 'pw');
  });
});

describe('createScrubber', () => {
  it('replaces the longest value first and ignores empty values', () => {
    const scrub = createScrubber(
      new Map([
        ['a', 'pass'],
        ['b', 'password1'],
        ['c', ''],
      ]),
    );
    assert.equal(scrub('password1 and pass'), '[secret] and [secret]');
    assert.equal(scrub('nothing here'), 'nothing here');
  });
});
