/** What a publish would change, per entry and resource id (for `vigocli config publish --dry-run`). */
import { canonicalJson } from './canonical.ts';
import { compareText } from './diagnostics.ts';
import { snapshotOf } from './snapshot.ts';
import type { CompiledEntry, CompiledSnapshot, EntryDiff } from './types.ts';

/** Canonical encodings of resources, which instances share between entries: each is encoded once. */
const encoded = new WeakMap<object, string>();

function encodeOnce(value: object): string {
  let text = encoded.get(value);
  if (text === undefined) {
    text = canonicalJson(value);
    encoded.set(value, text);
  }
  return text;
}

/** resource id → an encoding of everything that reaches an envoy about it (equal views, equal resources). */
function resourceViews(entry: CompiledEntry): Map<string, string> {
  const snap = snapshotOf(entry);
  const linksOf = new Map<string, unknown[]>();
  for (const l of entry.links) linksOf.set(l.from, [...(linksOf.get(l.from) ?? []), l]);
  const out = new Map<string, string>();
  let varsText: string | undefined;
  for (const c of entry.configcrates) {
    for (const r of snap.instances.get(c.instance)?.resources ?? []) {
      const links = linksOf.get(r.id);
      const vars = r.deferred.length > 0 ? (varsText ??= canonicalJson(entry.vars)) : '';
      // NUL cannot occur in canonical JSON, so the parts cannot run into each other.
      out.set(
        r.id,
        `${encodeOnce(r)}\0${JSON.stringify(c.when)}\0${links ? canonicalJson(links) : ''}\0${vars}`,
      );
    }
  }
  return out;
}

function resourceIds(entry: CompiledEntry): string[] {
  const snap = snapshotOf(entry);
  return entry.configcrates.flatMap((c) =>
    (snap.instances.get(c.instance)?.resources ?? []).map((r) => r.id),
  );
}

export function diffResources(
  before: CompiledEntry | undefined,
  after: CompiledEntry | undefined,
): { added: string[]; changed: string[]; removed: string[] } {
  // Cheap answers first: a side that is missing has only ids to compare, and equal Merkle roots cover
  // everything a view encodes (vars, graph, every instance).
  if (before === undefined || after === undefined)
    return {
      added: after ? resourceIds(after).sort(compareText) : [],
      changed: [],
      removed: before ? resourceIds(before).sort(compareText) : [],
    };
  if (before.merkleRoot === after.merkleRoot) return { added: [], changed: [], removed: [] };
  const a = resourceViews(before);
  const b = resourceViews(after);
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
