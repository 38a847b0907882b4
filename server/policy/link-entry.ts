/**
 * Links the configcrate instances of one entry: resolves references across configcrates
 * (`crate/resource`, or a bare name found in exactly one applied crate), orders everything
 * topologically (configcrate depends_on first, then resource edges) and reports cycles.
 */
import { didYouMean } from './diagnostics.ts';
import type { DiagnosticInput, Pos } from './diagnostics.ts';
import { formatCycle, topoSort } from './dag.ts';
import type { ExternalRef, InstanceResult } from './instance.ts';
import type { Stacks } from './model.ts';
import type { CompiledResource, EntryLink } from './types.ts';

export interface LinkInput {
  name: string;
  result: InstanceResult;
}

export interface LinkResult {
  links: EntryLink[];
  order: string[];
  diagnostics: DiagnosticInput[];
}

interface Node {
  label: string;
  crate: string;
  resource?: CompiledResource;
}

export function linkEntry(crates: LinkInput[], stacks: Stacks): LinkResult {
  const diagnostics: DiagnosticInput[] = [];
  const byCrate = new Map(crates.map((c) => [c.name, c]));
  const links: EntryLink[] = [];
  const declared = new Map<string, { kind: 'notify' | 'subscribes'; at: Pos }>();
  for (const c of crates) {
    for (const ext of c.result.externals) {
      const target = resolve(ext, c.name, byCrate, stacks, diagnostics);
      if (target) addLink(ext, target, links, declared, diagnostics);
    }
  }
  const { order, cycles } = sortEntry(crates, links, stacks);
  for (const cycle of cycles) {
    diagnostics.push({
      code: 'dag.cycle',
      at: cycle.at,
      message: `dependency cycle across configcrates: ${formatCycle(cycle.labels)} (a → b: a runs after b)`,
      hint: 'configcrate depends_on, depends_on, before, notify and subscribes all order resources; remove one edge of the loop',
    });
  }
  return { links, order, diagnostics };
}

function resolve(
  ext: ExternalRef,
  fromCrate: string,
  byCrate: Map<string, LinkInput>,
  stacks: Stacks,
  out: DiagnosticInput[],
): string | undefined {
  const slash = ext.text.indexOf('/');
  const crateName = slash > 0 ? ext.text.slice(0, slash) : '';
  if (crateName !== '' && !crateName.includes(':') && stacks.crates.has(crateName)) {
    return resolveQualified(ext, crateName, ext.text.slice(slash + 1), fromCrate, byCrate, out);
  }
  return resolveBare(ext, fromCrate, byCrate, stacks, out);
}

/** `configcrate/name`. */
function resolveQualified(
  ext: ExternalRef,
  crateName: string,
  name: string,
  fromCrate: string,
  byCrate: Map<string, LinkInput>,
  out: DiagnosticInput[],
): string | undefined {
  const c = byCrate.get(crateName);
  if (c?.result.dropped.has(name)) return undefined;
  const hit = c?.result.instance.resources.find((r) => r.name === name);
  if (hit) return hit.id;
  out.push({
    code: 'ref.unknown',
    at: ext.at,
    message: c
      ? `${ext.kind} ${JSON.stringify(ext.text)}: configcrate ${crateName} has no resource named ${JSON.stringify(name)}`
      : `${ext.kind} ${JSON.stringify(ext.text)}: configcrate ${crateName} is not applied together with ${fromCrate}`,
    hint: c
      ? didYouMean(
          name,
          c.result.instance.resources.map((r) => r.name),
        ) || 'check the resource name'
      : `add ${crateName} to the same role or match block, or drop the reference`,
  });
  return undefined;
}

/** A bare name found in another configcrate of the entry (preferring the ones declared in depends_on). */
function resolveBare(
  ext: ExternalRef,
  fromCrate: string,
  byCrate: Map<string, LinkInput>,
  stacks: Stacks,
  out: DiagnosticInput[],
): string | undefined {
  const others = [...byCrate.values()].filter((c) => c.name !== fromCrate);
  const hits = others.flatMap((c) => c.result.instance.resources.filter((x) => x.name === ext.text));
  if (hits.length === 1) return hits[0]!.id;
  if (hits.length > 1) {
    const declaredDeps = new Set(stacks.crates.get(fromCrate)?.dependsOn.map((d) => d.text));
    const preferred = hits.filter((h) => declaredDeps.has(h.id.slice(0, h.id.indexOf('/'))));
    if (preferred.length === 1) return preferred[0]!.id;
    out.push({
      code: 'ref.ambiguous',
      at: ext.at,
      message: `${ext.kind} ${JSON.stringify(ext.text)} matches resources in several configcrates: ${hits.map((h) => h.id).join(', ')}`,
      hint: `write it as <configcrate>/${ext.text}, e.g. ${hits[0]!.id}`,
    });
    return undefined;
  }
  if (others.some((c) => c.result.dropped.has(ext.text))) return undefined;
  const own = byCrate.get(fromCrate)?.result.instance.resources.map((r) => r.name) ?? [];
  const guess = didYouMean(ext.text, [
    ...own,
    ...others.flatMap((c) => c.result.instance.resources.map((r) => r.id)),
  ]);
  out.push({
    code: 'ref.unknown',
    at: ext.at,
    message: `${ext.kind} ${JSON.stringify(ext.text)} does not name a resource in configcrate ${fromCrate} or in any configcrate applied with it`,
    hint:
      guess ||
      'use the name: of a resource in this configcrate, or <configcrate>/<name> for one in another configcrate',
  });
  return undefined;
}

