/**
 * Dependency cycles through resources that failed to load. Such a resource is left out of compilation
 * (so that one mistake does not cascade), which would also hide a loop it is part of; this check reads
 * the written names and references of every resource instead, so an operator sees the schema error and
 * the cycle in one validation.
 */
import { findCycles, formatCycle } from './dag.ts';
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import { isRecord } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';

const refKinds = ['depends_on', 'before', 'notify', 'subscribes'] as const;

function literal(text: unknown): text is string {
  return typeof text === 'string' && text !== '' && !text.includes('{{');
}

function refsOf(raw: Record<string, unknown>, kind: (typeof refKinds)[number]): string[] {
  const v = raw[kind];
  const list: unknown[] = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
  return list.filter(literal);
}

/**
 * Reports every cycle among the written resources of configcrate `crate` that passes through at least
 * one resource named in `broken` (cycles among loaded resources are reported when they compile).
 */
export function checkBrokenCycles(
  crate: string,
  rawResources: unknown,
  broken: ReadonlySet<string>,
  map: SourceMap,
  sink: DiagnosticSink,
): void {
  if (broken.size === 0 || !Array.isArray(rawResources)) return;
  const names: string[] = [];
  const at: Pos[] = [];
  const index = new Map<string, number>();
  const raws: Record<string, unknown>[] = [];
  rawResources.forEach((raw, i) => {
    if (!isRecord(raw) || !literal(raw.name) || index.has(raw.name)) return;
    index.set(raw.name, names.length);
    names.push(raw.name);
    at.push(map.pos(rawResources, i));
    raws.push(raw);
  });
  const prefix = `${crate}/`;
  const target = (text: string): number | undefined =>
    index.get(text.startsWith(prefix) ? text.slice(prefix.length) : text);
  // deps[i]: the resources i runs after.
  const deps: number[][] = names.map(() => []);
  raws.forEach((raw, i) => {
    for (const kind of refKinds) {
      for (const text of refsOf(raw, kind)) {
        const t = target(text);
        if (t === undefined || t === i) continue;
        if (kind === 'depends_on' || kind === 'subscribes') deps[i]!.push(t);
        else deps[t]!.push(i);
      }
    }
  });
  for (const cycle of findCycles(names.length, deps)) {
    const members = cycle.map((i) => names[i]!);
    const failed = members.filter((n) => broken.has(n));
    if (failed.length === 0) continue;
    sink.error(
      'dag.cycle',
      at[cycle[0]!]!,
      `dependency cycle in configcrate ${crate}: ${formatCycle(members)} (a → b: a runs after b); ${failed.map((n) => JSON.stringify(n)).join(', ')} also failed to load (reported separately)`,
      'depends_on, before, notify and subscribes all order resources; remove one edge of the loop',
    );
  }
}
