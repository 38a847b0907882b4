/**
 * `git`: a checkout of `repo` at `target_path` sits at `revision` (a branch, a tag or a full commit id;
 * the remote's default branch when absent).
 *
 * Each apply asks the remote what the revision points at (`git ls-remote`: one round trip, no
 * download), compares it with HEAD and with the work tree's tracked files, and only then fetches and
 * checks out. A branch is checked out as a local branch of that name; a tag or a commit detached.
 * Local changes to tracked files fail the resource unless `force: true` discards them; untracked
 * files are never touched. An `origin` that points elsewhere fails too (force re-points it).
 *
 * Credentials in an http(s) URL (https://user:token@host/…) are removed from the URL before it reaches
 * argv or .git/config and handed to git as an Authorization header through GIT_CONFIG_* environment
 * variables; messages show the URL without them.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { lookupUser } from './exec.ts';
import {
  fail,
  guardApply,
  optionalBool,
  optionalString,
  requiredString,
  result,
  targetPath,
} from './fs-util.ts';
import type { CommandOptions, Executor, ExecutorContext, ExecutorResult } from './types.ts';
import { commandFailure, optionalInt, redactUrl, timeoutMsParam, toolEnv } from './xplat-util.ts';

interface GitTarget {
  readonly dir: string;
  /** The URL as stored and passed on argv: without credentials. */
  readonly url: string;
  readonly shown: string;
  readonly revision: string;
  readonly depth: number | undefined;
  readonly force: boolean;
  readonly options: CommandOptions;
}

/** Splits user:password out of an http(s) URL; other URLs (ssh, paths) pass unchanged. */
function splitCredentials(repo: string): { url: string; header?: string } {
  if (!/^https?:\/\//i.test(repo)) return { url: repo };
  let u: URL;
  try {
    u = new URL(repo);
  } catch {
    fail(`repo is not a valid URL: ${redactUrl(repo)}`);
  }
  if (u.username === '' && u.password === '') return { url: repo };
  const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString(
    'base64',
  );
  u.username = '';
  u.password = '';
  return { url: u.toString(), header: `Authorization: Basic ${basic}` };
}

function gitEnv(dir: string, header: string | undefined): Record<string, string> {
  const config: [string, string][] = [['safe.directory', dir]];
  if (header !== undefined) config.push(['http.extraHeader', header]);
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_COUNT: String(config.length) };
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return toolEnv(env);
}

async function git(ctx: ExecutorContext, t: GitTarget, args: string[], cwd?: string) {
  const r = await ctx.run('git', args, { ...t.options, cwd: cwd ?? t.dir });
  if (r.exitCode !== 0) fail(commandFailure(`git ${t.dir}`, 'git', args, r));
  return r.stdout.trim();
}

async function tryGit(ctx: ExecutorContext, t: GitTarget, args: string[]): Promise<string | undefined> {
  const r = await ctx.run('git', args, { ...t.options, cwd: t.dir });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

interface Wanted {
  readonly commit: string;
  /** The remote ref to fetch (refs/heads/x, refs/tags/x) or the commit itself. */
  readonly fetchRef: string;
  /** Set for branches: checked out as this local branch. */
  readonly branch?: string;
}

/** What the revision points at on the remote, without downloading anything. */
async function resolveRemote(ctx: ExecutorContext, t: GitTarget, cwd: string): Promise<Wanted> {
  if (/^[0-9a-f]{40}$/.test(t.revision)) return { commit: t.revision, fetchRef: t.revision };
  // Patterns match ref tails: an annotated tag's commit is listed only when "<tag>^{}" is asked for.
  const args = ['ls-remote', '--', t.url, t.revision, `${t.revision}^{}`];
  const r = await ctx.run('git', args, { ...t.options, cwd });
  if (r.exitCode !== 0)
    fail(commandFailure(`git ${t.dir}`, 'git', ['ls-remote', '--', t.shown, t.revision], r));
  const refs = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const [sha, ref] = line.trim().split(/\s+/);
    if (sha !== undefined && ref !== undefined) refs.set(ref, sha);
  }
  if (t.revision === 'HEAD' && refs.has('HEAD')) return { commit: refs.get('HEAD') ?? '', fetchRef: 'HEAD' };
  const head = refs.get(`refs/heads/${t.revision}`);
  if (head !== undefined) return { commit: head, fetchRef: `refs/heads/${t.revision}`, branch: t.revision };
  const tag = refs.get(`refs/tags/${t.revision}^{}`) ?? refs.get(`refs/tags/${t.revision}`);
  if (tag !== undefined) return { commit: tag, fetchRef: `refs/tags/${t.revision}` };
  fail(`git ${t.dir}: ${t.shown} has no branch or tag "${t.revision}"`);
}

async function checkout(ctx: ExecutorContext, t: GitTarget, want: Wanted): Promise<void> {
  const have = await tryGit(ctx, t, ['cat-file', '-e', `${want.commit}^{commit}`]);
  if (have === undefined) {
    const depth = t.depth !== undefined ? [`--depth=${t.depth}`] : [];
    await git(ctx, t, ['fetch', '--no-tags', ...depth, 'origin', want.fetchRef]);
  }
  const force = t.force ? ['--force'] : [];
  if (want.branch !== undefined) await git(ctx, t, ['checkout', ...force, '-B', want.branch, want.commit]);
  else await git(ctx, t, ['checkout', ...force, '--detach', want.commit]);
  const now = await git(ctx, t, ['rev-parse', 'HEAD']);
  if (now !== want.commit) fail(`git ${t.dir}: after checkout HEAD is ${now}, not ${want.commit}`);
}

