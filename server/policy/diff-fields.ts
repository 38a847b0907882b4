/**
 * Field-level differences between two compiled snapshots, per resource: which resources are added,
 * removed or changed, and for a changed one each field with its old and new value (`params.content`,
 * `when`, `dependsOn` …). A resource compiled the same way for many match entries is listed once with
 * the entries it changes in. The result is bounded (resources, fields, value length, entries listed), with
 * counts of what was left out, so a diff of any size fits in one answer.
 */
import { canonicalJson } from './canonical.ts';
import { compareText } from './diagnostics.ts';
import { snapshotOf } from './snapshot.ts';
import type { CompiledEntry, CompiledResource, CompiledSnapshot } from './types.ts';

export const fieldDiffLimits = {
  /** Resource changes listed; the rest are counted in `resourcesOmitted`. */
  maxResources: 200,
  /** Fields listed per changed resource; the rest are counted in `fieldsOmitted`. */
  maxFieldsPerResource: 50,
  /** Characters of one old or new value (as JSON); longer ones end with "…". */
  maxValueChars: 400,
  /** Entry ids listed per resource change; `entryCount` is always exact. */
  maxEntriesListed: 5,
  /** Nesting followed into mappings before a value is compared whole. */
  maxDepth: 6,
} as const;

export interface FieldChange {
  /** Dotted path, e.g. `params.content` or `when`. */
  field: string;
  /** The old value as JSON; absent when the field is new. */
  before?: string;
  /** The new value as JSON; absent when the field is gone. */
  after?: string;
}

export interface ResourceChange {
  /** `<configcrate>/<name>`. */
  id: string;
  type: string;
  status: 'added' | 'removed' | 'changed';
  /** Match entries this change applies to (at most maxEntriesListed). */
  entries: string[];
  entryCount: number;
  /** For a changed resource: the fields that differ. */
  fields: FieldChange[];
  fieldsOmitted: number;
}

export interface FieldDiff {
  resources: ResourceChange[];
  /** Resource changes beyond maxResources, not listed. */
  resourcesOmitted: number;
}

/** Everything that reaches an envoy about one resource, as dotted field → canonical JSON. */
function fieldsOf(entry: CompiledEntry, guard: string | null, r: CompiledResource): Map<string, string> {
  const out = new Map<string, string>();
  const put = (field: string, value: unknown, depth: number): void => {
    if (value === undefined) return;
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      depth < fieldDiffLimits.maxDepth &&
      Object.keys(value).length > 0
    ) {
      for (const [k, v] of Object.entries(value)) put(`${field}.${k}`, v, depth + 1);
      return;
    }
    out.set(field, canonicalJson(value));
  };
  put('type', r.type, 0);
  put('params', r.params, 0);
  const when = guard === null ? r.when : r.when === null ? guard : `(${guard}) && (${r.when})`;
  if (when !== null) put('when', when, 0);
  if (r.dependsOn.length > 0) put('dependsOn', r.dependsOn, 0);
  if (r.notify.length > 0) put('notify', r.notify, 0);
  if (r.onlyWhenNotified) put('onlyWhenNotified', true, 0);
  if (r.revert) put('revert', true, 0);
  if (r.onRevert !== null) put('onRevert', r.onRevert, 0);
  if (r.case !== null) put('case', r.case, 0);
  for (const d of r.deferred) put(`template.${d.path.join('.')}`, d.text, 0);
  const links = entry.links.filter((l) => l.from === r.id).map((l) => `${l.kind} ${l.to}`);
  if (links.length > 0) put('links', links.sort(compareText), 0);
  return out;
}

function resourcesOf(
  entry: CompiledEntry | undefined,
): Map<string, { r: CompiledResource; guard: string | null }> {
  const out = new Map<string, { r: CompiledResource; guard: string | null }>();
  if (entry === undefined) return out;
  const snap = snapshotOf(entry);
  for (const c of entry.configcrates)
    for (const r of snap.instances.get(c.instance)?.resources ?? []) out.set(r.id, { r, guard: c.when });
  return out;
}

function clip(text: string): string {
  return text.length <= fieldDiffLimits.maxValueChars
    ? text
    : `${text.slice(0, fieldDiffLimits.maxValueChars - 1)}…`;
}

function fieldChanges(a: Map<string, string>, b: Map<string, string>): FieldChange[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort(compareText);
  const out: FieldChange[] = [];
  for (const field of names) {
    const before = a.get(field);
    const after = b.get(field);
    if (before === after) continue;
    out.push({
      field,
      ...(before === undefined ? {} : { before: clip(before) }),
      ...(after === undefined ? {} : { after: clip(after) }),
    });
  }
  return out;
}

/** `before` undefined: the empty configuration. */
export function diffFields(
  before: CompiledSnapshot | undefined,
  after: CompiledSnapshot | undefined,
): FieldDiff {
  const ids = new Set<string>([
    ...(before?.entries ?? []).map((e) => e.id),
    ...(after?.entries ?? []).map((e) => e.id),
  ]);
  const changes = new Map<string, ResourceChange & { allFields: FieldChange[] }>();
  for (const entryId of [...ids].sort(compareText)) {
    const ea = before?.entryById(entryId);
    const eb = after?.entryById(entryId);
    if (ea !== undefined && eb !== undefined && ea.merkleRoot === eb.merkleRoot) continue;
    const ra = resourcesOf(ea);
    const rb = resourcesOf(eb);
    for (const id of new Set([...ra.keys(), ...rb.keys()])) {
      const x = ra.get(id);
      const y = rb.get(id);
      const fa = x && ea ? fieldsOf(ea, x.guard, x.r) : undefined;
      const fb = y && eb ? fieldsOf(eb, y.guard, y.r) : undefined;
      let status: ResourceChange['status'];
      let fields: FieldChange[] = [];
      if (fa === undefined) status = 'added';
      else if (fb === undefined) status = 'removed';
      else {
        fields = fieldChanges(fa, fb);
        if (fields.length === 0) continue;
        status = 'changed';
      }
      const key = `${id}\0${status}\0${JSON.stringify(fields)}`;
      let change = changes.get(key);
      if (change === undefined) {
        change = {
          id,
          type: (y ?? x)!.r.type,
          status,
          entries: [],
          entryCount: 0,
          fields: [],
          fieldsOmitted: 0,
          allFields: fields,
        };
        changes.set(key, change);
      }
      change.entryCount++;
      if (change.entries.length < fieldDiffLimits.maxEntriesListed) change.entries.push(entryId);
    }
  }
  const sorted = [...changes.values()].sort(
    (p, q) => compareText(p.id, q.id) || compareText(p.status, q.status) || q.entryCount - p.entryCount,
  );
  const listed = sorted.slice(0, fieldDiffLimits.maxResources).map(({ allFields, ...c }) => ({
    ...c,
    fields: allFields.slice(0, fieldDiffLimits.maxFieldsPerResource),
    fieldsOmitted: Math.max(0, allFields.length - fieldDiffLimits.maxFieldsPerResource),
  }));
  return { resources: listed, resourcesOmitted: sorted.length - listed.length };
}
