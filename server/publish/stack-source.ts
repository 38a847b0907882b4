/**
 * Where a publish reads its stacks from: a directory on the server (start-up publish, local tools) or
 * files uploaded over the API, written into a private scratch directory for the validator and removed
 * afterwards. Upload paths are checked before anything touches the disk.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VigoError, ensurePrivateDir } from '../core/index.ts';

export interface StackFile {
  readonly path: string;
  readonly content: string;
}

export type StackSource =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 'files'; readonly files: readonly StackFile[] };

export const uploadLimits = { maxFiles: 50_000, maxPathLength: 1024 } as const;

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
 * Runs `use` on a directory holding the stacks: the directory itself, or a scratch copy of the upload
 * that is removed afterwards whatever happens.
 */
export async function withStackDir<T>(
  source: StackSource,
  scratchRoot: string,
  use: (dir: string) => Promise<T>,
): Promise<T> {
  if (source.kind === 'dir') {
    if (!fs.existsSync(source.dir) || !fs.statSync(source.dir).isDirectory())
      throw invalid(`stacks directory ${source.dir} does not exist`);
    return use(source.dir);
  }
  checkUpload(source.files);
  ensurePrivateDir(scratchRoot);
  const dir = path.join(scratchRoot, `upload-${randomUUID()}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  try {
    for (const file of source.files) {
      const target = path.join(dir, file.path);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      fs.writeFileSync(target, file.content, { mode: 0o600 });
    }
    return await use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
