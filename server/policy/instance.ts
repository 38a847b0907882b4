/**
 * A configcrate compiled for one set of variable values: foreach expanded, resources stamped,
 * references inside the crate resolved, the rest kept for the entry linker. Instances are cached by
 * the values of the variables the crate reads, so entries that agree on them share one instance.
 */
import { canonicalJson, sha256Hex } from './canonical.ts';
import type { DiagnosticInput, Pos } from './diagnostics.ts';
import { findCycles, formatCycle } from './dag.ts';
import type { CrateDef, ForeachSpec, RefKind, ResourceDef } from './model.ts';
import { collectMarkers, findSecretRefs } from './secrets.ts';
import { stampResource } from './stamp.ts';
import type { StampCount, StampEnv, Stamped } from './stamp.ts';
import { stackLimits } from './limits.ts';
import type { CompiledResource, CrateInstance } from './types.ts';

export interface ExternalRef {
  from: string;
  kind: RefKind;
  text: string;
  at: Pos;
}

export interface InstanceResult {
  instance: CrateInstance;
  externals: ExternalRef[];
  /** Names of resources a `when:` dropped for these values; references to them are ignored. */
  dropped: Set<string>;
  diagnostics: DiagnosticInput[];
  failed: boolean;
  /** The resource graph (ids, edges, unresolved references, dropped names) as a string, for link caching. */
  shape: string;
  /** Length of the instance's JSON: what it adds to the bundle of every entry that uses it. */
  chars: number;
  /** Resources stamped for it (counted against limits.ts compileMaxResources). */
  stamps: number;
}

/**
 * The JSON of each compiled instance's resources, exactly as hashed: encoding a snapshot writes it
 * instead of serializing the resources a second time. Instances parsed from a stored body have none.
 */
const resourcesJson = new WeakMap<CrateInstance, string>();

export function compiledResourcesJson(instance: CrateInstance): string | undefined {
  return resourcesJson.get(instance);
}

/** Cache key: the configcrate plus the values of exactly the variables it reads. */
export function instanceKey(crate: CrateDef, vars: Record<string, unknown>): string {
  if (crate.readsAllVars) return `${crate.name}\0*\0${canonicalJson(vars)}`;
  const values = crate.varsUsed.map((v) => (v in vars ? canonicalJson(vars[v]) : '~'));
  return `${crate.name}\0${values.join('\0')}`;
}

function foreachItems(
  spec: ForeachSpec | undefined,
  vars: Record<string, unknown>,
  env: StampEnv,
  report: (d: DiagnosticInput) => void,
): unknown[] | undefined {
  if (!spec) return [undefined];
  if (spec.list) return checkItemCount(spec.list, spec, report);
  const name = spec.varName ?? '';
  const value = vars[name];
  if (Array.isArray(value)) return checkItemCount(value as unknown[], spec, report);
  if (value === undefined && env.lint) return [];
  report({
    code: value === undefined ? 'var.undefined' : 'foreach.not_list',
    at: spec.at,
    message:
      value === undefined
        ? `foreach: reads variable "${name}", which is not defined`
        : `foreach: variable "${name}" must be a list, got ${typeof value === 'object' && value !== null ? 'a mapping' : JSON.stringify(value)}`,
    hint: `define ${name} as a YAML list, e.g. ${name}: [a, b]`,
  });
  return undefined;
}

function checkItemCount(
  items: unknown[],
  spec: ForeachSpec,
  report: (d: DiagnosticInput) => void,
): unknown[] | undefined {
  if (items.length <= stackLimits.foreachMaxItems) return items;
  report({
    code: 'foreach.too_many_items',
    at: spec.at,
    message: `foreach: ${spec.varName === undefined ? 'the list' : `variable "${spec.varName}"`} has ${items.length} items; one foreach may loop over at most ${stackLimits.foreachMaxItems}`,
    hint: 'split the list over several resources or configcrates, or manage the items with one resource that takes a list',
  });
  return undefined;
}

