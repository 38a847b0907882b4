/**
 * What check-in serves: the active config version and, per envoy, its signed bundle and Merkle root.
 * Bundles are signed once and cached until they pass half their lifetime, never per check-in.
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { signBundle } from '../../protocol/index.ts';
import type { SignedBundle } from '../../protocol/index.ts';
import { appendAudit, canonicalJson } from '../audit/index.ts';
import { isVigoError } from '../core/index.ts';
import type { VigoError } from '../core/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import type { Store } from '../store/index.ts';

export interface ServedBundle {
  merkleRoot: string;
  bundle: SignedBundle;
}

/**
 * Whether `err` says an envoy's bundle cannot be rendered from the published stacks with its traits (a
 * template fails or goes over its render budget): the stacks are at fault, not the server or the agent, and
 * check-in answers checkin.bundle_unavailable. PolicySource.bundleFor throws such errors.
 */
export function isBundleRenderFailure(err: unknown): err is VigoError {
  return isVigoError(err) && (err.code === 'policy.template_limit' || err.code === 'policy.template');
}

export interface PolicySource {
  readonly version: number;
  readonly secretsEpoch: number;
  bundleFor(entry: EnvoyEntry, nowMs: number): ServedBundle;
  /**
   * Whether the envoy's entry renders its traits, so that no bundle can be built for it before the server
   * has them; absent means never.
   */
  needsTraits?(entry: EnvoyEntry): boolean;
}

/** `source` with `needsTraits` answered by `needsTraits`. */
export function withTraitNeeds(
  source: PolicySource,
  needsTraits: (entry: EnvoyEntry) => boolean,
): PolicySource {
  return {
    get version() {
      return source.version;
    },
    get secretsEpoch() {
      return source.secretsEpoch;
    },
    bundleFor: (entry, nowMs) => source.bundleFor(entry, nowMs),
    needsTraits,
  };
}

// Bundles are signed once and served many times, so each is read once for its epoch.
const epochByBundle = new WeakMap<SignedBundle, number>();

/**
 * The secrets_epoch written inside a signed bundle document (docs/bundle-format.md). CheckIn reports this
 * one, not the vault's current epoch, so the two can never disagree.
 */
export function bundleSecretsEpoch(bundle: SignedBundle): number {
  let epoch = epochByBundle.get(bundle);
  if (epoch === undefined) {
    const document = JSON.parse(Buffer.from(bundle.payload).toString('utf8')) as { secrets_epoch?: unknown };
    epoch = typeof document.secrets_epoch === 'number' ? document.secrets_epoch : 0;
    epochByBundle.set(bundle, epoch);
  }
  return epoch;
}

export interface EmptySnapshotOptions {
  version: number;
  signingKey: KeyObject;
  maxAgeMs: () => number;
  observeOnly: () => boolean;
}

/**
 * When a bundle signed at `nowMs` expires (0 = never, for checkin.bundle_max_age 0) and when the server
 * re-signs it: at half its lifetime, so an agent that refreshes past its own half-life gets a fresh one.
 */
export function bundleLifetime(
  nowMs: number,
  maxAgeMs: number,
): { expiresAtMs: number; refreshAtMs: number } {
  return maxAgeMs === 0
    ? { expiresAtMs: 0, refreshAtMs: Number.POSITIVE_INFINITY }
    : { expiresAtMs: nowMs + maxAgeMs, refreshAtMs: nowMs + maxAgeMs / 2 };
}

/** The snapshot body of a configuration with no match entries: what a fresh server serves. */
export const emptySnapshotBody = canonicalJson({ format: 1, entries: [] });
export const emptySnapshotHash = createHash('sha256').update(emptySnapshotBody).digest('hex');
const emptyMerkleRoot = createHash('sha256').update('vigo/merkle/v1\0').digest('hex');

/**
 * A real, versioned, signed bundle with no resources. The expiry follows checkin.bundle_max_age (0 =
 * never expires); the signed document is rebuilt once it is past half its lifetime.
 */
export function createEmptyPolicy(options: EmptySnapshotOptions): PolicySource {
  let cached: { served: ServedBundle; refreshAtMs: number } | undefined;
  const build = (nowMs: number): { served: ServedBundle; refreshAtMs: number } => {
    const lifetime = bundleLifetime(nowMs, options.maxAgeMs());
    // Same shape as policy's buildBundleDocument (docs/bundle-format.md), with no entry and no resources.
    const document = {
      format_version: 1,
      policy_version: options.version,
      entry_id: null,
      merkle_root: emptyMerkleRoot,
      traits_hash: null,
      issued_at_ms: nowMs,
      expires_at_ms: lifetime.expiresAtMs,
      secrets_epoch: 0,
      observe_only: options.observeOnly(),
      secret_paths: [],
      resources: [],
    };
    const payload = Buffer.from(canonicalJson(document));
    return {
      served: { merkleRoot: emptyMerkleRoot, bundle: signBundle(options.signingKey, payload) },
      refreshAtMs: lifetime.refreshAtMs,
    };
  };
  return {
    version: options.version,
    secretsEpoch: 0,
    bundleFor: (_entry, nowMs) => {
      if (cached === undefined || nowMs >= cached.refreshAtMs) cached = build(nowMs);
      return cached.served;
    },
  };
}

/**
 * The active config version, creating version 1 (the empty snapshot) on a server that has never had a
 * publish, in one transaction with its audit entry.
 */
export function ensureActiveVersion(store: Store, nowMs: number): number {
  return store.tx((db) => {
    const active = db.prepare("SELECT version FROM config_versions WHERE status = 'active'").pluck().get() as
      number | undefined;
    if (active !== undefined) return active;
    db.prepare('INSERT OR IGNORE INTO config_snapshots (hash, body, created_at) VALUES (?, ?, ?)').run(
      emptySnapshotHash,
      Buffer.from(emptySnapshotBody),
      nowMs,
    );
    const version =
      ((db.prepare('SELECT max(version) FROM config_versions').pluck().get() as number | null) ?? 0) + 1;
    db.prepare(
      `INSERT INTO config_versions (version, snapshot_hash, created_at, created_by, status, message, source)
       VALUES (?, ?, ?, 'system', 'active', 'initial empty configuration', 'vigosrv')`,
    ).run(version, emptySnapshotHash, nowMs);
    appendAudit(db, {
      actor: 'system',
      action: 'config.initialized',
      target: `config:${version}`,
      details: { snapshotHash: emptySnapshotHash },
    });
    return version;
  });
}
