/**
 * The on-disk cache of the bundled agent. An artifact is trusted only while the sources it was built
 * from are byte-for-byte the same: its key hashes every file esbuild read (by path relative to the build
 * root, so moving the checkout keeps the cache), the server and esbuild versions and the build recipe.
 * A manifest beside each artifact lists those files, so a restart can re-check the key without building.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from '../core/index.ts';

export interface ArtifactKeyParts {
  readonly serverVersion: string;
  readonly esbuildVersion: string;
  /** Everything about the build that is not a source file: options, banner, target. */
  readonly recipe: string;
  /** Source paths as esbuild names them in its metafile: relative to the build root. */
  readonly inputs: readonly string[];
}

export interface ArtifactManifest extends ArtifactKeyParts {
  readonly format: 1;
  readonly key: string;
  /** SHA-256 of the artifact bytes, checked again on load so a damaged file is rebuilt, not served. */
  readonly sha256: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A file's content hash, or a marker when it cannot be read (esbuild may name virtual inputs). */
function inputDigest(rootDir: string, input: string): string {
  try {
    return sha256Hex(readFileSync(path.resolve(rootDir, input)));
  } catch {
    return 'unreadable';
  }
}

/** The cache key: it changes when any source file, the server version, esbuild or the recipe changes. */
export function artifactKey(rootDir: string, parts: ArtifactKeyParts): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify(['vigo-agent-artifact/1', parts.serverVersion, parts.esbuildVersion, parts.recipe]),
  );
  for (const input of [...parts.inputs].sort()) {
    hash.update(`\n${JSON.stringify(input)} ${inputDigest(rootDir, input)}`);
  }
  return hash.digest('hex');
}

/** Keeps file names portable whatever a version string contains (e.g. "1.2.0+build/7"). */
function fileSafe(version: string): string {
  return version.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function artifactFileName(serverVersion: string, key: string): string {
  return `vigo-${fileSafe(serverVersion)}-${key.slice(0, 16)}.mjs`;
}

const manifestSuffix = '.json';
const cacheFilePattern = /^vigo-.+-[0-9a-f]{16}\.mjs(\.json)?$/;

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function parseManifest(text: string): ArtifactManifest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  const strings = ['serverVersion', 'esbuildVersion', 'recipe', 'key', 'sha256'] as const;
  if (m['format'] !== 1 || !strings.every((k) => typeof m[k] === 'string') || !isStringArray(m['inputs'])) {
    return undefined;
  }
  return value as ArtifactManifest;
}

export interface CachedArtifact {
  readonly fileName: string;
  readonly bytes: Uint8Array;
  readonly manifest: ArtifactManifest;
}

export interface CacheLookup {
  readonly cacheDir: string;
  readonly rootDir: string;
  readonly serverVersion: string;
  readonly esbuildVersion: string;
  readonly recipe: string;
}

function tryManifest(lookup: CacheLookup, manifestName: string): CachedArtifact | undefined {
  const fileName = manifestName.slice(0, -manifestSuffix.length);
  let manifest: ArtifactManifest | undefined;
  let bytes: Uint8Array;
  try {
    manifest = parseManifest(readFileSync(path.join(lookup.cacheDir, manifestName), 'utf8'));
    if (manifest === undefined) return undefined;
    bytes = readFileSync(path.join(lookup.cacheDir, fileName));
  } catch {
    return undefined;
  }
  const sameBuild =
    manifest.serverVersion === lookup.serverVersion &&
    manifest.esbuildVersion === lookup.esbuildVersion &&
    manifest.recipe === lookup.recipe;
  if (!sameBuild || artifactFileName(lookup.serverVersion, manifest.key) !== fileName) return undefined;
  if (artifactKey(lookup.rootDir, manifest) !== manifest.key) return undefined;
  if (sha256Hex(bytes) !== manifest.sha256) return undefined;
  return { fileName, bytes, manifest };
}

/** The cached artifact whose sources are unchanged, if there is one. */
export function findCachedArtifact(lookup: CacheLookup): CachedArtifact | undefined {
  let names: string[];
  try {
    names = readdirSync(lookup.cacheDir);
  } catch {
    return undefined;
  }
  const prefix = `vigo-${fileSafe(lookup.serverVersion)}-`;
  for (const name of names.sort()) {
    if (!name.startsWith(prefix) || !name.endsWith(`.mjs${manifestSuffix}`)) continue;
    const found = tryManifest(lookup, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Writes the artifact, then its manifest (a crash between the two leaves an artifact nothing trusts),
 * and removes artifacts of other keys so the directory holds one agent, not one per upgrade.
 */
export function storeArtifact(cacheDir: string, artifact: CachedArtifact): void {
  writePrivateFile(path.join(cacheDir, artifact.fileName), artifact.bytes);
  writePrivateFile(
    path.join(cacheDir, `${artifact.fileName}${manifestSuffix}`),
    `${JSON.stringify(artifact.manifest, null, 2)}\n`,
  );
  const keep = new Set([artifact.fileName, `${artifact.fileName}${manifestSuffix}`]);
  for (const name of readdirSync(cacheDir)) {
    if (cacheFilePattern.test(name) && !keep.has(name)) rmSync(path.join(cacheDir, name), { force: true });
  }
}
