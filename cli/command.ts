/**
 * The command framework: a command is a path of words (`enroll token create`), its flags and
 * arguments, and a run function. Help, usage errors and dispatch all derive from these declarations,
 * so `vigocli --help` lists exactly the commands that exist.
 */
import type { ApiClient } from './api-client.ts';
import type { FlagSpec, ParsedFlag } from './argv.ts';
import { closest } from './argv.ts';
import type { CliError } from './errors.ts';
import { usageError } from './errors.ts';
import type { DataFormat, OutputFormat } from './output.ts';
import type { ResolvedCredential, Settings } from './settings.ts';

export interface ArgSpec {
  /** Takes one or more words (at most one argument of a command may); name it NAME... */
  readonly variadic?: boolean;
  readonly name: string;
  readonly doc: string;
  /** The command runs without it (only a last argument may be optional). */
  readonly optional?: boolean;
}

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /** The script format data is printed in (`-o json|yaml`); unset means JSON. */
  readonly dataFormat?: DataFormat;
}

export interface CommandContext {
  readonly io: CommandIo;
  /** `-o table|json|yaml` (`--json` is `-o json`). */
  readonly output: OutputFormat;
  /** A script format was asked for (`-o json` or `-o yaml`): print data, no prose or progress. */
  readonly json: boolean;
  /** Prints `data` in the script format asked for, or calls `human` to print the table form. */
  print(data: unknown, human: () => void): void;
  readonly client: ApiClient;
  readonly credentials: CredentialAccess;
}

/** vigocli's own settings, for the `auth` and `context` commands that save, check and show them. */
export interface CredentialAccess {
  /** The single token file older versions wrote ($XDG_CONFIG_HOME/vigo/token); read after contexts. */
  readonly userTokenFile: string;
  /** Where the server, CA and token of this invocation come from. */
  readonly settings: Settings;
  /** The token requests present and where it was found; throws the same error a request would. */
  resolve(): ResolvedCredential;
  /**
   * A client for the same server (or the one `settings` name) that presents `token`, or no credential
   * at all when undefined.
   */
  clientWith(token: string | undefined, settings?: Settings): ApiClient;
}

export interface CommandInput {
  readonly args: readonly string[];
  /** Every value given for a flag, in order (empty when absent). */
  values(name: string): string[];
  /** The single value of a flag; a usage error if it was given more than once. */
  value(name: string): string | undefined;
  /** Whether a switch (a flag without a value) was given. */
  has(name: string): boolean;
}

export interface CommandSpec {
  readonly path: readonly string[];
  readonly summary: string;
  readonly args?: readonly ArgSpec[];
  readonly flags?: readonly FlagSpec[];
  /** Extra help paragraphs. */
  readonly details?: string;
  run(ctx: CommandContext, input: CommandInput): Promise<void>;
}

export function commandName(command: CommandSpec): string {
  return command.path.join(' ');
}

export interface Resolved {
  readonly command: CommandSpec | undefined;
  /** The words that named the command (or the group, when no command matched). */
  readonly path: readonly string[];
  readonly rest: readonly string[];
}

/** The command whose path is the longest prefix of `words`, else the deepest group they name. */
export function resolveCommand(commands: readonly CommandSpec[], words: readonly string[]): Resolved {
  let best: CommandSpec | undefined;
  for (const command of commands) {
    const n = command.path.length;
    if (n <= words.length && command.path.every((w, i) => words[i] === w) && n > (best?.path.length ?? 0)) {
      best = command;
    }
  }
  if (best !== undefined) return { command: best, path: best.path, rest: words.slice(best.path.length) };
  let depth = 0;
  while (
    depth < words.length &&
    commands.some(
      (c) => c.path.length > depth + 1 && c.path.slice(0, depth + 1).every((w, i) => words[i] === w),
    )
  ) {
    depth += 1;
  }
  return { command: undefined, path: words.slice(0, depth), rest: words.slice(depth) };
}

/** The usage error for words that name no command, with a "did you mean" when one is close. */
export function unknownCommand(commands: readonly CommandSpec[], resolved: Resolved): CliError {
  const next = resolved.rest[0];
  if (next === undefined) {
    const group = resolved.path.length === 0 ? '' : ` ${resolved.path.join(' ')}`;
    return usageError(`name a command: "vigocli${group} --help" lists them`);
  }
  const depth = resolved.path.length;
  const choices = new Set(
    commands
      .filter((c) => c.path.length > depth && resolved.path.every((w, i) => c.path[i] === w))
      .map((c) => c.path[depth] as string),
  );
  const hint = closest(next, choices);
  const typed = [...resolved.path, next].join(' ');
  const suggestion = hint === undefined ? '' : `; did you mean "${[...resolved.path, hint].join(' ')}"?`;
  return usageError(`unknown command "${typed}"${suggestion} ("vigocli --help" lists the commands)`);
}

