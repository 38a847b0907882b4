/**
 * The agent's guardrail for ad-hoc command tasks: a command that would stop or remove the agent, delete
 * its state, config or keys, or destroy the host is refused before it runs. The command line is split
 * into simple commands the way /bin/sh would (shell-words.ts); each one is unwrapped (sudo, env, nohup,
 * nice, timeout, sh -c, eval, …) and judged by its program and arguments against the rules below, so
 * `echo "rm -rf /"` runs and `sudo /bin/rm -r -f /` does not. Command substitutions are judged too.
 *
 * Like the server's guardrail it stops slips, not a determined operator: a command can hide what it does
 * behind variables, scripts or encodings. Named tasks from the signed stacks are not scanned.
 */
import path from 'node:path';
import { parseShell } from './shell-words.ts';
import type { ShellWord, SimpleCommand } from './shell-words.ts';

/** Where the agent's own files live, protected from deletion and overwriting besides the fixed paths. */
export interface GuardContext {
  /** The agent's state dir, config file and any other path it must keep. */
  readonly protectedPaths: readonly string[];
  /** Process ids that must not be killed: the agent's own. */
  readonly protectedPids: readonly number[];
  /** Where the task's shell starts (relative paths resolve against it). */
  readonly cwd: string;
}

export interface GuardRule {
  /** Stable id, shown in the refusal. */
  readonly id: string;
  readonly description: string;
  check(command: Command, context: GuardContext): string | undefined;
}

/** One simple command after unwrapping: the program's base name, its arguments and redirections. */
export interface Command {
  readonly name: string;
  readonly args: readonly ShellWord[];
  readonly redirections: SimpleCommand['redirections'];
}

export interface GuardMatch {
  readonly rule: string;
  readonly description: string;
  /** What was matched, for a person. */
  readonly detail: string;
}

/** Paths every agent protects, besides its own state dir and config file. */
export const fixedProtectedPaths = ['/etc/vigo', '/etc/vigo-envoy', '/var/lib/vigo'] as const;
/** The agent's service units and process names. */
const agentNames = /^vigo(?:-envoy|-agent)?(?:\.service)?$/;
const agentProcesses = ['vigo', 'vigo-envoy', 'vigo-agent'];
/** The top of the file tree: a recursive delete, chmod or chown of one of these ruins the host. */
const systemRoots = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib64',
  '/opt',
  '/root',
  '/sbin',
  '/srv',
  '/usr',
  '/var',
];
const harmlessDevices =
  /^\/dev\/(?:null|zero|full|random|urandom|stdout|stderr|stdin|tty\d*|fd\/\d+|pts\/\d+|shm\/.*)$/;
const maxNesting = 8;

const options = (args: readonly ShellWord[]): string[] =>
  args.filter((a) => a.text.startsWith('-') && a.text !== '-' && a.text !== '--').map((a) => a.text);
const operands = (args: readonly ShellWord[]): ShellWord[] => {
  const out: ShellWord[] = [];
  let afterDashes = false;
  for (const a of args) {
    if (!afterDashes && a.text === '--') afterDashes = true;
    else if (afterDashes || !a.text.startsWith('-') || a.text === '-') out.push(a);
  }
  return out;
};
const recursive = (args: readonly ShellWord[]): boolean =>
  options(args).some((o) => /^-[a-zA-Z]*[rR]/.test(o) || o === '--recursive');

function absolute(text: string, cwd: string): string {
  const resolved = path.posix.resolve(cwd, text);
  return resolved.length > 1 ? resolved.replace(/\/+$/, '') : resolved;
}

