/**
 * Building blocks for the engine's tests: bundles that go through parseBundleDocument, and small
 * executors that record what the engine handed them. Not part of the public face.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import type { Executor, ExecutorContext, ExecutorResult } from '../executors/types.ts';
import type { ApplyOptions } from './apply.ts';
import { parseBundleDocument } from './bundle-document.ts';
import type { BundleDocument } from './bundle-document.ts';
import { createFileSnapshotStore } from './file-snapshots.ts';
import { createProbes } from './probes.ts';

export function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type RawResource = Record<string, unknown> & { id: string };

export function rawResource(id: string, extra: Record<string, unknown> = {}): RawResource {
  const [crate, name] = id.includes('/') ? id.split('/') : ['app', id];
  return {
    id,
    name: name ?? id,
    type: 'scripted',
    configcrate: crate ?? 'app',
    params: {},
    depends_on: [],
    notify: [],
    when: null,
    only_when_notified: false,
    revert: false,
    on_revert: null,
    ...extra,
  };
}

export function rawBundle(
  resources: RawResource[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    format_version: 1,
    policy_version: 7,
    entry_id: 'envoys.vgo[app-*]',
    merkle_root: 'ab'.repeat(32),
    traits_hash: null,
    issued_at_ms: 1_700_000_000_000,
    expires_at_ms: 4_000_000_000_000,
    secrets_epoch: 1,
    observe_only: false,
    secret_paths: [],
    resources,
    ...extra,
  };
}

export function bundleOf(resources: RawResource[], extra: Record<string, unknown> = {}): BundleDocument {
  return parseBundleDocument(rawBundle(resources, extra));
}

export interface Call {
  readonly id: unknown;
  readonly params: Record<string, unknown>;
  readonly dryRun: boolean;
}

/**
 * Returns what params ask for: `result` (default "none") and `message` (default "applied <id>").
 * `snapshot` names a file to pass to ctx.snapshotFile first, as a real executor does before a change.
 */
export function scriptedExecutor(calls: Call[], type = 'scripted'): Executor {
  return {
    type,
    async apply(params, ctx: ExecutorContext): Promise<ExecutorResult> {
      calls.push({ id: params.tag, params: { ...params }, dryRun: ctx.dryRun });
      if (typeof params.snapshot === 'string') await ctx.snapshotFile(params.snapshot);
      const outcome = (params.result ?? 'none') as ExecutorResult['outcome'];
      const message = typeof params.message === 'string' ? params.message : `applied ${String(params.tag)}`;
      return { outcome, message };
    },
  };
}

export function optionsFor(
  t: TestContext,
  bundle: BundleDocument,
  executors: Executor[],
  extra: Partial<ApplyOptions> = {},
): ApplyOptions {
  const dir = tempDir(t);
  return {
    bundle,
    executors: new Map(executors.map((e) => [e.type, e])),
    dryRun: false,
    traits: { os: { family: 'debian', distro: 'ubuntu' } },
    probes: createProbes(),
    resolveSecrets: () => Promise.reject(new Error('this test resolves no secrets')),
    run: runCommand,
    snapshots: createFileSnapshotStore(path.join(dir, 'snapshots')),
    customExecutorDir: path.join(dir, 'executors'),
    signal: new AbortController().signal,
    ...extra,
  };
}