export function commandInput(
  command: CommandSpec,
  args: readonly string[],
  flags: readonly ParsedFlag[],
): CommandInput {
  const own = new Map((command.flags ?? []).map((f) => [f.name, f]));
  const declared = command.args ?? [];
  const variadic = declared.findIndex((a) => a.variadic === true);
  // A variadic argument takes every word the others leave, so only a shortfall can be wrong.
  const expected =
    variadic < 0
      ? declared
      : declared.flatMap((a, i) =>
          i === variadic
            ? Array.from({ length: Math.max(1, args.length - declared.length + 1) }, () => a)
            : [a],
        );
  if (args.length > expected.length) {
    const extra = args[expected.length] as string;
    throw usageError(
      `unexpected argument ${JSON.stringify(extra)} for "vigocli ${commandName(command)}" (see --help)`,
    );
  }
  const missing = expected[args.length];
  if (missing !== undefined && missing.optional !== true) {
    throw usageError(`"vigocli ${commandName(command)}" needs ${missing.name}: ${missing.doc}`);
  }
  const values = (name: string): string[] =>
    flags.filter((f) => f.name === name && f.value !== undefined).map((f) => f.value as string);
  for (const flag of flags) {
    if (!own.has(flag.name)) {
      throw usageError(`--${flag.name} is not a flag of "vigocli ${commandName(command)}" (see --help)`);
    }
  }
  for (const spec of own.values()) {
    if (spec.required === true && values(spec.name).length === 0) {
      throw usageError(
        `"vigocli ${commandName(command)}" needs --${spec.name} ${spec.value ?? ''}`.trimEnd(),
      );
    }
  }
  return {
    args,
    values,
    has: (name) => flags.some((f) => f.name === name),
    value: (name) => {
      const all = values(name);
      if (all.length > 1 && own.get(name)?.repeatable !== true) {
        throw usageError(`--${name} was given ${all.length} times; give it once`);
      }
      return all.at(-1);
    },
  };
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const labels = flags.map((f) => `--${f.name}${f.value === undefined ? '' : ` ${f.value}`}`);
  const width = Math.max(0, ...labels.map((l) => l.length));
  return flags.map((f, i) => `  ${(labels[i] as string).padEnd(width)}  ${f.doc}`);
}

function usageLine(command: CommandSpec): string {
  const flags = (command.flags ?? []).map((f) => {
    const text = `--${f.name}${f.value === undefined ? '' : ` ${f.value}`}`;
    const more = f.repeatable === true ? ` [${text}…]` : '';
    return f.required === true ? `${text}${more}` : `[${text}]${more}`;
  });
  const args = (command.args ?? []).map((a) => (a.optional === true ? `[${a.name}]` : a.name));
  return ['vigocli', ...command.path, ...args, ...flags].join(' ');
}

export function commandHelp(command: CommandSpec, globals: readonly FlagSpec[]): string {
  const lines = [`${command.summary}`, '', `Usage: ${usageLine(command)}`];
  if ((command.args ?? []).length > 0) {
    const width = Math.max(...(command.args ?? []).map((a) => a.name.length));
    lines.push('', 'Arguments:', ...(command.args ?? []).map((a) => `  ${a.name.padEnd(width)}  ${a.doc}`));
  }
  if ((command.flags ?? []).length > 0) lines.push('', 'Flags:', ...flagLines(command.flags ?? []));
  if (command.details !== undefined) lines.push('', command.details);
  lines.push('', 'Global flags:', ...flagLines(globals));
  return `${lines.join('\n')}\n`;
}

export function groupHelp(
  commands: readonly CommandSpec[],
  group: readonly string[],
  globals: readonly FlagSpec[],
  footer: string,
): string {
  const inGroup = commands.filter((c) => group.every((w, i) => c.path[i] === w));
  const names = inGroup.map(commandName);
  const width = Math.max(0, ...names.map((n) => n.length));
  const title =
    group.length === 0 ? 'vigocli: the admin command line for vigosrv' : `vigocli ${group.join(' ')}`;
  const lines = [
    title,
    '',
    `Usage: vigocli [global flags] ${group.length === 0 ? '<command>' : `${group.join(' ')} <command>`} [flags]`,
    '',
    'Commands:',
    ...inGroup.map((c, i) => `  ${(names[i] as string).padEnd(width)}  ${c.summary}`),
    '',
    'Global flags:',
    ...flagLines(globals),
    '',
    footer,
  ];
  return `${lines.join('\n')}\n`;
}