/** An unquoted word with a glob character, made absolute, as a regular expression over whole paths. */
function globPattern(word: ShellWord, cwd: string): RegExp | undefined {
  if (word.quoted || !/[*?[]/.test(word.text)) return undefined;
  const source = absolute(word.text, cwd)
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  try {
    return new RegExp(`^${source}$`);
  } catch {
    return undefined;
  }
}

/** `target` itself and every directory above it. */
function selfAndAncestors(target: string): string[] {
  const out = [target];
  for (let p = path.posix.dirname(target); p !== out.at(-1); p = path.posix.dirname(p)) out.push(p);
  return out;
}

/**
 * The guarded path `word` would reach: the path itself or one inside it, or (when `deep`, for a
 * recursive operation) a directory that holds it. A glob reaches what it could match.
 */
function reaches(
  word: ShellWord,
  guarded: readonly string[],
  cwd: string,
  deep: boolean,
): string | undefined {
  const glob = globPattern(word, cwd);
  const exact = absolute(word.text, cwd);
  for (const target of guarded) {
    const candidates = deep ? selfAndAncestors(target) : [target];
    if (glob !== undefined) {
      // A glob matching a path inside the guarded one is as bad as naming it.
      if (candidates.some((c) => glob.test(c)) || glob.test(`${target === '/' ? '' : target}/x`))
        return target;
    } else if (
      exact === target ||
      exact.startsWith(`${target === '/' ? '' : target}/`) ||
      (deep && candidates.includes(exact))
    )
      return target;
  }
  return undefined;
}

/** The process ids a kill command names: after its signal option and an optional `--`. */
function killTargets(args: readonly ShellWord[]): ShellWord[] {
  let i = 0;
  const first = args[0]?.text ?? '';
  if (first === '-s' || first === '-n') i = 2;
  else if (first.startsWith('-') && first !== '--' && !/^-\d+$/.test(first)) i = 1;
  else if (/^-\d+$/.test(first) && args.length > 1) i = 1;
  if (args[i]?.text === '--') i += 1;
  return args.slice(i);
}

/** A glob over one name (no slashes), e.g. a unit pattern. */
function globMatchesName(glob: string, name: string): boolean {
  const source = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  try {
    return new RegExp(`^${source}$`).test(name);
  } catch {
    return false;
  }
}

const deleters = new Set(['rm', 'unlink', 'rmdir', 'shred', 'mv', 'truncate', 'srm', 'wipe']);
const writingRedirects = new Set(['>', '>>', '>|', '&>', '&>>', '<>']);

export const guardRules: readonly GuardRule[] = [
  {
    id: 'wipe-root',
    description: 'recursive rm, chmod or chown of / or a top-level system directory',
    check(cmd, ctx) {
      if (!['rm', 'chmod', 'chown', 'chgrp'].includes(cmd.name)) return undefined;
      if (options(cmd.args).includes('--no-preserve-root')) return `${cmd.name} --no-preserve-root`;
      if (!recursive(cmd.args)) return undefined;
      for (const word of operands(cmd.args)) {
        const glob = globPattern(word, ctx.cwd);
        const wiped =
          glob === undefined
            ? systemRoots.includes(absolute(word.text, ctx.cwd))
            : systemRoots.some((root) => glob.test(root) || (root !== '/' && glob.test(`${root}/x`)));
        if (wiped) return `${cmd.name} -r ${word.text}`;
      }
      return undefined;
    },
  },
  {
    id: 'delete-agent-files',
    description:
      "deleting, moving or truncating the agent's config, keys or state (/etc/vigo, its state dir)",
    check(cmd, ctx) {
      const guarded = [...fixedProtectedPaths, ...ctx.protectedPaths];
      if (deleters.has(cmd.name)) {
        const deep = cmd.name === 'rm' ? recursive(cmd.args) : cmd.name === 'mv' || cmd.name === 'rmdir';
        const words = operands(cmd.args);
        // mv's last operand is where things go; what it moves away are the others.
        const moved = cmd.name === 'mv' && words.length > 1 ? words.slice(0, -1) : words;
        for (const word of moved) {
          const hit = reaches(word, guarded, ctx.cwd, deep);
          if (hit !== undefined) return `${cmd.name} ${word.text} (${hit})`;
        }
      }
      if (cmd.name === 'find' && cmd.args.some((a) => a.text === '-delete' || a.text === '-exec')) {
        const firstOption = cmd.args.findIndex((a) => a.text.startsWith('-'));
        const roots = firstOption === -1 ? cmd.args : cmd.args.slice(0, firstOption);
        for (const word of roots) {
          const hit = reaches(word, guarded, ctx.cwd, true);
          if (hit !== undefined) return `find ${word.text} -delete (${hit})`;
        }
      }
      for (const r of cmd.redirections) {
        if (!writingRedirects.has(r.op)) continue;
        const hit = reaches(r.target, guarded, ctx.cwd, false);
        if (hit !== undefined) return `${r.op} ${r.target.text} (${hit})`;
      }
      return undefined;
    },
  },
  {
    id: 'format-disk',
    description: 'mkfs, mkswap or wipefs on a device',
    check(cmd) {
      if (!/^(?:mkfs(?:\..+)?|mke2fs|mkswap|wipefs|mkdosfs|mkntfs|blkdiscard)$/.test(cmd.name))
        return undefined;
      const device = operands(cmd.args).find((a) => a.text.startsWith('/dev/'));
      return device === undefined ? undefined : `${cmd.name} ${device.text}`;
    },
  },
  {
    id: 'overwrite-device',
    description: 'dd of=, shred or a redirection onto a disk device',
    check(cmd) {
      const ontoDevice = (p: string): boolean => p.startsWith('/dev/') && !harmlessDevices.test(p);
      if (cmd.name === 'dd') {
        const out = cmd.args.find((a) => a.text.startsWith('of=') && ontoDevice(a.text.slice(3)));
        if (out !== undefined) return `dd ${out.text}`;
      }
      if (cmd.name === 'shred') {
        const device = operands(cmd.args).find((a) => ontoDevice(a.text));
        if (device !== undefined) return `shred ${device.text}`;
      }
      const redirect = cmd.redirections.find((r) => writingRedirects.has(r.op) && ontoDevice(r.target.text));
      return redirect === undefined ? undefined : `${redirect.op} ${redirect.target.text}`;
    },
  },
  {
    id: 'stop-agent-service',
    description: 'systemctl stop/kill/disable/mask or service … stop of the agent',
    check(cmd) {
      const words = operands(cmd.args).map((a) => a.text);
      const unit = (w: string): boolean =>
        agentNames.test(w) || (/[*?[]/.test(w) && globMatchesName(w, 'vigo'));
      if (cmd.name === 'systemctl') {
        const action = words.find((w) => ['stop', 'kill', 'disable', 'mask'].includes(w));
        const target = words.find(unit);
        if (action !== undefined && target !== undefined) return `systemctl ${action} ${target}`;
      }
      if (cmd.name === 'service' && words[0] !== undefined && agentNames.test(words[0]))
        if (['stop', 'kill'].includes(words[1] ?? '')) return `service ${words[0]} ${words[1]}`;
      return undefined;
    },
  },
  {
    id: 'kill-agent',
    description: 'pkill/killall of the agent, or kill of its process id',
    check(cmd, ctx) {
      const words = operands(cmd.args);
      if (cmd.name === 'pkill' || cmd.name === 'killall') {
        for (const w of words) {
          let pattern: RegExp;
          try {
            pattern =
              cmd.name === 'pkill'
                ? new RegExp(w.text)
                : new RegExp(`^${w.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
          } catch {
            continue;
          }
          const hit = agentProcesses.find((name) => pattern.test(name));
          if (hit !== undefined) return `${cmd.name} ${w.text}`;
        }
      }
      if (cmd.name === 'kill') {
        for (const w of killTargets(cmd.args)) {
          if (w.text === '-1') return 'kill -1 (every process)';
          const pid = Number(w.text);
          if (Number.isInteger(pid) && ctx.protectedPids.includes(pid)) return `kill ${w.text} (the agent)`;
          const finder = w.substitutions.find((s) => /\b(?:pidof|pgrep)\b/.test(s) && /vigo/.test(s));
          if (finder !== undefined) return `kill $(${finder})`;
        }
      }
      return undefined;
    },
  },
];

/** Programs that run the rest of their arguments as the command; the number is how many option words take a value. */
const wrappers: Readonly<Record<string, ReadonlySet<string>>> = {
  sudo: new Set(['-u', '-g', '-C', '-h', '-p', '-U', '-r', '-t', '-D']),
  doas: new Set(['-u', '-C']),
  env: new Set(['-u', '-C', '-S']),
  nohup: new Set(),
  nice: new Set(['-n']),
  ionice: new Set(['-c', '-n', '-p']),
  setsid: new Set(),
  stdbuf: new Set(['-i', '-o', '-e']),
  command: new Set(),
  exec: new Set(['-a']),
  builtin: new Set(),
  time: new Set(['-f', '-o']),
  timeout: new Set(['-s', '-k']),
  xargs: new Set(['-I', '-n', '-P', '-L', '-d', '-E', '-s', '-a']),
  busybox: new Set(),
  chrt: new Set(),
  taskset: new Set(),
};
const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'busybox-sh']);
const reserved = new Set(['!', '{', '}', 'then', 'do', 'else', 'elif', 'if', 'while', 'until', 'time']);

/** The command behind wrappers and assignments, and the nested command lines it runs (sh -c, eval). */
function unwrap(words: readonly ShellWord[]): { command?: Command; nested: string[] } {
  let rest = [...words];
  const nested: string[] = [];
  for (let guard = 0; guard < 32; guard += 1) {
    while (rest.length > 0 && (reserved.has(rest[0]!.text) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0]!.text)))
      rest = rest.slice(1);
    const head = rest[0];
    if (head === undefined) return { nested };
    const name = path.posix.basename(head.text);
    const valued = wrappers[name];
    if (valued !== undefined) {
      let i = 1;
      while (i < rest.length && rest[i]!.text.startsWith('-')) i += valued.has(rest[i]!.text) ? 2 : 1;
      if (name === 'env') while (i < rest.length && rest[i]!.text.includes('=')) i += 1;
      // timeout DURATION, chrt PRIO, taskset MASK: one positional before the command.
      if (name === 'timeout' || name === 'chrt' || name === 'taskset') i += 1;
      rest = rest.slice(i);
      continue;
    }
    if (shells.has(name)) {
      const flag = rest.findIndex((w, i) => i > 0 && /^-[a-zA-Z]*c[a-zA-Z]*$/.test(w.text));
      if (flag !== -1 && rest[flag + 1] !== undefined) nested.push(rest[flag + 1]!.text);
      return { command: { name, args: rest.slice(1), redirections: [] }, nested };
    }
    if (name === 'eval')
      nested.push(
        rest
          .slice(1)
          .map((w) => w.text)
          .join(' '),
      );
    return { command: { name, args: rest.slice(1), redirections: [] }, nested };
  }
  return { nested };
}

/** The first rule `commandLine` breaks, or undefined when it may run. */
export function scanCommand(commandLine: string, context: GuardContext, depth = 0): GuardMatch | undefined {
  if (depth > maxNesting)
    return {
      rule: 'too-nested',
      description: 'command lines nested too deeply to scan',
      detail: `more than ${maxNesting} levels of sh -c, eval or $( )`,
    };
  const parsed = parseShell(commandLine);
  for (const simple of parsed.commands) {
    const { command, nested } = unwrap(simple.words);
    const judged: Command =
      command === undefined
        ? { name: '', args: [], redirections: simple.redirections }
        : { ...command, redirections: simple.redirections };
    for (const rule of guardRules) {
      const detail = rule.check(judged, context);
      if (detail !== undefined) return { rule: rule.id, description: rule.description, detail };
    }
    for (const inner of nested) {
      const match = scanCommand(inner, context, depth + 1);
      if (match !== undefined) return match;
    }
  }
  for (const inner of parsed.substitutions) {
    const match = scanCommand(inner, context, depth + 1);
    if (match !== undefined) return match;
  }
  return undefined;
}