export function compileInstance(
  crate: CrateDef,
  vars: Record<string, unknown>,
  env: StampEnv,
): InstanceResult {
  const diagnostics: DiagnosticInput[] = [];
  let failed = crate.broken;
  const report = (d: DiagnosticInput): void => {
    diagnostics.push(d);
    if ((d.severity ?? 'error') === 'error') failed = true;
  };
  const stamped = stampAll(crate, vars, env, report);
  if (stamped.failed) failed = true;
  const { resources, externals, kept } = link(crate, stamped.list, stamped.dropped, report);
  const shape = shapeOf(crate, resources, externals, stamped.dropped);
  // A fixed graph already checked in this compile, for instances that failed nothing: same origins,
  // and no cycle (one would have failed that instance).
  const cache = env.lint || !crate.fixedShape ? undefined : env.cache;
  let origins = failed ? undefined : cache?.byShape.get(shape);
  if (origins === undefined) {
    checkCycles(
      crate,
      resources,
      kept.map((k) => k.s),
      report,
    );
    origins = originsOf(crate, stamped.list);
    if (!failed) cache?.byShape.set(shape, origins);
  }
  // Equal to JSON.stringify({ configcrate, resources }), with the resources' part kept for the encoder.
  const resourcesText = JSON.stringify(resources);
  const json = `{"configcrate":${JSON.stringify(crate.name)},"resources":${resourcesText}}`;
  // The encoder writes these members in this order (snapshot-encoded.ts instanceJson).
  const instance: CrateInstance = {
    hash: sha256Hex(json),
    configcrate: crate.name,
    resources,
    origins,
    secretPaths: secretPathsOf(crate, resources, vars),
    usesTraits: resources.some((r) => r.deferred.length > 0 || r.case !== null),
  };
  resourcesJson.set(instance, resourcesText);
  return {
    instance,
    externals,
    dropped: stamped.dropped,
    diagnostics,
    failed,
    shape,
    chars: json.length,
    stamps: stamped.stamps,
  };
}

function stampAll(
  crate: CrateDef,
  vars: Record<string, unknown>,
  env: StampEnv,
  report: (d: DiagnosticInput) => void,
): { list: Stamped[]; dropped: Set<string>; failed: boolean; stamps: number } {
  const list: Stamped[] = [];
  const dropped = new Set<string>(crate.brokenResourceNames);
  env.stamped.renderedChars = 0;
  const budget = new StampBudget(crate, env.stamped, report);
  if (!budget.ok()) return { list, dropped, failed: true, stamps: 0 };
  let failed = false;
  for (const crateItem of foreachItems(crate.foreach, vars, env, report) ?? []) {
    for (const def of crate.resources) {
      const items = def.foreach ? (foreachItems(def.foreach, vars, env, report) ?? []) : [crateItem];
      for (const item of items) {
        if (!budget.take(def)) return { list, dropped, failed: true, stamps: budget.taken };
        const r = env.cache
          ? env.cache.stamp(def, item, vars, env, report)
          : stampResource(def, item, vars, env, report);
        if (r.kind === 'ok') list.push(r.stamped);
        else if (r.kind === 'dropped' && r.name !== undefined) dropped.add(r.name);
        else if (r.kind === 'failed') failed = true;
      }
    }
  }
  return { list, dropped, failed, stamps: budget.taken };
}

/** Counts stamps against the per-instance and whole-validation limits (limits.ts). */
class StampBudget {
  /** Stamps this instance took. */
  taken = 0;

  constructor(
    private readonly crate: CrateDef,
    private readonly total: StampCount,
    private readonly report: (d: DiagnosticInput) => void,
  ) {}

  ok(): boolean {
    if (this.total.exceededAt === undefined) return true;
    this.reportTotal(this.total.exceededAt);
    return false;
  }

  take(def: ResourceDef): boolean {
    const at = def.foreach?.at ?? this.crate.foreach?.at ?? def.at;
    if (++this.taken > stackLimits.foreachMaxResources) {
      this.report({
        code: 'foreach.too_many_resources',
        at,
        message: `configcrate ${this.crate.name} stamps more than ${stackLimits.foreachMaxResources} resources for one set of variables (its foreach loops multiplied)`,
        hint: 'shorten the lists, or split the configcrate so that fewer resources are stamped per entry',
      });
      return false;
    }
    // Templates are what can make an instance large; past an entry's limit it can never be served.
    if (this.total.renderedChars > stackLimits.entryMaxChars) {
      this.report({
        code: 'entry.too_large',
        at: this.crate.at,
        message: `configcrate ${this.crate.name} renders more than ${stackLimits.entryMaxChars} characters for one set of variables; an entry may compile to at most that (its bundle travels in one message)`,
        hint: 'move large file contents out of the stack (source: an https:// URL the agent downloads), or split the configcrate',
      });
      return false;
    }
    if (++this.total.count > stackLimits.compileMaxResources) {
      this.total.exceededAt ??= at;
      this.reportTotal(this.total.exceededAt);
      return false;
    }
    return true;
  }

