/**
 * The files a `user` resource manages besides the account: ~/.ssh/authorized_keys (exactly the listed keys,
 * 0600 in a 0700 ~/.ssh, owned by the user) and the sudoers drop-in `vigo-<user>` (0440, root, checked
 * with `visudo -cf` when visudo is installed). Every write is atomic and never follows a symlink the user
 * could have planted in their own home.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { findExecutable, tailLines, type PasswdEntry } from './exec.ts';
import type { ExecutorContext } from './types.ts';

/** The part of a user resource these files depend on. */
export interface UserFileSpec {
  readonly name: string;
  readonly authorizedKeys?: readonly string[];
  readonly sudoNopasswd?: boolean;
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

interface ManagedFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** What differs between `f` and the file on disk (undefined = nothing); refuses symlinks, which a user could plant. */
async function fileDrift(f: ManagedFile): Promise<string | undefined> {
  const st = await lstatOrUndefined(f.path);
  if (!st) return `create ${f.path}`;
  if (!st.isFile())
    throw new Error(`${f.path} is not a regular file (a symlink?); refusing to write through it`);
  const diffs: string[] = [];
  if ((await readFile(f.path, 'utf8')) !== f.content) diffs.push('content');
  if ((st.mode & 0o7777) !== f.mode)
    diffs.push(`mode ${(st.mode & 0o7777).toString(8)} -> ${f.mode.toString(8)}`);
  if (st.uid !== f.uid || st.gid !== f.gid) diffs.push(`owner ${st.uid}:${st.gid} -> ${f.uid}:${f.gid}`);
  return diffs.length > 0 ? `${f.path}: ${diffs.join(', ')}` : undefined;
}

/**
 * Atomic replace: temp file in the same directory (dot-prefixed with a dot inside, so sudo ignores it),
 * owner and mode set on the open handle (a path-based chown could follow a symlink swapped in by the user
 * who owns the directory), fsync, optional validation, rename.
 */
async function writeManagedFile(
  ctx: ExecutorContext,
  f: ManagedFile,
  validate?: (tmpPath: string) => Promise<string | undefined>,
): Promise<void> {
  const tmp = join(dirname(f.path), `.${basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(f.content);
      await fh.chown(f.uid, f.gid);
      await fh.chmod(f.mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const problem = validate ? await validate(tmp) : undefined;
    if (problem) throw new Error(problem);
    if (await lstatOrUndefined(f.path)) await ctx.snapshotFile(f.path);
    await rename(tmp, f.path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function ensureSshDir(home: string, uid: number, gid: number): Promise<void> {
  const homeSt = await lstatOrUndefined(home);
  if (!homeSt?.isDirectory()) {
    throw new Error(`home ${home} does not exist; set manage_home: true or create it before authorized_keys`);
  }
  const dir = join(home, '.ssh');
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  // O_NOFOLLOW: a symlinked ~/.ssh must not make root chown whatever it points to.
  const fh = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW).catch(
    (err: unknown) => {
      throw new Error(`${dir} is not a plain directory (${String(err)}); refusing to manage authorized_keys`);
    },
  );
  try {
    const st = await fh.stat();
    if (st.uid !== uid || st.gid !== gid) await fh.chown(uid, gid);
    if ((st.mode & 0o7777) !== 0o700) await fh.chmod(0o700);
  } finally {
    await fh.close();
  }
}

function keysFile(u: UserFileSpec, acct: PasswdEntry): ManagedFile | undefined {
  if (u.authorizedKeys === undefined) return undefined;
  const content = u.authorizedKeys.map((k) => `${k.trim()}\n`).join('');
  const path = join(acct.home, '.ssh', 'authorized_keys');
  return { path, content, mode: 0o600, uid: acct.uid, gid: acct.gid };
}

export function sudoersFile(dir: string, name: string): ManagedFile {
  // sudo skips drop-ins whose name contains a dot, so dots in the user name become underscores.
  const path = join(dir, `vigo-${name.replace(/\./g, '_')}`);
  const content = `# Managed by vigo: edits are overwritten.\n${name} ALL=(ALL:ALL) NOPASSWD: ALL\n`;
  return { path, content, mode: 0o440, uid: 0, gid: 0 };
}

export async function userFileChanges(
  u: UserFileSpec,
  acct: PasswdEntry,
  sudoersDir: string,
): Promise<string[]> {
  const out: string[] = [];
  const keys = keysFile(u, acct);
  if (keys) {
    const sshSt = await lstatOrUndefined(dirname(keys.path));
    const drift = sshSt?.isDirectory() ? await fileDrift(keys) : `create ${keys.path}`;
    if (drift) out.push(drift);
  }
  if (u.sudoNopasswd === true) {
    const drift = await fileDrift(sudoersFile(sudoersDir, u.name));
    if (drift) out.push(drift);
  } else if (u.sudoNopasswd === false) {
    const f = sudoersFile(sudoersDir, u.name);
    if (await lstatOrUndefined(f.path)) out.push(`remove ${f.path}`);
  }
  return out;
}

export async function applyUserFiles(
  ctx: ExecutorContext,
  u: UserFileSpec,
  acct: PasswdEntry,
  sudoersDir: string,
): Promise<void> {
  const keys = keysFile(u, acct);
  if (keys) {
    await ensureSshDir(acct.home, acct.uid, acct.gid);
    if (await fileDrift(keys)) await writeManagedFile(ctx, keys);
  }
  if (u.sudoNopasswd !== undefined) await applySudoers(ctx, u.name, u.sudoNopasswd, sudoersDir);
}

export async function applySudoers(
  ctx: ExecutorContext,
  name: string,
  want: boolean,
  dir: string,
): Promise<void> {
  const f = sudoersFile(dir, name);
  if (!want) {
    if (await lstatOrUndefined(f.path)) {
      await ctx.snapshotFile(f.path);
      await rm(f.path, { force: true });
    }
    return;
  }
  if (!(await fileDrift(f))) return;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const visudo = findExecutable('visudo');
  await writeManagedFile(ctx, f, async (tmp) => {
    if (!visudo) return undefined;
    const r = await ctx.run(visudo, ['-cf', tmp]);
    return r.exitCode === 0 ? undefined : `visudo rejected ${f.path}: ${tailLines(r.stderr || r.stdout, 3)}`;
  });
  // sudo refuses drop-ins with other modes; the umask never applies to an open handle's chmod, but be sure.
  await chmod(f.path, 0o440);
}
