/** What a publish would change, per entry and resource id (for `vigocli config publish --dry-run`). */
import { canonicalJson } from './canonical.ts';
import { compareText } from './diagnostics.ts';
import { snapshotOf } from './snapshot.ts';
import type { CompiledEntry, CompiledSnapshot, EntryDiff } from './types.ts';

/** resource id → canonical encoding of everything that reaches an envoy about it. */
function resourceViews(entry: CompiledEntry): Map<string, string> {
  const snap = snapshotOf(entry);
  const linksOf = new Map<string, unknown[]>();
  for (const l of entry.links) linksOf.set(l.from, [...(linksOf.get(l.from) ?? []), l]);
  const out = new Map<string, string>();
  for (const c of entry.configcrates) {
    for (const r of snap.instances.get(c.instance)?.resources ?? []) {
      out.set(
        r.id,
        canonicalJson({
          r,
          guard: c.when,
          links: linksOf.get(r.id) ?? [],
          vars: r.deferred.length > 0 ? entry.vars : null,
        }),
      );
    }
  }
  return out;
}

export function diffResources(
  before: CompiledEntry | undefined,
  after: CompiledEntry | undefined,
): { added: string[]; changed: string[]; removed: string[] } {
  const a = before ? resourceViews(before) : new Map<string, string>();
  const b = after ? resourceViews(after) : new Map<string, string>();
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [id, view] of b) {
    const old = a.get(id);
    if (old === undefined) added.push(id);
    else if (old !== view) changed.push(id);
  }
  for (const id of a.keys()) if (!b.has(id)) removed.push(id);
  return {
    added: added.sort(compareText),
    changed: changed.sort(compareText),
    removed: removed.sort(compareText),
  };
}

/** Every entry of either snapshot, matched by id, with the resource ids added, changed or removed. */
export function diffEntries(before: CompiledSnapshot | undefined, after: CompiledSnapshot): EntryDiff[] {
  const ids = new Set<string>([
    ...(before?.entries ?? []).map((e) => e.id),
    ...after.entries.map((e) => e.id),
  ]);
  const out: EntryDiff[] = [];
  for (const entryId of ids) {
    const a = before?.entryById(entryId);
    const b = after.entryById(entryId);
    const d = diffResources(a, b);
    const status = !a
      ? 'added'
      : !b
        ? 'removed'
        : d.added.length + d.changed.length + d.removed.length > 0 || a.merkleRoot !== b.merkleRoot
          ? 'changed'
          : 'unchanged';
    out.push({ entryId, status, ...d });
  }
  return out;
}
