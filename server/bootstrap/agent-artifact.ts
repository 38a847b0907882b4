/**
 * The agent as hosts download it: one self-contained ES module bundled from the agent sources with
 * esbuild, built on first request (not at boot, so a server that never bootstraps a host never pays for
 * it), kept in memory, and cached on disk under a key that changes whenever a source file does.
 */
import { build, version as esbuildVersion } from 'esbuild';
import type { BuildFailure, BuildOptions, Message } from 'esbuild';
import path from 'node:path';
import type { Logger } from '../core/index.ts';
import { VigoError } from '../core/index.ts';
import {
  artifactFileName,
  artifactKey,
  findCachedArtifact,
  sha256Hex,
  storeArtifact,
} from './artifact-cache.ts';
import type { ArtifactManifest, CachedArtifact } from './artifact-cache.ts';

export interface AgentArtifact {
  /** The module's bytes, served as /bootstrap/vigo.mjs. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Lower-case hex SHA-256 of `bytes`. */
  readonly sha256: string;
  /** The cache file name, vigo-<serverVersion>-<key prefix>.mjs. */
  readonly fileName: string;
  /** Where this copy came from: a fresh esbuild run or the disk cache. */
  readonly origin: 'built' | 'disk';
}

export interface AgentArtifactOptions {
  /** The agent's entry module, e.g. <repo>/agent/main.ts. */
  readonly entry: string;
  /** esbuild's working directory: source paths in the cache key are relative to it. */
  readonly rootDir: string;
  /** Where built artifacts are cached, e.g. <data-dir>/bootstrap. */
  readonly cacheDir: string;
  readonly serverVersion: string;
  readonly log: Logger;
  /** After a failed build, requests get the same error for this long before the next attempt. */
  readonly retryAfterMs?: number;
  readonly nowMs?: () => number;
}

export interface AgentArtifactSource {
  /** The artifact, building it if needed; throws VigoError `bootstrap.agent_unavailable` if that fails. */
  get(): Promise<AgentArtifact>;
}

export const defaultBuildRetryAfterMs = 30_000;

/**
 * grpc-js and other CommonJS dependencies call require() for Node built-ins; an ES module has no
 * require, so the bundle defines one (a name no bundled module declares at top level, as esbuild wraps
 * CommonJS in functions).
 */
const requireBanner =
  "import { createRequire as __vigoCreateRequire } from 'node:module';\n" +
  'const require = __vigoCreateRequire(import.meta.url);';

/** The build options every artifact shares; they are part of the cache key. */
export const agentBuildRecipe = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: requireBanner },
  minify: false,
  sourcemap: false,
  legalComments: 'eof',
} as const satisfies BuildOptions;

const recipeText = JSON.stringify(agentBuildRecipe);

function isBuildFailure(err: unknown): err is BuildFailure {
  return err instanceof Error && Array.isArray((err as Partial<BuildFailure>).errors);
}

function describeMessage(message: Message): string {
  const where = message.location
    ? `${message.location.file}:${message.location.line}:${message.location.column}: `
    : '';
  return `${where}${message.text}`;
}

async function buildArtifact(options: AgentArtifactOptions): Promise<CachedArtifact> {
  const result = await build({
    ...agentBuildRecipe,
    entryPoints: [options.entry],
    absWorkingDir: options.rootDir,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no output file');
  for (const warning of result.warnings) {
    options.log.warn('bootstrap agent build warning', { warning: describeMessage(warning) });
  }
  const bytes = output.contents;
  const parts = {
    serverVersion: options.serverVersion,
    esbuildVersion,
    recipe: recipeText,
    inputs: Object.keys(result.metafile.inputs).sort(),
  };
  const key = artifactKey(options.rootDir, parts);
  const manifest: ArtifactManifest = { format: 1, ...parts, key, sha256: sha256Hex(bytes) };
  return { fileName: artifactFileName(options.serverVersion, key), bytes, manifest };
}

function unavailable(options: AgentArtifactOptions, retryAfterMs: number, cause: unknown): VigoError {
  const retryAfterSeconds = Math.ceil(retryAfterMs / 1000);
  return new VigoError(
    'bootstrap.agent_unavailable',
    'the vigo agent artifact is not available: building it from the agent sources failed. ' +
      'The vigosrv log has the esbuild errors (message "bootstrap agent build failed"); fix the agent ' +
      `sources or reinstall vigosrv. A new build is tried at most every ${retryAfterSeconds} s.`,
    { retryAfterSeconds, entry: path.basename(options.entry) },
    { cause },
  );
}

async function produce(options: AgentArtifactOptions, retryAfterMs: number): Promise<AgentArtifact> {
  const log = options.log;
  const startedMs = performance.now();
  const lookup = {
    cacheDir: options.cacheDir,
    rootDir: options.rootDir,
    serverVersion: options.serverVersion,
    esbuildVersion,
    recipe: recipeText,
  };
  const cached = findCachedArtifact(lookup);
  let artifact: CachedArtifact;
  if (cached !== undefined) artifact = cached;
  else {
    try {
      artifact = await buildArtifact(options);
    } catch (err) {
      const errors = isBuildFailure(err) ? err.errors.map(describeMessage) : [String(err)];
      log.error('bootstrap agent build failed', { entry: options.entry, errors });
      throw unavailable(options, retryAfterMs, err);
    }
    try {
      storeArtifact(options.cacheDir, artifact);
    } catch (err) {
      // Serving from memory still works; only the next restart pays for another build.
      log.warn('bootstrap agent artifact not cached on disk', { cacheDir: options.cacheDir, err });
    }
  }
  const origin = cached === undefined ? 'built' : 'disk';
  log.info('bootstrap agent artifact ready', {
    file: path.join(options.cacheDir, artifact.fileName),
    sha256: artifact.manifest.sha256,
    bytes: artifact.bytes.byteLength,
    sources: artifact.manifest.inputs.length,
    origin,
    durationMs: Math.round(performance.now() - startedMs),
  });
  // A copy on its own ArrayBuffer: Buffers from readFileSync may be slices of a shared pool.
  return {
    bytes: new Uint8Array(artifact.bytes),
    sha256: artifact.manifest.sha256,
    fileName: artifact.fileName,
    origin,
  };
}

export function createAgentArtifactSource(options: AgentArtifactOptions): AgentArtifactSource {
  const retryAfterMs = options.retryAfterMs ?? defaultBuildRetryAfterMs;
  const nowMs = options.nowMs ?? Date.now;
  let ready: AgentArtifact | undefined;
  let pending: Promise<AgentArtifact> | undefined;
  // Requests are unauthenticated: without this, each one could start another (failing) esbuild run.
  let failure: { error: VigoError; untilMs: number } | undefined;

  const attempt = async (): Promise<AgentArtifact> => {
    try {
      ready = await produce(options, retryAfterMs);
      failure = undefined;
      return ready;
    } catch (err) {
      const error = err instanceof VigoError ? err : unavailable(options, retryAfterMs, err);
      failure = { error, untilMs: nowMs() + retryAfterMs };
      throw error;
    } finally {
      pending = undefined;
    }
  };

  return {
    get: () => {
      if (ready !== undefined) return Promise.resolve(ready);
      if (failure !== undefined && nowMs() < failure.untilMs) return Promise.reject(failure.error);
      pending ??= attempt();
      return pending;
    },
  };
}
