/**
 * Files and directories the server owns hold keys, tokens and the database: directories are 0700 and
 * files 0600 whatever the umask says.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/** Writes a private file atomically: a temp file beside it, fsync'd by writeFileSync's flush, then renamed. */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  ensurePrivateDir(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600, flush: true });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
