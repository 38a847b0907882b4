/**
 * Test support for the Unix executors: a temporary root removed after the test, and contexts whose
 * command runner records every command and answers the ones a test scripts (the rest run for real).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { runCommand } from '../system/run-command.ts';
import type { CommandOptions, CommandResult, ExecutorContext } from './types.ts';

export type ScriptedCommand = (
  args: readonly string[],
  options?: CommandOptions,
) => CommandResult | undefined;

export interface UnixTestSetup {
  root: string;
  /** Every command run, as [file, ...args]. */
  calls: string[][];
  snapshots: string[];
  /** Answers for programs by name; an undefined answer runs the real program. */
  script: Map<string, ScriptedCommand>;
  ctx: (dryRun?: boolean) => ExecutorContext;
  /** Writes `content` at `abs` under the root, creating directories. */
  put: (abs: string, content: string) => string;
  at: (abs: string) => string;
}

export function ok(stdout = ''): CommandResult {
  return { exitCode: 0, stdout, stderr: '', timedOut: false };
}

export function failed(stderr: string, exitCode = 1): CommandResult {
  return { exitCode, stdout: '', stderr, timedOut: false };
}

export function unixSetup(t: TestContext): UnixTestSetup {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-root-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const calls: string[][] = [];
  const snapshots: string[] = [];
  const script = new Map<string, ScriptedCommand>();
  const at = (abs: string): string => path.join(root, abs);
  const ctx = (dryRun = false): ExecutorContext => ({
    dryRun,
    run: async (file, args, options) => {
      calls.push([file, ...args]);
      const answer = script.get(path.basename(file))?.(args, options);
      return answer ?? runCommand(file, args, options);
    },
    snapshotFile: async (p) => {
      snapshots.push(p);
    },
    customExecutorDir: root,
    signal: new AbortController().signal,
  });
  const put = (abs: string, content: string): string => {
    const p = at(abs);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  };
  return { root, calls, snapshots, script, ctx, put, at };
}

export interface NamespacePlan {
  /** Absolute path of the executor module and the name of its factory. */
  module: string;
  factory: string;
  options?: Record<string, unknown>;
  before?: string[][];
  steps: { params: Record<string, unknown>; dryRun?: boolean }[];
  after?: string[][];
}

export interface NamespaceRun {
  before: CommandResult[];
  results: { outcome: string; message: string }[];
  after: CommandResult[];
}

/** Why namespace tests cannot run here, or undefined when they can (root, and unshare works). */
export function namespaceSkipReason(kinds: readonly string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create namespaces';
  const probe = spawnSync('unshare', [...kinds, 'true'], { timeout: 10_000 });
  if (probe.status !== 0)
    return `unshare ${kinds.join(' ')} does not work here: ${String(probe.stderr).trim()}`;
  return undefined;
}

/** Runs the executor steps in a child process inside fresh namespaces (`kinds`, e.g. --uts --mount). */
export function runInNamespace(kinds: readonly string[], plan: NamespacePlan): NamespaceRun {
  const driver = path.join(import.meta.dirname, 'ns-apply.fixture.ts');
  const full = { options: {}, before: [], after: [], ...plan };
  const r = spawnSync(
    'unshare',
    [...kinds, process.execPath, '--import', 'tsx', driver, JSON.stringify(full)],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`namespace run failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as NamespaceRun;
}
