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
}

export interface TraitCollector {
  /** Unique among the collectors of one runner; used in errors and as the cache key. */
  readonly name: string;
  /** Volatile collectors run on every collect(); stable ones are cached for the stable TTL. */
  readonly volatile: boolean;
  /** The run abandons the collector after this long and falls back to its last value. */
  readonly timeoutMs: number;
  /** Returns top-level trait keys. Throws when the facts cannot be read; the runner reports it. */
  collect(env: TraitEnv): Promise<Record<string, unknown>>;
}

/** One collector that failed or timed out in a run (collector "cache" for the cache file). */
export interface TraitError {
  readonly collector: string;
  readonly message: string;
}
