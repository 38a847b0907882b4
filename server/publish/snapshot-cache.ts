/**
 * The snapshots the publish service holds: the active one, a pending one and one more. While serving, a
 * stored snapshot is loaded and verified in the validator worker and parsed here only as bundles need it;
 * only start-up, before anything is served, parses and verifies one on this thread.
 */
import { LazySnapshot, deserializeSnapshot } from '../policy/index.ts';
import type { CompiledSnapshot } from '../policy/index.ts';
import type { Store } from '../store/index.ts';
import type { ValidatorPool } from './validator-pool.ts';
import * as versions from './versions.ts';

export interface SnapshotCache {
  /** Remembers a snapshot (most recent last; the oldest beyond three is dropped). */
  keep: (snapshot: CompiledSnapshot) => void;
  /** A stored snapshot; undefined for the empty configuration. */
  load: (hash: string) => Promise<CompiledSnapshot | undefined>;
  /** The same, parsed and verified on this thread: for start-up only. */
  loadNow: (hash: string) => CompiledSnapshot | undefined;
}

export function createSnapshotCache(store: Store, validator: ValidatorPool): SnapshotCache {
  const snapshots = new Map<string, CompiledSnapshot>();
  const keep = (snapshot: CompiledSnapshot): void => {
    snapshots.delete(snapshot.hash);
    snapshots.set(snapshot.hash, snapshot);
    while (snapshots.size > 3) snapshots.delete(snapshots.keys().next().value!);
  };
  return {
    keep,
    load: async (hash) => {
      const known = snapshots.get(hash);
      if (known) return known;
      const { encoded } = await validator.load(hash, store.db.name);
      if (encoded === undefined) return undefined;
      const snapshot = new LazySnapshot(encoded.body, encoded.index);
      keep(snapshot);
      return snapshot;
    },
    loadNow: (hash) => {
      const body = versions.snapshotBody(store.db, hash);
      if (body === undefined) return undefined;
      const parsed = JSON.parse(body) as { entries?: unknown };
      // The empty configuration a fresh server starts with is stored as {format, entries: []} without instances.
      if (Array.isArray(parsed.entries) && parsed.entries.length === 0 && !('instances' in parsed))
        return undefined;
      const snapshot = deserializeSnapshot(body);
      keep(snapshot);
      return snapshot;
    },
  };
}
