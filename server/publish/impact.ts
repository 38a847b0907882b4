/**
 * What a publish would change for the fleet: every enrolled envoy is matched against the active and
 * the candidate snapshot, and envoys that move between the same pair of entries are grouped, so the
 * report stays readable (and cheap) for a fleet of any size. It walks every envoy and every entry, so
 * it runs in the validator worker, never on the thread that answers check-ins.
 */
import { diffEntries, diffFields, diffResources } from '../policy/index.ts';
import type { CompiledEntry, CompiledSnapshot, EntryDiff, FieldDiff } from '../policy/index.ts';

/** Hostnames listed per group; the count is always exact. */
export const maxHostnamesPerGroup = 1000;

export interface ImpactGroup {
  /** Entry id before and after; null when the hostname matches no entry. */
  entryBefore: string | null;
  entryAfter: string | null;
  envoys: number;
  hostnames: string[];
  added: string[];
  changed: string[];
  removed: string[];
}

export interface PublishImpact {
  /** Entries whose resources change (unchanged entries are left out). */
  entries: EntryDiff[];
  envoysTotal: number;
  envoysChanging: number;
  groups: ImpactGroup[];
  /** Per resource, what changes field by field (bounded; policy/diff-fields.ts). */
  fields: FieldDiff;
}

function changes(before: CompiledEntry | undefined, after: CompiledEntry | undefined): boolean {
  if (before === undefined || after === undefined) return before !== after;
  return before.id !== after.id || before.merkleRoot !== after.merkleRoot;
}

/** `hostnames`: every envoy that is not revoked. */
export function computeImpact(
  hostnames: Iterable<string>,
  active: CompiledSnapshot | undefined,
  candidate: CompiledSnapshot | undefined,
): PublishImpact {
  const groups = new Map<string, ImpactGroup>();
  let total = 0;
  let changing = 0;
  for (const hostname of hostnames) {
    total++;
    const before = active?.matchEntry(hostname);
    const after = candidate?.matchEntry(hostname);
    if (!changes(before, after)) continue;
    changing++;
    const key = `${before?.id ?? ''}\0${before?.merkleRoot ?? ''}\0${after?.id ?? ''}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        entryBefore: before?.id ?? null,
        entryAfter: after?.id ?? null,
        envoys: 0,
        hostnames: [],
        ...diffResources(before, after),
      };
      groups.set(key, group);
    }
    group.envoys++;
    if (group.hostnames.length < maxHostnamesPerGroup) group.hostnames.push(hostname);
  }
  return {
    entries:
      candidate === undefined
        ? (active?.entries ?? []).map((e) => ({
            entryId: e.id,
            status: 'removed' as const,
            added: [],
            changed: [],
            removed: [],
          }))
        : diffEntries(active, candidate).filter((d) => d.status !== 'unchanged'),
    envoysTotal: total,
    envoysChanging: changing,
    groups: [...groups.values()].sort((a, b) => b.envoys - a.envoys),
    fields: diffFields(active, candidate),
  };
}
