/**
 * Where a publish reads its stacks from: a directory on the server (start-up publish, local tools) or
 * files uploaded over the API, written into a private scratch directory for the validator and removed
 * afterwards. Upload paths are checked before anything touches the disk.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VigoError, ensurePrivateDir, parseJsonBody } from '../core/index.ts';
import type { BodyRules } from '../core/index.ts';

export interface StackFile {
  readonly path: string;
  readonly content: string;
}

/**
 * `upload` is a request body as it arrived (JSON bytes): the validator worker parses it against the rules
 * of `form` and writes its files, so a large upload is never decoded or parsed on the serving thread.
 */
export type StackSource =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 'files'; readonly files: readonly StackFile[] }
  | { readonly kind: 'upload'; readonly body: Buffer; readonly form: UploadForm };

export const uploadLimits = { maxFiles: 50_000, maxPathLength: 1024 } as const;

/** The request bodies that carry a stacks tree: validate takes the files, publish a message and dryRun too. */
export const uploadForms = {
  validate: { files: { type: 'files', maxItems: uploadLimits.maxFiles } },
  publish: {
    files: { type: 'files', maxItems: uploadLimits.maxFiles },
    message: { type: 'string', optional: true, maxLength: 4096 },
    dryRun: { type: 'boolean', optional: true },
  },
} as const satisfies Record<string, BodyRules>;

export type UploadForm = keyof typeof uploadForms;

/** What a publish upload says besides its files. */
export interface UploadRequest {
  message?: string;
  dryRun?: boolean;
}

/** Parses an upload body against its form: `request.invalid` or `publish.upload_invalid`, never half a tree. */
export function parseUpload(
  body: Uint8Array,
  form: UploadForm,
): { files: StackFile[]; request: UploadRequest } {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const parsed: { files: StackFile[]; message?: string; dryRun?: boolean } = parseJsonBody(
    text,
    uploadForms[form],
  );
  checkUpload(parsed.files);
  const request: UploadRequest = {};
  if (parsed.message !== undefined) request.message = parsed.message;
  if (parsed.dryRun !== undefined) request.dryRun = parsed.dryRun;
  return { files: parsed.files, request };
}

/**
 * Writes an upload's files into a fresh private directory under `scratchRoot` (synchronously: the
 * validator worker does this, never the serving thread), runs `use` on it, and removes it whatever happens.
 */
export async function withUploadDir<T>(
  files: readonly StackFile[],
  scratchRoot: string,
  use: (dir: string) => Promise<T>,
): Promise<T> {
  ensurePrivateDir(scratchRoot);
  const dir = path.join(scratchRoot, `upload-${randomUUID()}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    for (const d of new Set(files.map((file) => path.dirname(path.join(dir, file.path)))))
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const file of files) fs.writeFileSync(path.join(dir, file.path), file.content, { mode: 0o600 });
    return await use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function invalid(message: string, file?: string): VigoError {
  return new VigoError('publish.upload_invalid', message, file === undefined ? {} : { file });
}

/** The relative path of one uploaded file, or a clear refusal. */
export function checkUploadPath(raw: string): string {
  if (raw.length === 0 || raw.length > uploadLimits.maxPathLength)
    throw invalid(`file path must be 1 to ${uploadLimits.maxPathLength} characters`, raw.slice(0, 80));
  if (raw.includes('\0') || raw.includes('\\'))
    throw invalid(`file path ${JSON.stringify(raw)} contains a NUL or backslash`, raw);
  if (raw.startsWith('/')) throw invalid(`file path ${JSON.stringify(raw)} must be relative`, raw);
  const parts = raw.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    throw invalid(`file path ${JSON.stringify(raw)} must not contain empty, "." or ".." segments`, raw);
  return raw;
}

/** Checks every upload path, refusing duplicates and a path that is also used as a directory. */
export function checkUpload(files: readonly StackFile[]): void {
  if (files.length === 0) throw invalid('the upload contains no files');
  if (files.length > uploadLimits.maxFiles)
    throw invalid(`the upload has ${files.length} files; at most ${uploadLimits.maxFiles} are accepted`);
  const seen = new Set<string>();
  for (const file of files) {
    const p = checkUploadPath(file.path);
    if (seen.has(p)) throw invalid(`file ${p} appears twice in the upload`, p);
    seen.add(p);
  }
  for (const p of seen) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (seen.has(dir)) throw invalid(`${dir} is uploaded both as a file and as a directory`, dir);
    }
  }
}

/**
 * Runs `use` on a directory holding the stacks: the directory itself, or a copy of the upload written
 * into a fresh private directory under `scratchRoot` and removed afterwards whatever happens. Every
 * file operation is asynchronous: a 50,000-file upload must not hold the event loop that answers
 * check-ins (the validator worker then reads the copy).
 */
export async function withStackDir<T>(
  source: Exclude<StackSource, { kind: 'upload' }>,
  scratchRoot: string,
  use: (dir: string) => Promise<T>,
): Promise<T> {
  if (source.kind === 'dir') {
    const st = await fs.promises.stat(source.dir).catch(() => undefined);
    if (!st?.isDirectory()) throw invalid(`stacks directory ${source.dir} does not exist`);
    return use(source.dir);
  }
  checkUpload(source.files);
  ensurePrivateDir(scratchRoot);
  const dir = path.join(scratchRoot, `upload-${randomUUID()}`);
  try {
    await fs.promises.mkdir(dir, { mode: 0o700 });
    const dirs = new Set(source.files.map((file) => path.dirname(path.join(dir, file.path))));
    for (const d of [...dirs].sort()) await fs.promises.mkdir(d, { recursive: true, mode: 0o700 });
    await writeAll(dir, source.files);
    return await use(dir);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** A few writes in flight at a time: enough to keep the thread pool busy, never 50,000 open files. */
async function writeAll(dir: string, files: readonly StackFile[]): Promise<void> {
  let next = 0;
  const writer = async (): Promise<void> => {
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i]!;
      await fs.promises.writeFile(path.join(dir, file.path), file.content, { mode: 0o600 });
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
}