  private reportTotal(at: Pos): void {
    this.report({
      code: 'compile.too_many_resources',
      at,
      message: `the stacks stamp more than ${stackLimits.compileMaxResources} resources in all; validation stopped here`,
      hint: 'configcrates compiled per entry (per-host variables, foreach over large lists) multiply: share instances or shorten the lists',
    });
  }
}

function secretPathsOf(
  crate: CrateDef,
  resources: CompiledResource[],
  vars: Record<string, unknown>,
): string[] {
  const paths = new Set<string>();
  for (const r of resources) {
    collectMarkers([r.params, r.case, r.onRevert, r.when], paths);
    for (const d of r.deferred) for (const ref of findSecretRefs(d.text)) paths.add(ref.path);
    if (r.deferred.length > 0) for (const v of crate.varsUsed) collectMarkers(vars[v], paths);
  }
  return [...paths].sort();
}

/** `file:line` per resource id, keys sorted (so JSON.stringify is canonical). */
function originsOf(crate: CrateDef, stamped: Stamped[]): Record<string, string> {
  const origins: Record<string, string> = {};
  for (const s of [...stamped].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    origins[`${crate.name}/${s.name}`] ??= `${s.def.file}:${s.def.at.line}`;
  }
  return origins;
}

function shapeOf(
  crate: CrateDef,
  resources: CompiledResource[],
  externals: ExternalRef[],
  dropped: Set<string>,
): string {
  const gone = [...dropped].sort().join('\u0002');
  // Without foreach or templated names and references, the graph is fixed by the configcrate itself.
  if (crate.fixedShape) return `${crate.name}\u0003${gone}`;
  return [
    ...resources.map((r) => `${r.id}\u0001${r.dependsOn.join('\u0002')}\u0001${r.notify.join('\u0002')}`),
    ...externals.map(
      (x) => `${x.from}\u0001${x.kind}\u0001${x.text}\u0001${x.at.file}:${x.at.line}:${x.at.col}`,
    ),
    gone,
  ].join('\u0003');
}

/** Keys in sorted order (and sorted params): `JSON.stringify` of a resource is its canonical JSON. */
function toResource(crate: string, s: Stamped): CompiledResource {
  return {
    case: s.caseOverrides,
    deferred: s.deferred,
    dependsOn: [],
    id: `${crate}/${s.name}`,
    item: s.deferred.length > 0 ? s.item : undefined,
    name: s.name,
    notify: [],
    onRevert: s.onRevert,
    onlyWhenNotified: s.def.onlyWhenNotified,
    params: s.params,
    revert: s.def.revert,
    type: s.def.type,
    when: s.when,
    whenUsesTraits: s.whenUsesTraits,
  };
}

interface Kept {
  s: Stamped;
  r: CompiledResource;
}

function link(
  crate: CrateDef,
  stamped: Stamped[],
  dropped: Set<string>,
  report: (d: DiagnosticInput) => void,
): { resources: CompiledResource[]; externals: ExternalRef[]; kept: Kept[] } {
  const kept = unique(crate, stamped, report);
  const externals = connect(crate, kept, dropped, report);
  const resources = kept.map((k) => k.r);
  for (const r of resources) {
    r.dependsOn = distinct(r.dependsOn);
    r.notify = distinct(r.notify);
  }
  return { resources, externals, kept };
}

/** The list without repeats, in first-seen order (edge lists are short: no Set for them). */
function distinct(list: string[]): string[] {
  if (list.length < 2) return list;
  if (list.length > 16) return [...new Set(list)];
  const out: string[] = [];
  for (const x of list) if (!out.includes(x)) out.push(x);
  return out;
}

