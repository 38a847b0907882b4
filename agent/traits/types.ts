/**
 * The contract between the trait runner and its collectors. A collector reads one family of facts
 * (OS, memory, mounts…) from the machine and returns top-level trait keys; the runner merges them
 * into one JSON tree, runs collectors concurrently with a timeout each, and caches the stable ones.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import type { CommandRunner } from '../executors/types.ts';

/** The traits tree the agent reports: nested objects with snake_case keys, JSON-serializable. */
export type Traits = Record<string, unknown>;

/**
 * Where collectors look. Every root is injectable so tests can point a collector at fixture files;
 * the defaults are the real machine's.
 */
export interface TraitEnv {
  /** The filesystem root: `/.dockerenv`, `/usr/lib/os-release`, `/lib/apk/db/installed`, mountpoints. */
  readonly rootDir: string;
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly etcRoot: string;
  readonly runRoot: string;
  readonly run: CommandRunner;
  /** Addresses per interface, as node:os networkInterfaces() reports them (getifaddrs). */
  readonly networkInterfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** What the agent config says about traits (the `traits:` section); defaults when absent. */
  readonly settings?: TraitSettings;
}

/** The `traits:` section of the agent config. */
export interface TraitSettings {
  /** Certificate files (PEM or DER) whose expiry the cert_expiry trait reports; none by default. */
  readonly certPaths: readonly string[];
  /**
   * Whether the cloud trait may ask the instance metadata service at its link-local address (a
   * short-timeout HTTP request); off by default, when DMI and cloud-init's local files answer alone.
   */
  readonly cloudMetadata: boolean;
  /** The metadata service's base URL: http://169.254.169.254 unless a test points it elsewhere. */
  readonly cloudMetadataUrl?: string;
}

export const defaultTraitSettings: TraitSettings = { certPaths: [], cloudMetadata: false };

export interface TraitCollector {
  /** Unique among the collectors of one runner; used in errors and as the cache key. */
  readonly name: string;
  /** Volatile collectors run on every collect(); stable ones are cached for the stable TTL. */
  readonly volatile: boolean;
  /** The run abandons the collector after this long and falls back to its last value. */
  readonly timeoutMs: number;
  /**
   * A slow stable collector (seconds: a package manager's dependency solver) that no collect() waits
   * for: a due refresh starts in the background and the run reports the last value (none before the
   * first refresh ends); the new value, or its error, shows from the next collect() on.
   */
  readonly background?: boolean;
  /** Returns top-level trait keys. Throws when the facts cannot be read; the runner reports it. */
  collect(env: TraitEnv): Promise<Record<string, unknown>>;
}

/** One collector that failed or timed out in a run (collector "cache" for the cache file). */
export interface TraitError {
  readonly collector: string;
  readonly message: string;
}
