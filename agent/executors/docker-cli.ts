/**
 * What the container executors share: which CLI to drive (`docker`, or `podman`, which takes the same
 * commands), running it with a timeout and a failure message naming the subject and the command, and
 * the small parsers for what it prints.
 */
import { findExecutable } from './exec.ts';
import { fail } from './fs-util.ts';
import type { CommandResult, ExecutorContext } from './types.ts';
import { commandFailure, oneOf, timeoutMsParam, toolEnv } from './xplat-util.ts';

type Params = Readonly<Record<string, unknown>>;

export interface ContainerCli {
  readonly program: string;
  readonly timeoutMs: number;
  /** Runs the CLI; a non-zero exit fails with the subject and the command line. */
  run(subject: string, args: readonly string[]): Promise<CommandResult>;
  /** Runs the CLI and returns the result whatever the exit code. */
  probe(args: readonly string[]): Promise<CommandResult>;
}

export function containerCli(params: Params, ctx: ExecutorContext): ContainerCli {
  const runtime =
    params.runtime !== undefined
      ? oneOf(params, 'runtime', ['docker', 'podman'], 'docker')
      : findExecutable('docker') !== undefined || findExecutable('podman') === undefined
        ? 'docker'
        : 'podman';
  const timeoutMs = timeoutMsParam(params);
  const env = toolEnv();
  return {
    program: runtime,
    timeoutMs,
    probe: (args) => ctx.run(runtime, args, { env, timeoutMs }),
    run: async (subject, args) => {
      const r = await ctx.run(runtime, args, { env, timeoutMs });
      if (r.exitCode !== 0) fail(commandFailure(subject, runtime, args, r));
      return r;
    },
  };
}

/** "No such container/image/object": the thing is absent, as opposed to the CLI failing. */
export function isNoSuch(r: CommandResult): boolean {
  return r.exitCode !== 0 && /no such (container|image|object)|not found|does not exist/i.test(r.stderr);
}

/** A container's command written as one string, split like a shell would split simple words and quotes. */
export function splitCommand(command: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let any = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i] ?? '';
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) cur += command[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      any = true;
    } else if (/\s/.test(c)) {
      if (cur !== '' || any) out.push(cur);
      cur = '';
      any = false;
    } else if (c === '\\' && i + 1 < command.length) cur += command[++i];
    else cur += c;
  }
  if (quote !== null) fail('command has an unterminated quote');
  if (cur !== '' || any) out.push(cur);
  return out;
}

/** JSON lines or one JSON array (compose prints either, depending on its version). */
export function parseJsonRecords(stdout: string): Record<string, unknown>[] {
  const text = stdout.trim();
  if (text === '') return [];
  try {
    if (text.startsWith('[')) return JSON.parse(text) as Record<string, unknown>[];
    return text.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch {
    fail(`could not read the container CLI's JSON output: ${text.slice(0, 200)}`);
  }
}
