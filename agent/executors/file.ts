/**
 * `file`: a regular file with exact bytes (content or source) and owner/group/mode, or its absence.
 *
 * backup: true keeps one previous version beside the file as `<path>.vigo-bak` (same owner and mode
 * as the original), written before an overwrite or a delete. Snapshots through ctx.snapshotFile
 * happen either way; the .vigo-bak file is for operators who want the last version on the node
 * itself, next to the file.
 *
 * Without content or source the file's bytes are not managed: a missing file is created empty and
 * an existing one keeps its content (only owner/group/mode are enforced).
 *
 * A symlink at target_path is followed for writes (the link stays and the file it points to is
 * managed); state: absent removes the link itself, never what it points to.
 */
import { promises as fsp, type Stats } from 'node:fs';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import {
  ExecutorFailure,
  applyAttrs,
  diffAttrs,
  fail,
  formatMode,
  guardApply,
  lstatIfExists,
  optionalBool,
  optionalString,
  requireParentDir,
  resolveAttrs,
  resolveFileTarget,
  result,
  stateParam,
  targetPath,
  verifyFile,
  writeAttrs,
  writeFileAtomic,
  type DesiredAttrs,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';

export interface FileExecutorOptions {
  /** CA certificates for https sources; replaces the system list (for a private PKI, and tests). */
  readonly ca?: string | Buffer;
  /** Whole-download limit for an https source. */
  readonly fetchTimeoutMs?: number;
  /** Largest source accepted; the agent holds the content in memory. */
  readonly maxSourceBytes?: number;
}

const defaultFetchTimeoutMs = 30_000;
const defaultMaxSourceBytes = 16 * 1024 * 1024;
const maxRedirects = 5;

interface FetchSettings {
  readonly ca: string | Buffer | undefined;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal: AbortSignal;
}

/** The URL without query or credentials, which may carry tokens. */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function fetchHttps(url: URL, settings: FetchSettings, redirectsLeft: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const failWith = (message: string): void => reject(new ExecutorFailure(message));
    const req = https.get(url, { ca: settings.ca, signal: settings.signal, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        res.resume();
        clearTimeout(timer);
        const next = new URL(location, url);
        if (redirectsLeft === 0) return failWith(`too many redirects downloading ${displayUrl(url)}`);
        if (next.protocol !== 'https:') {
          return failWith(`${displayUrl(url)} redirects to non-https ${displayUrl(next)}`);
        }
        fetchHttps(next, settings, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        clearTimeout(timer);
        return failWith(`downloading ${displayUrl(url)} failed: HTTP ${status}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > settings.maxBytes) {
          req.destroy(new Error(`larger than ${settings.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
      res.on('error', (err) => failWith(`downloading ${displayUrl(url)} failed: ${err.message}`));
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${settings.timeoutMs} ms`)),
      settings.timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      failWith(`downloading ${displayUrl(url)} failed: ${err.message}`);
    });
  });
}

async function readLocalSource(file: string, maxBytes: number): Promise<Buffer> {
  const st = await fsp.stat(file).catch(() => null);
  if (!st?.isFile()) fail(`source ${file} does not exist or is not a regular file`);
  if (st.size > maxBytes) fail(`source ${file} is larger than ${maxBytes} bytes`);
  return fsp.readFile(file);
}

async function loadSource(source: string, settings: FetchSettings): Promise<Buffer> {
  if (source.startsWith('/')) return readLocalSource(source, settings.maxBytes);
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    fail(`source must be an absolute path, a file:// URL or an https:// URL, got "${source}"`);
  }
  if (url.protocol === 'file:') return readLocalSource(fileURLToPath(url), settings.maxBytes);
  if (url.protocol === 'http:') {
    fail(`source ${displayUrl(url)}: plain http is refused (content could be altered in transit); use https`);
  }
  if (url.protocol !== 'https:') {
    fail(`source scheme ${url.protocol} is not supported; use https:// or a path`);
  }
  return fetchHttps(url, settings, maxRedirects);
}

async function desiredContent(
  params: Readonly<Record<string, unknown>>,
  settings: FetchSettings,
): Promise<Buffer | null> {
  const content = optionalString(params, 'content');
  const source = optionalString(params, 'source');
  if (content !== undefined && source !== undefined) fail('set content or source, not both');
  if (content !== undefined) return Buffer.from(content, 'utf8');
  if (source !== undefined) return loadSource(source, settings);
  return null;
}

async function keepBackup(file: string, st: Stats): Promise<void> {
  await writeFileAtomic(`${file}.vigo-bak`, await fsp.readFile(file), writeAttrs(st, {}));
}

async function removeFile(file: string, backup: boolean, ctx: ExecutorContext): Promise<ExecutorResult> {
  const st = await lstatIfExists(file);
  if (!st) return result('none', `${file} is already absent`);
  if (st.isDirectory()) fail(`${file} is a directory; manage it with a directory resource`);
  if (ctx.dryRun) return result('deleted', `would delete ${file}`);
  if (st.isFile()) {
    await ctx.snapshotFile(file);
    if (backup) await keepBackup(file, st);
  }
  await fsp.unlink(file);
  if (await lstatIfExists(file)) return result('failed', `${file} still exists after deleting it`);
  return result('deleted', `deleted ${file}`);
}

async function contentDiffers(file: string, st: Stats, desired: Buffer | null): Promise<boolean> {
  if (desired === null) return false;
  if (st.size !== desired.length) return true;
  return !(await fsp.readFile(file)).equals(desired);
}

async function ensureFile(
  path: string,
  desired: Buffer | null,
  attrs: DesiredAttrs,
  backup: boolean,
  ctx: ExecutorContext,
): Promise<ExecutorResult> {
  const file = await resolveFileTarget(path);
  const st = await lstatIfExists(file);
  if (st && !st.isFile()) fail(`${file} exists but is not a regular file; remove it or choose another path`);
  if (!st) await requireParentDir(file, ctx);
  const changed = st ? await contentDiffers(file, st, desired) : true;
  const attrChanges = st ? diffAttrs(st, attrs) : [];
  if (st && !changed && attrChanges.length === 0) return result('none', `${file} is up to date`);
  const wanted = writeAttrs(st, attrs);
  const details = st
    ? [changed ? `content (${st.size} -> ${desired?.length ?? 0} bytes)` : '', ...attrChanges].filter(Boolean)
    : [`${desired?.length ?? 0} bytes, mode ${formatMode(wanted.mode)}`];
  const outcome = st ? 'updated' : 'created';
  const what = `${file}: ${details.join(', ')}`;
  if (ctx.dryRun) return result(outcome, `would ${st ? 'update' : 'create'} ${what}`);
  if (st) await ctx.snapshotFile(file);
  if (st && changed && backup) await keepBackup(file, st);
  const data = desired ?? (st ? null : Buffer.alloc(0));
  if (data !== null && (changed || !st)) await writeFileAtomic(file, data, wanted);
  else if (st) await applyAttrs(file, st, attrs);
  const diffs = await verifyFile(file, data, attrs);
  if (diffs.length > 0) {
    return result('failed', `after writing ${file} it still differs: ${diffs.join(', ')}`);
  }
  return result(outcome, `${outcome} ${what}`);
}

export function createFileExecutor(options: FileExecutorOptions = {}): Executor {
  return {
    type: 'file',
    apply: (params, ctx) =>
      guardApply(async () => {
        const file = targetPath(params);
        const backup = optionalBool(params, 'backup', false);
        const attrs = await resolveAttrs(params, ctx.run);
        if (stateParam(params) === 'absent') return removeFile(file, backup, ctx);
        const desired = await desiredContent(params, {
          ca: options.ca,
          timeoutMs: options.fetchTimeoutMs ?? defaultFetchTimeoutMs,
          maxBytes: options.maxSourceBytes ?? defaultMaxSourceBytes,
          signal: ctx.signal,
        });
        return ensureFile(file, desired, attrs, backup, ctx);
      }),
  };
}

export const fileExecutor: Executor = createFileExecutor();
