/**
 * The when: builtins. Trait builtins read the envoy's traits at the paths in TRAIT_PATHS and can be
 * decided by the server when it has the traits; agent builtins probe the machine or the clock and
 * are always left to the agent. A trait builtin whose trait is absent is false (a fleet is mixed:
 * not every envoy reports every trait).
 */
import { resolveTraitKey } from './trait-aliases.ts';

export interface AgentProbes {
  fileExists(p: string): boolean;
  dirExists(p: string): boolean;
  processRunning(name: string): boolean;
  commandSucceeds(cmd: string): boolean;
  now(): Date;
}

/** Where the trait builtins look; the agent's trait collectors must report these paths. */
export const TRAIT_PATHS = {
  /** e.g. "debian", "rhel", "darwin" — compared case-insensitively. */
  osFamily: 'os.family',
  /** e.g. "ubuntu", "rocky" — compared case-insensitively. */
  distro: 'os.distro',
  /** Dotted numeric version, e.g. "22.04" or "9.3"; compared component by component. */
  osVersion: 'os.version',
  /** Machine architecture as `uname -m` reports it, e.g. "x86_64", "aarch64". */
  arch: 'arch',
  /** Boolean: true inside a container (docker, podman, lxc, k8s pod). */
  isContainer: 'container.is_container',
  /** Total memory in MiB, a number. */
  memoryTotalMb: 'memory.total_mb',
} as const;

export type ParamKind = 'text' | 'version' | 'megabytes' | 'hour' | 'minute' | 'weekdays' | 'monthdays';

export interface BuiltinContext {
  traits: Record<string, unknown>;
  probes: AgentProbes | undefined;
}

export interface Builtin {
  readonly name: string;
  readonly side: 'trait' | 'agent';
  readonly params: readonly ParamKind[];
  /** The last parameter may repeat (day_of_week("sat", "sun")). */
  readonly variadic: boolean;
  readonly usage: string;
  /** Arguments arrive validated and normalized by normalizeArg. */
  run(args: readonly unknown[], ctx: BuiltinContext): boolean;
}

/** Thrown for an argument of the wrong type or range; the caller adds the position. */
export class ArgError extends Error {}

/** Reads a trait by dotted path (the first segment may be an alias): nested maps first, then a flat "a.b" key (some collectors flatten). */
export function traitValue(traits: Record<string, unknown>, path: string): unknown {
  const segments = path.split('.');
  // The first segment may be another name of a reported trait (trait-aliases.ts).
  segments[0] = resolveTraitKey(traits, segments[0]!) ?? segments[0]!;
  let node: unknown = traits;
  for (const segment of segments) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, segment)) {
      node = undefined;
      break;
    }
    node = (node as Record<string, unknown>)[segment];
  }
  if (node !== undefined) return node;
  return Object.hasOwn(traits, path) ? traits[path] : undefined;
}