function addLink(
  ext: ExternalRef,
  target: string,
  links: EntryLink[],
  declared: Map<string, { kind: 'notify' | 'subscribes'; at: Pos }>,
  out: DiagnosticInput[],
): void {
  const from = ext.from;
  if (ext.kind === 'depends_on') links.push({ from, to: target, kind: 'depends_on' });
  else if (ext.kind === 'before') links.push({ from: target, to: from, kind: 'depends_on' });
  else {
    const pair = ext.kind === 'notify' ? `${from}\0${target}` : `${target}\0${from}`;
    const earlier = declared.get(pair);
    if (earlier && earlier.kind !== ext.kind) {
      const [a, b] = pair.split('\0');
      out.push({
        code: 'trigger.redundant',
        at: ext.at,
        message: `${a} notifies ${b} and ${b} also subscribes to ${a}: the same trigger is declared twice`,
        hint: `keep one: notify on ${a} or subscribes on ${b}`,
      });
      return;
    }
    declared.set(pair, { kind: ext.kind, at: ext.at });
    const [a, b] = pair.split('\0') as [string, string];
    links.push({ from: a, to: b, kind: 'notify' });
  }
}

function sortEntry(
  crates: LinkInput[],
  links: EntryLink[],
  stacks: Stacks,
): { order: string[]; cycles: { labels: string[]; at: Pos }[] } {
  const nodes: Node[] = [];
  const index = new Map<string, number>();
  const barrier = new Map<string, number>();
  for (const c of crates) {
    for (const r of c.result.instance.resources) {
      index.set(r.id, nodes.length);
      nodes.push({ label: r.id, crate: c.name, resource: r });
    }
    barrier.set(c.name, nodes.length);
    nodes.push({ label: `(all of configcrate ${c.name})`, crate: c.name });
  }
  const deps: number[][] = nodes.map(() => []);
  const addDep = (v: number | undefined, d: number | undefined): void => {
    if (v !== undefined && d !== undefined) deps[v]!.push(d);
  };
  for (const c of crates) {
    const b = barrier.get(c.name)!;
    const crateDeps = stacks.cyclicCrates.has(c.name)
      ? []
      : (stacks.crates.get(c.name)?.dependsOn ?? [])
          .map((d) => barrier.get(d.text))
          .filter((x) => x !== undefined);
    for (const r of c.result.instance.resources) {
      const v = index.get(r.id)!;
      addDep(b, v);
      for (const d of crateDeps) addDep(v, d);
      for (const d of r.dependsOn) addDep(v, index.get(d));
      for (const n of r.notify) addDep(index.get(n), v);
    }
  }
  for (const l of links) {
    if (l.kind === 'depends_on') addDep(index.get(l.from), index.get(l.to));
    else addDep(index.get(l.to), index.get(l.from));
  }
  const sorted = topoSort(nodes.length, deps);
  if ('order' in sorted)
    return { order: sorted.order.filter((i) => nodes[i]!.resource).map((i) => nodes[i]!.label), cycles: [] };
  // Loops inside one configcrate are reported with the configcrate; only report the ones spanning several.
  const cycles = sorted.cycles
    .filter((cy) => new Set(cy.map((i) => nodes[i]!.crate)).size > 1)
    .map((cy) => ({ labels: cy.map((i) => nodes[i]!.label), at: atOf(nodes[cy[0]!]!, stacks) }));
  const fallback = nodes.filter((n) => n.resource).map((n) => n.label);
  return { order: fallback, cycles };
}

function atOf(node: Node, stacks: Stacks): Pos {
  const crate = stacks.crates.get(node.crate);
  const name = node.resource?.name;
  const def = crate?.resources.find((r) => r.name?.text === name) ?? crate?.resources[0];
  return def?.at ?? crate?.at ?? { file: '', line: 1, col: 1 };
}
