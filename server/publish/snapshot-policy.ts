/**
 * Serves a published snapshot to check-in: each envoy's entry (first match on its hostname), its signed
 * bundle and the Merkle root it is compared by. Bundles are built and signed once per entry — per entry
 * and traits hash when the entry renders traits — and reused until they pass half their lifetime or the
 * secrets epoch moves, so a check-in never compiles or signs anything it has signed before.
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { signBundle } from '../../protocol/index.ts';
import { canonicalJson } from '../audit/index.ts';
import type { PolicySource, ServedBundle } from '../checkin/index.ts';
import { bundleLifetime, createEmptyPolicy, isBundleRenderFailure } from '../checkin/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import type { VigoError } from '../core/index.ts';
import { buildBundleDocument } from '../policy/index.ts';
import type { CompiledEntry, CompiledSnapshot } from '../policy/index.ts';

export interface SnapshotPolicyOptions {
  version: number;
  snapshot: CompiledSnapshot;
  signingKey: KeyObject;
  maxAgeMs: () => number;
  observeOnly: () => boolean;
  secretsEpoch: () => number;
  /** The canonical traits JSON stored under `hash`, or undefined when the server has not received it. */
  traitsJson: (hash: string) => string | undefined;
  /** Most bundles kept; trait-rendered bundles are per envoy, so the cache must not grow with the fleet. */
  maxCachedBundles?: number;
  /**
   * A bundle rendered with an envoy's traits failed (a template over its budget, or one that cannot
   * render these traits). Called once per entry and traits hash; the failure is remembered, so the
   * check-ins that follow cost nothing and get the same refusal.
   */
  onBundleFailure?: (failure: { entryId: string; traitsHash: string; error: VigoError }) => void;
}

export interface SnapshotPolicy extends PolicySource {
  readonly snapshot: CompiledSnapshot;
  /** Secret paths the envoy's current bundle references: the only ones ResolveSecrets may return to it. */
  secretPathsFor(entry: EnvoyEntry): ReadonlySet<string>;
}

interface CachedBundle {
  served: ServedBundle;
  secretPaths: ReadonlySet<string>;
  refreshAtMs: number;
  epoch: number;
}

/**
 * The root an agent reports for a bundle rendered with traits: the entry root alone would let an envoy whose
 * traits changed keep a bundle rendered from its old traits.
 */
export function tracedMerkleRoot(entryRoot: string, traitsHash: string): string {
  return createHash('sha256').update(`vigo/merkle-traits/v1\0${entryRoot}\0${traitsHash}`).digest('hex');
}

const noSecrets: ReadonlySet<string> = new Set();

export function createSnapshotPolicy(options: SnapshotPolicyOptions): SnapshotPolicy {
  const empty = createEmptyPolicy({
    version: options.version,
    signingKey: options.signingKey,
    maxAgeMs: options.maxAgeMs,
    observeOnly: options.observeOnly,
  });
  const maxCached = options.maxCachedBundles ?? 20_000;
  const cache = new Map<string, CachedBundle>();
  // Rendering is deterministic for one snapshot, entry and traits: a failure stays a failure.
  const failures = new Map<string, VigoError>();
  const parsedTraits = new Map<string, Record<string, unknown>>();

  const traitsOf = (hash: string): Record<string, unknown> | undefined => {
    const known = parsedTraits.get(hash);
    if (known) return known;
    const json = options.traitsJson(hash);
    if (json === undefined) return undefined;
    const traits = JSON.parse(json) as Record<string, unknown>;
    if (parsedTraits.size >= maxCached) parsedTraits.delete(parsedTraits.keys().next().value as string);
    parsedTraits.set(hash, traits);
    return traits;
  };

  const build = (compiled: CompiledEntry, traitsHash: string | undefined, nowMs: number): CachedBundle => {
    const lifetime = bundleLifetime(nowMs, options.maxAgeMs());
    const epoch = options.secretsEpoch();
    const traits = traitsHash === undefined ? undefined : traitsOf(traitsHash);
    const document = buildBundleDocument(compiled, {
      policyVersion: options.version,
      traits,
      secretsEpoch: epoch,
      issuedAtMs: nowMs,
      expiresAtMs: lifetime.expiresAtMs,
    });
    if (traitsHash !== undefined) document.merkle_root = tracedMerkleRoot(compiled.merkleRoot, traitsHash);
    const payload = Buffer.from(canonicalJson(document));
    return {
      served: { merkleRoot: document.merkle_root, bundle: signBundle(options.signingKey, payload) },
      secretPaths: new Set(document.secret_paths),
      refreshAtMs: lifetime.refreshAtMs,
      epoch,
    };
  };

  /** Undefined when the hostname matches no entry, or the entry needs traits the server does not have yet. */
  const cachedFor = (envoy: EnvoyEntry, nowMs: number): CachedBundle | undefined => {
    const compiled = options.snapshot.matchEntry(envoy.hostname);
    if (compiled === undefined) return undefined;
    let traitsHash: string | undefined;
    if (compiled.usesTraits) {
      if (envoy.traitsHash === '' || traitsOf(envoy.traitsHash) === undefined) return undefined;
      traitsHash = envoy.traitsHash;
    }
    const key = traitsHash === undefined ? compiled.id : `${compiled.id}\0${traitsHash}`;
    const hit = cache.get(key);
    if (hit && nowMs < hit.refreshAtMs && hit.epoch === options.secretsEpoch()) return hit;
    const failed = failures.get(key);
    if (failed) throw failed;
    let fresh: CachedBundle;
    try {
      fresh = build(compiled, traitsHash, nowMs);
    } catch (err) {
      if (traitsHash === undefined || !isBundleRenderFailure(err)) throw err;
      if (failures.size >= maxCached) failures.delete(failures.keys().next().value as string);
      failures.set(key, err);
      options.onBundleFailure?.({ entryId: compiled.id, traitsHash, error: err });
      throw err;
    }
    cache.delete(key);
    if (cache.size >= maxCached) cache.delete(cache.keys().next().value as string);
    cache.set(key, fresh);
    return fresh;
  };

  return {
    version: options.version,
    get secretsEpoch() {
      return options.secretsEpoch();
    },
    snapshot: options.snapshot,
    bundleFor: (envoy, nowMs) => cachedFor(envoy, nowMs)?.served ?? empty.bundleFor(envoy, nowMs),
    secretPathsFor: (envoy) => {
      try {
        return cachedFor(envoy, Date.now())?.secretPaths ?? noSecrets;
      } catch (err) {
        // No bundle could be built for this envoy, so it may resolve no secrets.
        if (isBundleRenderFailure(err)) return noSecrets;
        throw err;
      }
    },
  };
}
