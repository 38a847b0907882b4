/**
 * Helpers the file-family executors share: parameter reading, owner/group/mode resolution, atomic
 * writes and the read → edit → write → verify flow of the executors that edit one text file.
 *
 * Executors signal bad input by throwing ExecutorFailure inside guardApply, which turns every throw
 * (including unexpected I/O errors) into a 'failed' result, because the engine treats a throw out of
 * apply() as a bug.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import type { CommandRunner, ExecutorContext, ExecutorOutcome, ExecutorResult } from './types.ts';

export class ExecutorFailure extends Error {}

export function fail(message: string): never {
  throw new ExecutorFailure(message);
}

export function result(outcome: ExecutorOutcome, message: string): ExecutorResult {
  return { outcome, message };
}

/** Runs an executor body so that nothing escapes apply(): every error becomes a 'failed' result. */
export async function guardApply(body: () => Promise<ExecutorResult>): Promise<ExecutorResult> {
  try {
    return await body();
  } catch (err) {
    // Unexpected errors (EACCES, EROFS, ENOSPC…) carry the path and the reason in their message.
    return result('failed', err instanceof Error ? err.message : String(err));
  }
}

export function checkAborted(ctx: ExecutorContext): void {
  if (ctx.signal.aborted) fail('stopped: the agent is shutting down');
}

// ---- parameters ----------------------------------------------------------------------------------

type Params = Readonly<Record<string, unknown>>;

export function optionalString(params: Params, key: string): string | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`${key} must be a string, got ${typeof v}`);
  return v;
}

export function requiredString(params: Params, key: string): string {
  const v = optionalString(params, key);
  if (v === undefined || v === '') fail(`${key} is required`);
  return v;
}

/** Strings, numbers and booleans as text (ini values, sysctl values, cron fields). */
export function optionalScalar(params: Params, key: string): string | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  fail(`${key} must be a string or a number, got ${typeof v}`);
}

export function optionalBool(params: Params, key: string, fallback: boolean): boolean {
  const v = params[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') fail(`${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function stateParam(params: Params): 'present' | 'absent' {
  const v = params.state ?? 'present';
  if (v !== 'present' && v !== 'absent') fail(`state must be present or absent, got ${JSON.stringify(v)}`);
  return v;
}

/** target_path (bundles always carry it; `path` is accepted too), absolute and normalized. */
export function targetPath(params: Params): string {
  const raw = optionalString(params, 'target_path') ?? optionalString(params, 'path');
  if (raw === undefined || raw === '') fail('target_path is required, e.g. target_path: /etc/motd');
  if (raw.includes('\0')) fail('target_path contains a NUL byte');
  if (!path.isAbsolute(raw)) fail(`target_path must be absolute, got "${raw}" (write e.g. /etc/${raw})`);
  return path.resolve(raw);
}

export function compileRegex(source: string, field: string, flags = ''): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    fail(`${field} is not a valid regular expression: ${(err as Error).message}`);
  }
}

// ---- owner, group, mode --------------------------------------------------------------------------

export interface DesiredAttrs {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

export function parseMode(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^0?[0-7]{3,4}$/.test(value)) {
    fail(`mode must be an octal string such as "0644", got ${JSON.stringify(value)}`);
  }
  return parseInt(value, 8);
}

export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

async function lookupDatabase(
  file: string,
  database: 'passwd' | 'group',
  name: string,
  run: CommandRunner,
): Promise<number | undefined> {
  // Both files keep the numeric id in the third field: name:x:uid:… and name:x:gid:…
  const text = (await readIfExists(file))?.toString('utf8') ?? '';
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && /^\d+$/.test(fields[2] ?? '')) return Number(fields[2]);
  }
  // Names from NSS (LDAP, sssd) are not in the files; getent asks the same resolver libc uses.
  const r = await run('getent', [database, name], { timeoutMs: 10_000 });
  const id = r.exitCode === 0 ? r.stdout.split(':')[2] : undefined;
  return id !== undefined && /^\d+$/.test(id) ? Number(id) : undefined;
}

async function resolveId(
  value: unknown,
  kind: 'user' | 'group',
  field: string,
  run: CommandRunner,
): Promise<number | undefined> {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
    fail(`${field} must be a name or a non-negative id, got ${value}`);
  }
  if (typeof value !== 'string') fail(`${field} must be a name or a numeric id, got ${typeof value}`);
  if (/^\d+$/.test(value)) return Number(value);
  // A leading "-" would reach getent as an option.
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(value)) {
    fail(`${field} "${value}" is not a valid ${kind} name`);
  }
  const id =
    kind === 'user'
      ? await lookupDatabase('/etc/passwd', 'passwd', value, run)
      : await lookupDatabase('/etc/group', 'group', value, run);
  if (id === undefined) {
    fail(`unknown ${kind} "${value}" (${field}); create it first (a ${kind} resource) or use a numeric id`);
  }
  return id;
}