async function isEmptyDir(dir: string): Promise<boolean | undefined> {
  const st = await fsp.stat(dir).catch(() => null);
  if (st === null) return undefined;
  if (!st.isDirectory()) fail(`git ${dir}: exists and is not a directory`);
  return (await fsp.readdir(dir)).length === 0;
}

async function cloneFresh(ctx: ExecutorContext, t: GitTarget, existsEmpty: boolean): Promise<ExecutorResult> {
  const want = await resolveRemote(ctx, t, existsEmpty ? t.dir : '/');
  const short = want.commit.slice(0, 12);
  if (ctx.dryRun)
    return result('created', `would clone ${t.shown} into ${t.dir} at ${t.revision} (${short})`);
  if (!existsEmpty) await fsp.mkdir(t.dir, { recursive: true, mode: 0o755 });
  try {
    if (t.options.uid !== undefined) await fsp.chown(t.dir, t.options.uid, t.options.gid ?? -1);
    await git(ctx, t, ['init', '--quiet']);
    await git(ctx, t, ['remote', 'add', 'origin', t.url]);
    await checkout(ctx, t, want);
  } catch (err) {
    // A half-made clone would look like a checkout with local problems next time: start clean instead.
    if (existsEmpty) await fsp.rm(path.join(t.dir, '.git'), { recursive: true, force: true });
    else await fsp.rm(t.dir, { recursive: true, force: true });
    throw err;
  }
  return result('created', `cloned ${t.shown} into ${t.dir} at ${t.revision} (${short})`);
}

async function update(ctx: ExecutorContext, t: GitTarget): Promise<ExecutorResult> {
  const origin = await tryGit(ctx, t, ['config', '--get', 'remote.origin.url']);
  const notes: string[] = [];
  if (origin !== t.url) {
    const was = origin === undefined ? 'no origin' : `origin ${redactUrl(origin)}`;
    if (!t.force) fail(`git ${t.dir}: has ${was}, not ${t.shown} (force: true re-points it)`);
    notes.push(`${was} -> ${t.shown}`);
  }
  const want = await resolveRemote(ctx, t, t.dir);
  const head = await tryGit(ctx, t, ['rev-parse', '--verify', '-q', 'HEAD']);
  const dirty = (await git(ctx, t, ['status', '--porcelain', '--untracked-files=no'])) !== '';
  if (origin === t.url && head === want.commit && !dirty) {
    return result('none', `${t.dir} is at ${t.revision} (${want.commit.slice(0, 12)})`);
  }
  if (dirty && !t.force) fail(`git ${t.dir}: tracked files have local changes (force: true discards them)`);
  if (dirty) notes.push('discarded local changes');
  if (head !== want.commit) notes.push(`${head?.slice(0, 12) ?? 'no commit'} -> ${want.commit.slice(0, 12)}`);
  const what = `${t.dir} to ${t.revision}: ${notes.join(', ')}`;
  if (ctx.dryRun) return result('updated', `would update ${what}`);
  if (origin === undefined) await git(ctx, t, ['remote', 'add', 'origin', t.url]);
  else if (origin !== t.url) await git(ctx, t, ['remote', 'set-url', 'origin', t.url]);
  await checkout(ctx, t, want);
  return result('updated', `updated ${what}`);
}

export const gitExecutor: Executor = {
  type: 'git',
  apply: (params, ctx) =>
    guardApply(async () => {
      const dir = targetPath(params);
      const repo = requiredString(params, 'repo');
      if (repo.startsWith('-') || repo.includes('\n')) fail('repo must be a URL or a path');
      const revision = optionalString(params, 'revision') ?? 'HEAD';
      if (!/^[A-Za-z0-9][A-Za-z0-9._/+-]*$/.test(revision) || revision.includes('..')) {
        fail(`revision "${revision}" is not a branch, tag or commit id`);
      }
      const { url, header } = splitCredentials(repo);
      const user = optionalString(params, 'user');
      const acct = user === undefined || user === '' ? undefined : await lookupUser(ctx.run, user);
      if (user !== undefined && user !== '' && acct === undefined) fail(`unknown user "${user}"`);
      const t: GitTarget = {
        dir,
        url,
        shown: redactUrl(repo),
        revision,
        depth: optionalInt(params, 'depth', 1, 1_000_000),
        force: optionalBool(params, 'force', false),
        options: {
          env: gitEnv(dir, header),
          timeoutMs: timeoutMsParam(params),
          ...(acct ? { uid: acct.uid, gid: acct.gid } : {}),
        },
      };
      const empty = await isEmptyDir(dir);
      if (
        empty !== undefined &&
        !empty &&
        (await fsp.stat(path.join(dir, '.git')).catch(() => null)) === null
      ) {
        fail(`git ${dir}: exists, is not empty and is not a git checkout`);
      }
      return empty === undefined || empty ? cloneFresh(ctx, t, empty === true) : update(ctx, t);
    }),
};