function traitText(ctx: BuiltinContext, path: string): string | undefined {
  const value = traitValue(ctx.traits, path);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

const archAliases: Record<string, string> = {
  amd64: 'x86_64',
  x64: 'x86_64',
  'x86-64': 'x86_64',
  arm64: 'aarch64',
  i686: 'i386',
  x86: 'i386',
  armhf: 'armv7l',
  armv7: 'armv7l',
};

function normalizeArch(arch: string): string {
  const lower = arch.toLowerCase();
  return archAliases[lower] ?? lower;
}

export function parseVersion(text: string): number[] | undefined {
  const match = /^\s*v?(\d+(?:\.\d+)*)/.exec(text);
  return match?.[1]?.split('.').map(Number);
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function inWrappingRange(value: number, start: number, end: number): boolean {
  return start <= end ? value >= start && value <= end : value >= start || value <= end;
}

function probes(ctx: BuiltinContext): AgentProbes {
  if (ctx.probes === undefined) throw new ArgError('needs the agent');
  return ctx.probes;
}

function truthyTrait(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string')
    return !['', 'false', 'no', '0', 'none'].includes(value.trim().toLowerCase());
  return false;
}

function sameText(path: string) {
  return (args: readonly unknown[], ctx: BuiltinContext): boolean =>
    traitText(ctx, path)?.toLowerCase() === String(args[0]).toLowerCase();
}

function builtin(
  name: string,
  side: Builtin['side'],
  params: ParamKind[],
  usage: string,
  run: Builtin['run'],
  variadic = false,
): Builtin {
  return { name, side, params, variadic, usage, run };
}

const list: Builtin[] = [
  builtin('os_family', 'trait', ['text'], 'os_family("debian")', sameText(TRAIT_PATHS.osFamily)),
  builtin('distro', 'trait', ['text'], 'distro("ubuntu")', sameText(TRAIT_PATHS.distro)),
  builtin('arch', 'trait', ['text'], 'arch("amd64")', ([arch], ctx) => {
    const actual = traitText(ctx, TRAIT_PATHS.arch);
    return actual !== undefined && normalizeArch(actual) === normalizeArch(String(arch));
  }),
  builtin('version_ge', 'trait', ['version'], 'version_ge("22.04")', ([wanted], ctx) => {
    const actual = parseVersion(traitText(ctx, TRAIT_PATHS.osVersion) ?? '');
    return actual !== undefined && compareVersions(actual, wanted as number[]) >= 0;
  }),
  builtin('is_container', 'trait', [], 'is_container', (_args, ctx) =>
    truthyTrait(traitValue(ctx.traits, TRAIT_PATHS.isContainer)),
  ),
  builtin('has_enough_ram', 'trait', ['megabytes'], 'has_enough_ram(2048)', ([mb], ctx) => {
    const total = Number(traitText(ctx, TRAIT_PATHS.memoryTotalMb) ?? NaN);
    return Number.isFinite(total) && total >= (mb as number);
  }),
  builtin('file_exists', 'agent', ['text'], 'file_exists("/etc/nginx/nginx.conf")', ([path], ctx) =>
    probes(ctx).fileExists(path as string),
  ),
  builtin('dir_exists', 'agent', ['text'], 'dir_exists("/srv/app")', ([path], ctx) =>
    probes(ctx).dirExists(path as string),
  ),
  builtin('process_running', 'agent', ['text'], 'process_running("nginx")', ([name], ctx) =>
    probes(ctx).processRunning(name as string),
  ),
  builtin(
    'command_succeeds',
    'agent',
    ['text'],
    'command_succeeds("systemctl is-active nginx")',
    ([cmd], ctx) => probes(ctx).commandSucceeds(cmd as string),
  ),
  builtin('hour_range', 'agent', ['hour', 'hour'], 'hour_range(22, 6)', ([start, end], ctx) =>
    inWrappingRange(probes(ctx).now().getHours(), start as number, end as number),
  ),
  builtin('minute_range', 'agent', ['minute', 'minute'], 'minute_range(0, 15)', ([start, end], ctx) =>
    inWrappingRange(probes(ctx).now().getMinutes(), start as number, end as number),
  ),
  builtin(
    'day_of_week',
    'agent',
    ['weekdays'],
    'day_of_week("mon-fri")',
    (days, ctx) => {
      const today = probes(ctx).now().getDay();
      return days.some((set) => (set as Set<number>).has(today));
    },
    true,
  ),
  builtin(
    'day_of_month',
    'agent',
    ['monthdays'],
    'day_of_month(1)',
    (days, ctx) => {
      const today = probes(ctx).now().getDate();
      return days.some((set) => (set as Set<number>).has(today));
    },
    true,
  ),
];

export const builtins: ReadonlyMap<string, Builtin> = new Map(list.map((b) => [b.name, b]));

export function arityText(b: Builtin): string {
  const n = b.params.length;
  if (b.variadic) return `at least ${n} argument${n === 1 ? '' : 's'}`;
  return n === 0 ? 'no arguments' : `${n} argument${n === 1 ? '' : 's'}`;
}
