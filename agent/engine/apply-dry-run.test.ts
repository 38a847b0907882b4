/**
 * Observe mode with the real file-family executors: a resource inside a directory that an earlier
 * resource of the same run would create reports a would-be change, not a failure, and nothing is
 * written. A directory nobody creates is still a failure.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createFileFamilyExecutors } from '../executors/file-family.ts';
import { applyBundle } from './apply.ts';
import { bundleOf, optionsFor, rawResource, tempDir } from './test-support.ts';

const executors = [...createFileFamilyExecutors()];

function workspace(root: string) {
  return [
    rawResource('demo/root', { type: 'directory', params: { target_path: `${root}/a/b` } }),
    rawResource('demo/sub', {
      type: 'directory',
      params: { target_path: `${root}/a/b/c` },
      depends_on: ['demo/root'],
    }),
    rawResource('demo/readme', {
      type: 'file',
      params: { target_path: `${root}/a/b/README`, content: 'hello\n' },
      depends_on: ['demo/root'],
    }),
    rawResource('demo/parent-file', {
      type: 'file',
      params: { target_path: `${root}/a/notes`, content: 'made with a/b\n' },
      depends_on: ['demo/root'],
    }),
    rawResource('demo/deep', {
      type: 'file',
      params: { target_path: `${root}/a/b/c/conf`, content: 'x=1\n' },
      depends_on: ['demo/sub'],
    }),
    rawResource('demo/line', {
      type: 'file_line',
      params: { target_path: `${root}/a/b/c/extra.conf`, line: 'managed=true', create: true },
      depends_on: ['demo/sub'],
    }),
    rawResource('demo/link', {
      type: 'symlink',
      params: { target_path: `${root}/a/b/current`, link_to: `${root}/a/b/c` },
      depends_on: ['demo/sub'],
    }),
  ];
}

describe('dry run of a fresh tree', () => {
  it('reports files in would-be-created directories as would-be creations, and writes nothing', async (t) => {
    const root = tempDir(t);
    const run = await applyBundle(optionsFor(t, bundleOf(workspace(root)), executors, { dryRun: true }));
    for (const r of run.results) {
      assert.equal(r.outcome, 'created', `${r.resourceId}: ${r.message}`);
      assert.match(r.message, /^would create /, r.resourceId);
    }
    assert.deepEqual(fs.readdirSync(root), []);
  });

  it('still fails a file whose directory no earlier resource creates', async (t) => {
    const root = tempDir(t);
    const resources = workspace(root).filter((r) => r.id === 'demo/readme');
    resources[0] = { ...resources[0]!, depends_on: [] };
    const run = await applyBundle(optionsFor(t, bundleOf(resources), executors, { dryRun: true }));
    assert.equal(run.results[0]?.outcome, 'failed');
    assert.match(run.results[0]?.message ?? '', /directory .*a\/b does not exist/);
  });

  it('a real run after the dry run creates what the dry run announced', async (t) => {
    const root = tempDir(t);
    const bundle = bundleOf(workspace(root));
    const dry = await applyBundle(optionsFor(t, bundle, executors, { dryRun: true }));
    const real = await applyBundle(optionsFor(t, bundle, executors));
    assert.deepEqual(
      real.results.map((r) => [r.resourceId, r.outcome]),
      dry.results.map((r) => [r.resourceId, r.outcome]),
    );
    assert.equal(fs.readFileSync(path.join(root, 'a', 'b', 'c', 'conf'), 'utf8'), 'x=1\n');
  });
});
