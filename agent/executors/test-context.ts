/** Test support for executors: a temp dir removed after the test, and contexts that record snapshots. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import type { ExecutorContext } from './types.ts';

export interface ExecutorTestSetup {
  dir: string;
  /** Paths passed to ctx.snapshotFile, in order. */
  snapshots: string[];
  ctx: (dryRun?: boolean) => ExecutorContext;
}

export function setup(t: TestContext): ExecutorTestSetup {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const snapshots: string[] = [];
  const ctx = (dryRun = false): ExecutorContext => ({
    dryRun,
    run: runCommand,
    snapshotFile: async (p) => {
      snapshots.push(p);
    },
    customExecutorDir: dir,
    signal: new AbortController().signal,
  });
  return { dir, snapshots, ctx };
}
