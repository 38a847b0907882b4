/**
 * Test driver run inside a Linux namespace (unshare): loads one executor factory, runs scripted
 * commands, applies the executor to each step's params, and prints the results as one JSON line.
 * Input (argv[2], JSON): { module, factory, options, before: argv[], steps: [{ params, dryRun }], after: argv[] }.
 */
import { runCommand } from '../system/run-command.ts';
import type { CommandResult, Executor, ExecutorContext, ExecutorResult } from './types.ts';

interface Plan {
  module: string;
  factory: string;
  options: Record<string, unknown>;
  before: string[][];
  steps: { params: Record<string, unknown>; dryRun?: boolean }[];
  after: string[][];
}

const plan = JSON.parse(process.argv[2] ?? '{}') as Plan;
const mod = (await import(plan.module)) as Record<string, (o: unknown) => Executor>;
const executor = mod[plan.factory]!(plan.options);
const ctx = (dryRun: boolean): ExecutorContext => ({
  dryRun,
  run: runCommand,
  snapshotFile: async () => undefined,
  customExecutorDir: '/nonexistent',
  signal: new AbortController().signal,
});
const before: CommandResult[] = [];
for (const [file, ...args] of plan.before) before.push(await runCommand(file!, args, { timeoutMs: 30_000 }));
const results: ExecutorResult[] = [];
for (const step of plan.steps) results.push(await executor.apply(step.params, ctx(step.dryRun === true)));
const after: CommandResult[] = [];
for (const [file, ...args] of plan.after) after.push(await runCommand(file!, args, { timeoutMs: 30_000 }));
process.stdout.write(`${JSON.stringify({ before, results, after })}\n`);
