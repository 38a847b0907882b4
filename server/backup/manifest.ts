/**
 * The manifest: the archive's first member, `manifest.json`, naming every other member with its size and
 * SHA-256. Restore parses it before anything else and checks each member against it.
 */
import { VigoError } from '../core/index.ts';
import { isSafeMemberName } from './tar.ts';

export const manifestName = 'manifest.json';
export const manifestFormat = 'vigo-backup';
export const manifestFormatVersion = 1;
/** The largest manifest restore reads (it is JSON held in memory). */
export const manifestMaxBytes = 4 * 1024 * 1024;

/** Where each part of a server lives in the archive. */
export const memberPaths = {
  database: 'db/vigo.db',
  serverYaml: 'config/server.yaml',
  auditCheckpoints: 'audit-checkpoints.jsonl',
} as const;

export interface ManifestMember {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly format: typeof manifestFormat;
  readonly formatVersion: number;
  readonly serverVersion: string;
  readonly createdAt: string;
  /** The active config version in the database snapshot, or null before the first publish. */
  readonly configVersion: number | null;
  /** Where `stacks/` came from: the upload the active version was published from, its directory, or none. */
  readonly stacksFrom: 'upload' | 'dir' | 'none';
  /** The newest migration applied to the database snapshot. */
  readonly schemaVersion: number;
  readonly members: readonly ManifestMember[];
}

function archiveInvalid(message: string): VigoError {
  return new VigoError('backup.archive_invalid', `the backup's manifest is invalid: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Parses manifest.json: every field typed, every member path safe and listed once, within `maxMembers`. */
export function parseManifest(text: string, maxMembers: number): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw archiveInvalid('it is not JSON');
  }
  if (!isRecord(raw)) throw archiveInvalid('it is not an object');
  if (raw['format'] !== manifestFormat) throw archiveInvalid(`its format is not "${manifestFormat}"`);
  if (raw['formatVersion'] !== manifestFormatVersion) {
    throw new VigoError(
      'backup.invalid',
      `the backup has format version ${JSON.stringify(raw['formatVersion'])}; this vigosrv reads version ${manifestFormatVersion}`,
    );
  }
  const { serverVersion, createdAt, configVersion, stacksFrom, schemaVersion, members } = raw;
  if (typeof serverVersion !== 'string' || serverVersion.length > 64) throw archiveInvalid('serverVersion');
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw archiveInvalid('createdAt');
  if (configVersion !== null && !nonNegativeInteger(configVersion)) throw archiveInvalid('configVersion');
  if (stacksFrom !== 'upload' && stacksFrom !== 'dir' && stacksFrom !== 'none')
    throw archiveInvalid('stacksFrom');
  if (!nonNegativeInteger(schemaVersion)) throw archiveInvalid('schemaVersion');
  if (!Array.isArray(members)) throw archiveInvalid('members is not a list');
  if (members.length > maxMembers) {
    throw new VigoError(
      'backup.too_large',
      `the backup lists ${members.length} members; at most ${maxMembers} are read`,
    );
  }
  const seen = new Set<string>();
  const parsed: ManifestMember[] = [];
  for (const member of members as unknown[]) {
    if (!isRecord(member)) throw archiveInvalid('a member is not an object');
    const { path, size, sha256 } = member;
    if (typeof path !== 'string' || !isSafeMemberName(path) || path === manifestName) {
      throw new VigoError(
        'backup.member_unsafe',
        `the manifest names an unsafe member ${JSON.stringify(path)}`,
      );
    }
    if (!nonNegativeInteger(size)) throw archiveInvalid(`member ${path} has no valid size`);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
      throw archiveInvalid(`member ${path} has no SHA-256`);
    if (seen.has(path)) throw archiveInvalid(`member ${path} is listed twice`);
    seen.add(path);
    parsed.push({ path, size, sha256 });
  }
  if (!seen.has(memberPaths.database)) throw archiveInvalid(`it lists no ${memberPaths.database}`);
  return {
    format: manifestFormat,
    formatVersion: manifestFormatVersion,
    serverVersion,
    createdAt,
    configVersion,
    stacksFrom,
    schemaVersion,
    members: parsed,
  };
}
