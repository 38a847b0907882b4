/**
 * `symlink`: a symbolic link at target_path pointing to link_to (taken literally, so a relative
 * link_to stays relative to the link's directory), owned by owner/group (lchown), or its absence.
 *
 * A link pointing elsewhere is re-pointed without force, like `ln -sfn`. A regular file or a
 * directory in the way is replaced only with force: true (its regular files are snapshotted first).
 * link_to need not exist yet: links are often made before what they point to is installed.
 * state: absent removes only a symlink; a real file or directory there is reported, never deleted.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import {
  applyAttrs,
  checkAborted,
  diffAttrs,
  fail,
  guardApply,
  lstatIfExists,
  optionalBool,
  optionalString,
  requireParentDir,
  resolveAttrs,
  result,
  stateParam,
  targetPath,
  type DesiredAttrs,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';

function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  return 'a special file';
}

async function snapshotTree(p: string, st: Stats, ctx: ExecutorContext): Promise<void> {
  checkAborted(ctx);
  if (st.isFile()) await ctx.snapshotFile(p);
  if (!st.isDirectory()) return;
  for (const name of await fsp.readdir(p)) {
    const child = path.join(p, name);
    await snapshotTree(child, await fsp.lstat(child), ctx);
  }
}

/** A new link is made beside the old path and renamed over it, so the path is never missing. */
async function placeLink(link: string, linkTo: string): Promise<void> {
  const temp = path.join(
    path.dirname(link),
    `.${path.basename(link)}.vigo-${randomBytes(6).toString('hex')}`,
  );
  await fsp.symlink(linkTo, temp);
  try {
    await fsp.rename(temp, link);
  } catch (err) {
    await fsp.rm(temp, { force: true });
    throw err;
  }
}

async function ensureLink(
  link: string,
  linkTo: string,
  attrs: DesiredAttrs,
  force: boolean,
  ctx: ExecutorContext,
): Promise<ExecutorResult> {
  const st = await lstatIfExists(link);
  if (!st) await requireParentDir(link, ctx);
  const isLink = st?.isSymbolicLink() ?? false;
  const current = isLink ? await fsp.readlink(link) : undefined;
  if (st && !isLink && !force) {
    fail(`${link} is ${kindOf(st)}, not a symlink; set force: true to replace it with a link to ${linkTo}`);
  }
  const repoint = !st || current !== linkTo;
  const attrChanges = st && !repoint ? diffAttrs(st, attrs) : [];
  if (!repoint && attrChanges.length === 0) return result('none', `${link} -> ${linkTo} is up to date`);
  const outcome = st ? 'updated' : 'created';
  const change = !st
    ? `-> ${linkTo}`
    : isLink
      ? `-> ${current ?? ''} becomes -> ${linkTo}`
      : `replaces ${kindOf(st)} with -> ${linkTo}`;
  const what = `${link} ${[repoint ? change : '', ...attrChanges].filter(Boolean).join(', ')}`;
  if (ctx.dryRun) return result(outcome, `would ${st ? 'update' : 'create'} ${what}`);
  if (st && !isLink) {
    await snapshotTree(link, st, ctx);
    await fsp.rm(link, { recursive: true, force: true });
  }
  if (repoint) await placeLink(link, linkTo);
  await applyAttrs(link, await fsp.lstat(link), attrs);
  const now = await fsp.lstat(link);
  const target = now.isSymbolicLink() ? await fsp.readlink(link) : undefined;
  const left = [...(target === linkTo ? [] : [`points to ${target ?? 'nothing'}`]), ...diffAttrs(now, attrs)];
  if (left.length > 0) return result('failed', `after applying, ${link} still differs: ${left.join(', ')}`);
  return result(outcome, `${outcome} ${what}`);
}

async function removeLink(link: string, ctx: ExecutorContext): Promise<ExecutorResult> {
  const st = await lstatIfExists(link);
  if (!st) return result('none', `${link} is already absent`);
  if (!st.isSymbolicLink()) fail(`${link} is ${kindOf(st)}, not a symlink; refusing to delete it`);
  if (ctx.dryRun) return result('deleted', `would delete symlink ${link}`);
  await fsp.unlink(link);
  if (await lstatIfExists(link)) return result('failed', `${link} still exists after deleting it`);
  return result('deleted', `deleted symlink ${link}`);
}

export const symlinkExecutor: Executor = {
  type: 'symlink',
  apply: (params, ctx) =>
    guardApply(async () => {
      const link = targetPath(params);
      const force = optionalBool(params, 'force', false);
      const attrs = await resolveAttrs(params, ctx.run, false);
      if (stateParam(params) === 'absent') return removeLink(link, ctx);
      const linkTo = optionalString(params, 'link_to');
      if (linkTo === undefined || linkTo === '') fail('link_to is required when state is present');
      if (linkTo.includes('\0')) fail('link_to contains a NUL byte');
      return ensureLink(link, linkTo, attrs, force, ctx);
    }),
};
