/**
 * Gathers what a backup holds into a private work directory, on the backup thread: a consistent copy of
 * the database made with `VACUUM INTO` on the thread's own read connection (one read transaction, so the
 * server's writer never waits for it), and copies of tls/, secrets/, server.yaml, the audit checkpoint file
 * and the stacks of the active config version. Everything is copied before it is hashed, so a file the
 * server rewrites meanwhile cannot make the archive disagree with its manifest.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VigoError } from '../core/index.ts';
import type { Manifest, ManifestMember } from './manifest.ts';
import { manifestFormat, manifestFormatVersion, memberPaths } from './manifest.ts';
import { isSafeMemberName } from './tar.ts';

export interface CollectSources {
  readonly dbFile: string;
  readonly busyTimeoutMs: number;
  readonly tlsDir: string;
  readonly secretsDir: string;
  /** The server.yaml the server was started with, when it has one. */
  readonly serverYaml: string | undefined;
  readonly auditCheckpointFile: string;
  readonly serverVersion: string;
  /** Bounds on a directory the server does not own (the stacks); `dirLimits` unless given. */
  readonly dirLimits?: DirLimits;
}

export interface DirLimits {
  readonly maxFiles: number;
  readonly maxBytes: number;
}

/** Bounds on what a directory copy takes (a stacks directory could hold anything). */
export const dirLimits: DirLimits = { maxFiles: 50_000, maxBytes: 1024 * 1024 * 1024 };

function copyPrivate(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
  fs.copyFileSync(from, to);
  fs.chmodSync(to, 0o600);
}

/**
 * Regular files under `dir`, relative, sorted; symbolic links and special files are left out. A directory
 * the server does not own (stacks) is bounded; the work directory, which holds the database, is not.
 */
function regularFiles(dir: string, limits: DirLimits | undefined): string[] {
  const found: string[] = [];
  let bytes = 0;
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) {
        bytes += fs.statSync(path.join(dir, child)).size;
        found.push(child);
        if (limits !== undefined && (found.length > limits.maxFiles || bytes > limits.maxBytes)) {
          throw new VigoError(
            'backup.too_large',
            `${dir} holds more than ${limits.maxFiles} files or ${limits.maxBytes} bytes; it is not backed up`,
          );
        }
      }
    }
  };
  if (fs.existsSync(dir)) walk('');
  return found.sort();
}

function copyTree(from: string, to: string, limits: DirLimits): void {
  for (const rel of regularFiles(from, limits)) copyPrivate(path.join(from, rel), path.join(to, rel));
}

export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

interface SnapshotFacts {
  readonly configVersion: number | null;
  readonly schemaVersion: number;
  readonly source: string | null;
  readonly upload: Buffer | undefined;
}

function snapshotFacts(file: string): SnapshotFacts {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const schemaVersion = (db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() ??
      0) as number;
    const active = db
      .prepare("SELECT version, source, snapshot_hash AS hash FROM config_versions WHERE status = 'active'")
      .get() as { version: number; source: string | null; hash: string } | undefined;
    const upload =
      active === undefined
        ? undefined
        : (db.prepare('SELECT body FROM config_sources WHERE snapshot_hash = ?').pluck().get(active.hash) as
            Buffer | undefined);
    return {
      configVersion: active?.version ?? null,
      schemaVersion,
      source: active?.source ?? null,
      upload,
    };
  } finally {
    db.close();
  }
}

/** Writes the files of a publish upload (`{"files":[{"path","content"}]}`) under `to`. */
function writeUploadFiles(body: Buffer, to: string): void {
  const parsed = JSON.parse(body.toString('utf8')) as { files?: { path?: unknown; content?: unknown }[] };
  for (const file of parsed.files ?? []) {
    if (typeof file.path !== 'string' || typeof file.content !== 'string' || !isSafeMemberName(file.path))
      continue;
    const target = path.join(to, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.writeFileSync(target, file.content, { mode: 0o600 });
  }
}

/**
 * Fills `workDir` (created here, 0700) with the backup's members and returns the manifest. The audit
 * checkpoints are copied before the database snapshot, so each names an entry the snapshot holds.
 */
export function collect(sources: CollectSources, workDir: string, createdAt: Date): Manifest {
  fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
  if (fs.existsSync(sources.auditCheckpointFile)) {
    copyPrivate(sources.auditCheckpointFile, path.join(workDir, memberPaths.auditCheckpoints));
  }
  const dbCopy = path.join(workDir, memberPaths.database);
  fs.mkdirSync(path.dirname(dbCopy), { recursive: true, mode: 0o700 });
  const db = new Database(sources.dbFile, {
    readonly: true,
    fileMustExist: true,
    timeout: sources.busyTimeoutMs,
  });
  try {
    db.prepare('VACUUM INTO ?').run(dbCopy);
  } finally {
    db.close();
  }
  fs.chmodSync(dbCopy, 0o600);
  const facts = snapshotFacts(dbCopy);
  const limits = sources.dirLimits ?? dirLimits;
  copyTree(sources.tlsDir, path.join(workDir, 'tls'), limits);
  copyTree(sources.secretsDir, path.join(workDir, 'secrets'), limits);
  if (sources.serverYaml !== undefined && fs.existsSync(sources.serverYaml)) {
    copyPrivate(sources.serverYaml, path.join(workDir, memberPaths.serverYaml));
  }
  let stacksFrom: Manifest['stacksFrom'] = 'none';
  if (facts.upload !== undefined) {
    writeUploadFiles(facts.upload, path.join(workDir, 'stacks'));
    stacksFrom = 'upload';
  } else if (facts.source?.startsWith('dir:') === true) {
    copyTree(facts.source.slice('dir:'.length), path.join(workDir, 'stacks'), limits);
    stacksFrom = 'dir';
  }
  const members: ManifestMember[] = regularFiles(workDir, undefined).map((rel) => {
    const file = path.join(workDir, rel);
    return { path: rel, size: fs.statSync(file).size, sha256: sha256File(file) };
  });
  return {
    format: manifestFormat,
    formatVersion: manifestFormatVersion,
    serverVersion: sources.serverVersion,
    createdAt: createdAt.toISOString(),
    configVersion: facts.configVersion,
    stacksFrom,
    schemaVersion: facts.schemaVersion,
    members,
  };
}