/** One resource per name; stamped duplicates are reported (literal ones were, at load). */
function unique(crate: CrateDef, stamped: Stamped[], report: (d: DiagnosticInput) => void): Kept[] {
  const names = new Set<string>();
  const kept: Kept[] = [];
  for (const s of stamped) {
    if (!names.has(s.name)) {
      names.add(s.name);
      kept.push({ s, r: toResource(crate.name, s) });
      continue;
    }
    if (s.def.name && !s.def.name.tpl && !s.def.foreach && !crate.foreach) continue;
    report({
      code: 'resource.duplicate_name',
      at: s.def.name?.at ?? s.def.at,
      message: `configcrate ${crate.name} has two resources named ${JSON.stringify(s.name)}`,
      hint:
        s.def.foreach || crate.foreach
          ? 'inside foreach, put {{ .Item }} in the name, e.g. name: "pkg-{{ .Item }}"'
          : 'resource names must be unique within a configcrate; add or change name:',
    });
  }
  return kept;
}

/** Applies references inside the configcrate; returns the ones the entry linker must resolve. */
function connect(
  crate: CrateDef,
  kept: Kept[],
  dropped: Set<string>,
  report: (d: DiagnosticInput) => void,
): ExternalRef[] {
  const byName = new Map(kept.map((k) => [k.r.name, k.r]));
  const prefix = `${crate.name}/`;
  const local = (text: string): string =>
    text.startsWith(prefix) && byName.has(text.slice(prefix.length)) ? text.slice(prefix.length) : text;
  const externals: ExternalRef[] = [];
  const notified = new Map<string, Pos>();
  const subscribed = new Map<string, Pos>();
  for (const { s, r } of kept) {
    for (const ref of s.refs) {
      const name = local(ref.text);
      const target = byName.get(name);
      if (!target) {
        if (!dropped.has(name)) externals.push({ from: r.id, kind: ref.kind, text: ref.text, at: ref.at });
      } else if (target === r) {
        report({
          code: 'ref.self',
          at: ref.at,
          message: `resource ${JSON.stringify(r.name)} lists itself in ${ref.kind}`,
          hint: `remove ${JSON.stringify(ref.text)} from ${ref.kind}`,
        });
      } else {
        applyEdge(ref.kind, r, target, ref.at, notified, subscribed);
      }
    }
  }
  reportRedundant(notified, subscribed, report);
  return externals;
}

function reportRedundant(
  notified: Map<string, Pos>,
  subscribed: Map<string, Pos>,
  report: (d: DiagnosticInput) => void,
): void {
  for (const [pair, at] of subscribed) {
    if (!notified.has(pair)) continue;
    const [from, to] = pair.split('\0');
    report({
      code: 'trigger.redundant',
      at,
      message: `${from} notifies ${to} and ${to} also subscribes to ${from}: the same trigger is declared twice`,
      hint: `keep one: notify on ${from} or subscribes on ${to}`,
    });
  }
}

function applyEdge(
  kind: RefKind,
  r: CompiledResource,
  t: CompiledResource,
  at: Pos,
  notified: Map<string, Pos>,
  subscribed: Map<string, Pos>,
): void {
  if (kind === 'depends_on') r.dependsOn.push(t.id);
  else if (kind === 'before') t.dependsOn.push(r.id);
  else if (kind === 'notify') {
    r.notify.push(t.id);
    notified.set(`${r.id}\0${t.id}`, at);
  } else {
    t.notify.push(r.id);
    subscribed.set(`${t.id}\0${r.id}`, at);
  }
}

function checkCycles(
  crate: CrateDef,
  resources: CompiledResource[],
  stamped: Stamped[],
  report: (d: DiagnosticInput) => void,
): void {
  const index = new Map(resources.map((r, i) => [r.id, i]));
  const deps: number[][] = resources.map(() => []);
  resources.forEach((r, i) => {
    for (const d of r.dependsOn) deps[i]!.push(index.get(d)!);
    for (const n of r.notify) deps[index.get(n)!]!.push(i);
  });
  for (const cycle of findCycles(resources.length, deps)) {
    report({
      code: 'dag.cycle',
      at: stamped[cycle[0]!]!.def.at,
      message: `dependency cycle in configcrate ${crate.name}: ${formatCycle(cycle.map((i) => resources[i]!.name))} (a → b: a runs after b)`,
      hint: 'depends_on, before, notify and subscribes all order resources; remove one edge of the loop',
    });
  }
}