/** A user name or numeric uid to a uid; unknown names fail with a message naming `field`. */
export async function resolveUserId(
  value: unknown,
  run: CommandRunner,
  field = 'owner',
): Promise<number | undefined> {
  return resolveId(value, 'user', field, run);
}

export async function resolveAttrs(
  params: Params,
  run: CommandRunner,
  withMode = true,
): Promise<DesiredAttrs> {
  return {
    uid: await resolveId(params.owner, 'user', 'owner', run),
    gid: await resolveId(params.group, 'group', 'group', run),
    mode: withMode ? parseMode(params.mode) : undefined,
  };
}

/** What differs between a file's attributes and the desired ones, e.g. ["mode 0600 -> 0644"]. */
export function diffAttrs(st: Stats, want: DesiredAttrs): string[] {
  const out: string[] = [];
  if (want.uid !== undefined && st.uid !== want.uid) out.push(`owner uid ${st.uid} -> ${want.uid}`);
  if (want.gid !== undefined && st.gid !== want.gid) out.push(`group gid ${st.gid} -> ${want.gid}`);
  if (want.mode !== undefined && (st.mode & 0o7777) !== want.mode) {
    out.push(`mode ${formatMode(st.mode)} -> ${formatMode(want.mode)}`);
  }
  return out;
}

/** chown before chmod: chown clears setuid/setgid bits, so the mode must come last. */
export async function applyAttrs(file: string, st: Stats, want: DesiredAttrs): Promise<void> {
  const uid = want.uid ?? st.uid;
  const gid = want.gid ?? st.gid;
  if (st.isSymbolicLink()) {
    if (uid !== st.uid || gid !== st.gid) await fsp.lchown(file, uid, gid);
    return;
  }
  if (uid !== st.uid || gid !== st.gid) await fsp.chown(file, uid, gid);
  if (want.mode !== undefined && (st.mode & 0o7777) !== want.mode) await fsp.chmod(file, want.mode);
}

// ---- reading and writing -------------------------------------------------------------------------

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

