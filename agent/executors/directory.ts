/**
 * `directory`: a directory with owner/group/mode, optionally applied to everything below it
 * (recurse) and optionally cleared of entries nothing manages (purge), or its absence.
 *
 * recurse: subdirectories get owner, group and mode; regular files get owner, group and the mode's
 * read/write bits, plus its execute bits only if the file was executable already (chmod's "X"), so
 * `mode: "0755", recurse: true` does not make every data file executable and scripts stay
 * runnable; setuid/setgid/sticky bits are never copied onto files. Symlinks below are lchown-ed,
 * never followed.
 *
 * purge: the executor sees only its own params, so which paths other resources manage comes from
 * `managedPaths` (the engine passes the target paths of the bundle it applies). A direct entry of
 * the directory that is neither managed nor contains a managed path is removed, after its regular
 * files are snapshotted. Without managedPaths, purge empties the directory.
 */
import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import {
  applyAttrs,
  checkAborted,
  diffAttrs,
  fail,
  formatMode,
  guardApply,
  lstatIfExists,
  optionalBool,
  resolveAttrs,
  result,
  stateParam,
  targetPath,
  type DesiredAttrs,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';

export interface DirectoryExecutorOptions {
  /** Absolute paths managed by the resources of the bundle being applied (spared by purge). */
  readonly managedPaths?: () => ReadonlySet<string>;
}

interface DirectoryPlan {
  readonly dir: string;
  readonly attrs: DesiredAttrs;
  readonly recurse: boolean;
  readonly purge: boolean;
}

/** The attributes an entry below a recursively managed directory should have. */
function entryAttrs(st: Stats, attrs: DesiredAttrs): DesiredAttrs {
  if (st.isDirectory()) return attrs;
  if (st.isSymbolicLink() || !st.isFile() || attrs.mode === undefined) {
    return { uid: attrs.uid, gid: attrs.gid };
  }
  const mode = (attrs.mode & 0o666) | ((st.mode & 0o111) !== 0 ? attrs.mode & 0o111 : 0);
  return { uid: attrs.uid, gid: attrs.gid, mode };
}

/** Walks below `dir` without following symlinks; calls `visit` for each entry, parents first. */
async function walk(
  dir: string,
  ctx: ExecutorContext,
  visit: (p: string, st: Stats) => Promise<void>,
): Promise<void> {
  for (const name of (await fsp.readdir(dir)).sort()) {
    checkAborted(ctx);
    const p = path.join(dir, name);
    const st = await fsp.lstat(p);
    await visit(p, st);
    if (st.isDirectory()) await walk(p, ctx, visit);
  }
}

async function recursiveDrift(plan: DirectoryPlan, ctx: ExecutorContext): Promise<Array<[string, Stats]>> {
  const drifted: Array<[string, Stats]> = [];
  await walk(plan.dir, ctx, async (p, st) => {
    if (diffAttrs(st, entryAttrs(st, plan.attrs)).length > 0) drifted.push([p, st]);
  });
  return drifted;
}

function isManaged(entry: string, managed: ReadonlySet<string>): boolean {
  for (const m of managed) if (m === entry || m.startsWith(`${entry}/`)) return true;
  return false;
}

async function purgeCandidates(plan: DirectoryPlan, managed: ReadonlySet<string>): Promise<string[]> {
  const names = (await fsp.readdir(plan.dir)).sort();
  return names.map((n) => path.join(plan.dir, n)).filter((p) => !isManaged(p, managed));
}

/** Snapshots every regular file at or below `p`, then removes it. */
async function removeTree(p: string, ctx: ExecutorContext): Promise<void> {
  const st = await fsp.lstat(p);
  if (st.isFile()) await ctx.snapshotFile(p);
  if (st.isDirectory()) {
    await walk(p, ctx, async (child, cst) => {
      if (cst.isFile()) await ctx.snapshotFile(child);
    });
  }
  await fsp.rm(p, { recursive: true, force: true });
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Names for a message, at most ten of them: a purge may remove thousands. */
function listNames(paths: readonly string[]): string {
  const names = paths.slice(0, 10).map((p) => path.basename(p));
  return paths.length > 10 ? `${names.join(', ')} and ${paths.length - 10} more` : names.join(', ');
}

function isUnder(p: string, roots: readonly string[]): boolean {
  return roots.some((r) => p === r || p.startsWith(`${r}/`));
}

async function ensureDirectory(
  plan: DirectoryPlan,
  ctx: ExecutorContext,
  managed: ReadonlySet<string>,
): Promise<ExecutorResult> {
  const st = await fsp.stat(plan.dir).catch(() => null);
  if (st && !st.isDirectory()) {
    fail(`${plan.dir} exists but is not a directory; remove it or choose another path`);
  }
  const newMode = plan.attrs.mode ?? 0o755;
  const changes: string[] = st ? diffAttrs(st, plan.attrs) : [`mode ${formatMode(newMode)}`];
  const purge = st && plan.purge ? await purgeCandidates(plan, managed) : [];
  if (purge.length > 0) changes.push(`purge ${listNames(purge)}`);
  const drifted = st && plan.recurse ? await recursiveDrift(plan, ctx) : [];
  const below = drifted.filter(([p]) => !isUnder(p, purge));
  if (below.length > 0) changes.push(`attributes of ${plural(below.length, 'entry', 'entries')} below`);
  if (st && changes.length === 0) return result('none', `${plan.dir} is up to date`);
  const outcome = st ? 'updated' : 'created';
  const what = `${plan.dir}: ${changes.join(', ')}`;
  if (ctx.dryRun) return result(outcome, `would ${st ? 'update' : 'create'} ${what}`);
  if (!st) {
    await fsp.mkdir(plan.dir, { recursive: true, mode: 0o755 });
    // mkdir's mode is filtered by the umask; chmod sets exactly what was asked for.
    await fsp.chmod(plan.dir, newMode);
  }
  await applyAttrs(plan.dir, await fsp.stat(plan.dir), plan.attrs);
  for (const p of purge) await removeTree(p, ctx);
  for (const [p, est] of below) await applyAttrs(p, est, entryAttrs(est, plan.attrs));
  const left = await verifyDirectory(plan, ctx, managed);
  if (left.length > 0) {
    return result('failed', `after applying, ${plan.dir} still differs: ${left.join(', ')}`);
  }
  return result(outcome, `${outcome} ${what}`);
}

async function verifyDirectory(
  plan: DirectoryPlan,
  ctx: ExecutorContext,
  managed: ReadonlySet<string>,
): Promise<string[]> {
  const st = await fsp.stat(plan.dir).catch(() => null);
  if (!st?.isDirectory()) return ['directory is missing'];
  const left = diffAttrs(st, plan.attrs);
  if (plan.recurse && (await recursiveDrift(plan, ctx)).length > 0) left.push('entries below still drift');
  if (plan.purge && (await purgeCandidates(plan, managed)).length > 0) left.push('unmanaged entries remain');
  return left;
}

async function removeDirectory(dir: string, ctx: ExecutorContext): Promise<ExecutorResult> {
  if (dir === '/') fail('refusing to remove /');
  const st = await lstatIfExists(dir);
  if (!st) return result('none', `${dir} is already absent`);
  if (!st.isDirectory()) fail(`${dir} is not a directory; manage it with a file or symlink resource`);
  if (ctx.dryRun) return result('deleted', `would delete ${dir} and everything in it`);
  await removeTree(dir, ctx);
  if (await lstatIfExists(dir)) return result('failed', `${dir} still exists after deleting it`);
  return result('deleted', `deleted ${dir}`);
}

export function createDirectoryExecutor(options: DirectoryExecutorOptions = {}): Executor {
  return {
    type: 'directory',
    apply: (params, ctx) =>
      guardApply(async () => {
        const dir = targetPath(params);
        const recurse = optionalBool(params, 'recurse', false);
        const purge = optionalBool(params, 'purge', false);
        const attrs = await resolveAttrs(params, ctx.run);
        if (stateParam(params) === 'absent') return removeDirectory(dir, ctx);
        const managed = new Set([...(options.managedPaths?.() ?? [])].map((p) => path.resolve(p)));
        return ensureDirectory({ dir, attrs, recurse, purge }, ctx, managed);
      }),
  };
}

export const directoryExecutor: Executor = createDirectoryExecutor();
