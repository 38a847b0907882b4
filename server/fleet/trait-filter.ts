/**
 * Trait filters for envoy lists: `os.family=debian`, `memory.total_mb>=4096`, `packages.nginx` (present).
 * A filter is evaluated once per distinct traits document, not once per envoy: a fleet of 100,000 hosts
 * usually has a few hundred distinct documents.
 */
import { VigoError } from '../core/index.ts';
import { resolveTraitKey } from '../policy/when/index.ts';

const filterPattern = /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,255}?)(?:(=|!=|>=|<=|>|<)(.{0,512}))?$/s;

export interface TraitFilter {
  readonly path: readonly string[];
  readonly op: '=' | '!=' | '>=' | '<=' | '>' | '<' | 'exists';
  readonly value: string;
}

export function parseTraitFilter(text: string): TraitFilter {
  const m = filterPattern.exec(text);
  if (m === null || m[1] === undefined) {
    throw new VigoError(
      'fleet.trait_filter',
      `trait filter ${JSON.stringify(text.slice(0, 80))} is not "path=value", "path!=value", "path>=number" ` +
        '(also >, <, <=) or a bare "path" (present); paths are dotted, e.g. os.family=debian',
      { field: 'trait' },
    );
  }
  return { path: m[1].split('.'), op: (m[2] ?? 'exists') as TraitFilter['op'], value: m[3] ?? '' };
}

function lookup(doc: unknown, path: readonly string[]): unknown {
  let node = doc;
  for (const [i, name] of path.entries()) {
    // The first segment may be another name of a reported trait (policy/when/trait-aliases.ts).
    const key =
      i === 0 && typeof node === 'object' && node !== null && !Array.isArray(node)
        ? (resolveTraitKey(node as Record<string, unknown>, name) ?? name)
        : name;
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function compare(actual: unknown, filter: TraitFilter): boolean {
  if (filter.op === 'exists') return actual !== undefined && actual !== null;
  if (Array.isArray(actual)) {
    const hit = actual.some((item) => compare(item, { ...filter, op: '=' }));
    return filter.op === '!=' ? !hit : filter.op === '=' ? hit : false;
  }
  if (typeof actual !== 'string' && typeof actual !== 'number' && typeof actual !== 'boolean')
    return filter.op === '!=';
  const text = String(actual);
  switch (filter.op) {
    case '=':
      return text === filter.value;
    case '!=':
      return text !== filter.value;
    default: {
      const a = Number(actual);
      const b = Number(filter.value);
      if (Number.isNaN(a) || Number.isNaN(b) || filter.value === '') return false;
      return filter.op === '>=' ? a >= b : filter.op === '<=' ? a <= b : filter.op === '>' ? a > b : a < b;
    }
  }
}

/** A matcher by traits hash, memoised per hash for the life of one request. */
export function traitsMatcher(
  filters: readonly TraitFilter[],
  traitsOf: (hash: string) => unknown,
): (traitsHash: string) => boolean {
  const memo = new Map<string, boolean>();
  return (hash) => {
    let hit = memo.get(hash);
    if (hit === undefined) {
      const doc = hash === '' ? undefined : traitsOf(hash);
      hit = filters.every((f) => compare(lookup(doc, f.path), f));
      memo.set(hash, hit);
    }
    return hit;
  };
}