export async function lstatIfExists(file: string): Promise<Stats | null> {
  try {
    return await fsp.lstat(file);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** Edits go to the file a symlink points to, so the link itself stays in place. */
export async function resolveFileTarget(file: string): Promise<string> {
  const st = await lstatIfExists(file);
  if (!st?.isSymbolicLink()) return file;
  try {
    return await fsp.realpath(file);
  } catch {
    fail(`${file} is a symlink to a missing file (${await fsp.readlink(file)}); fix or remove the link`);
  }
}

export async function requireParentDir(file: string, ctx: ExecutorContext): Promise<void> {
  const dir = path.dirname(file);
  const st = await fsp.stat(dir).catch(() => null);
  if (!st && ctx.dryRun && ctx.wouldCreateDir?.(dir) === true) return;
  if (!st?.isDirectory()) {
    fail(`directory ${dir} does not exist; create it first (a directory resource this one depends_on)`);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WriteAttrs {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/**
 * Writes a temp file beside `file`, fsyncs it, sets owner and mode, and renames it over `file`, so
 * readers see the old or the new content, never a torn one. A bind-mounted file (a container's
 * /etc/hosts) cannot be renamed over (EBUSY); it is then rewritten in place, the only way there is.
 */
export async function writeFileAtomic(file: string, data: Buffer | string, attrs: WriteAttrs): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.vigo-${randomBytes(6).toString('hex')}`);
  const handle = await fsp.open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.chown(attrs.uid, attrs.gid);
      await handle.chmod(attrs.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, file);
  } catch (err) {
    await fsp.rm(temp, { force: true });
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    await fsp.writeFile(file, data);
    await fsp.chown(file, attrs.uid, attrs.gid);
    await fsp.chmod(file, attrs.mode);
    return;
  }
  await fsyncDir(dir);
}

/** Attributes for a write: the desired ones, else the existing file's, else root-ish defaults. */
export function writeAttrs(st: Stats | null, want: DesiredAttrs, defaultMode = 0o644): WriteAttrs {
  return {
    uid: want.uid ?? st?.uid ?? process.getuid?.() ?? 0,
    gid: want.gid ?? st?.gid ?? process.getgid?.() ?? 0,
    mode: want.mode ?? (st ? st.mode & 0o7777 : defaultMode),
  };
}

/** Re-reads a written file; what still differs from the intended bytes and attributes. */
export async function verifyFile(file: string, data: Buffer | null, want: DesiredAttrs): Promise<string[]> {
  const st = await lstatIfExists(file);
  if (!st) return ['file is missing'];
  const diffs = diffAttrs(st, want);
  if (data !== null) {
    const now = await fsp.readFile(file);
    if (!now.equals(data)) diffs.unshift('content differs');
  }
  return diffs;
}

// ---- text edits ----------------------------------------------------------------------------------

/** What one text edit does; null from a transform means the text is already as desired. */
export interface TextEdit {
  readonly text: string;
  /** For the message, e.g. "inserted line 4". Never file content: it may hold secret values. */
  readonly summary: string;
  /** The edit removes the managed thing (state: absent): outcome 'deleted'. */
  readonly removes?: boolean;
}

export interface TextEditSpec {
  readonly file: string;
  readonly create: boolean;
  /** state: absent — a missing file already has nothing to remove. */
  readonly absent: boolean;
  readonly attrs: DesiredAttrs;
  /** Make a missing parent directory (0755) instead of failing: for files the agent itself owns. */
  readonly createParent?: boolean;
  /** For a file that does not exist yet (create: true), `current` is ''. */
  transform(current: string): TextEdit | null;
}

function decodeUtf8(file: string, bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    fail(`${file} is not valid UTF-8 text; refusing to edit it (it would be corrupted)`);
  }
  return text;
}

/** Read → transform → (dry run stops here) → snapshot → atomic write or attribute fix → verify. */
export async function applyTextEdit(ctx: ExecutorContext, spec: TextEditSpec): Promise<ExecutorResult> {
  const file = await resolveFileTarget(spec.file);
  const st = await lstatIfExists(file);
  if (st && !st.isFile()) fail(`${file} exists but is not a regular file`);
  if (!st) {
    if (spec.absent) return result('none', `${file} does not exist; nothing to remove`);
    if (!spec.create) fail(`${file} does not exist (set create: true to create it)`);
    if (!spec.createParent) await requireParentDir(file, ctx);
  }
  const current = st ? decodeUtf8(file, await fsp.readFile(file)) : '';
  const edit = spec.transform(current);
  const attrChanges = st ? diffAttrs(st, spec.attrs) : [];
  if (st && !edit && attrChanges.length === 0) return result('none', `${file} is up to date`);
  const details = [edit?.summary, ...attrChanges].filter((d) => d !== undefined && d !== '').join(', ');
  const outcome: ExecutorOutcome = !st
    ? 'created'
    : edit?.removes && attrChanges.length === 0
      ? 'deleted'
      : 'updated';
  const what = `${file}${details ? `: ${details}` : ''}`;
  if (ctx.dryRun) return result(outcome, `would ${outcome === 'created' ? 'create' : 'update'} ${what}`);
  if (st) await ctx.snapshotFile(file);
  if (!st && spec.createParent) await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const data = Buffer.from(edit ? edit.text : current, 'utf8');
  if (edit || !st) await writeFileAtomic(file, data, writeAttrs(st, spec.attrs));
  else await applyAttrs(file, st, spec.attrs);
  const diffs = await verifyFile(file, data, spec.attrs);
  if (diffs.length > 0) {
    return result('failed', `after writing ${file} it still differs: ${diffs.join(', ')}`);
  }
  return result(outcome, `${outcome === 'created' ? 'created' : 'updated'} ${what}`);
}

// ---- lines ---------------------------------------------------------------------------------------

/** Lines without their terminators; a final newline does not start an extra empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Every edited file ends with a newline, as POSIX text files do. */
export function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Index of the last line `re` matches, or -1. */
export function lastMatch(lines: readonly string[], re: RegExp): number {
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i] ?? '')) return i;
  return -1;
}

/**
 * Where to insert new lines, following Ansible's lineinfile (whose vocabulary these types share):
 * after the last line matching insert_after (the keyword EOF = end), before the last line matching
 * insert_before (BOF = beginning); with no anchor or no matching line, at the end.
 */
export function insertionIndex(lines: readonly string[], params: Params): number {
  const after = optionalString(params, 'insert_after');
  const before = optionalString(params, 'insert_before');
  if (after !== undefined && before !== undefined) fail('set insert_after or insert_before, not both');
  if (before !== undefined) {
    if (before === 'BOF') return 0;
    const i = lastMatch(lines, compileRegex(before, 'insert_before'));
    return i >= 0 ? i : lines.length;
  }
  if (after !== undefined && after !== 'EOF') {
    const i = lastMatch(lines, compileRegex(after, 'insert_after'));
    return i >= 0 ? i + 1 : lines.length;
  }
  return lines.length;
}
