/** Loaded stacks → CompiledSnapshot (docs/bundle-format.md describes the result). */
import type { DiagnosticInput, DiagnosticSink, Pos } from './diagnostics.ts';
import { evaluateWhen, parseWhenAt } from './engines.ts';
import { compileInstance, instanceKey } from './instance.ts';
import type { InstanceResult } from './instance.ts';
import type { InstanceCarry } from './carry.ts';
import { stackLimits } from './limits.ts';
import { linkEntry } from './link-entry.ts';
import { StaticNames } from './lint-refs.ts';
import { MerkleBuilder, graphLeaf } from './merkle.ts';
import type { LinkResult } from './link-entry.ts';
import type { CrateDef, LeafEntry, Stacks } from './model.ts';
import { entryVars, resolveShape, shapeKey } from './resolve-entry.ts';
import type { ResolvedEntry, ResolvedShape } from './resolve-entry.ts';
import { resolveClaims } from './parse-compliance.ts';
import { SnapshotImpl } from './snapshot.ts';
import type { StampEnv } from './stamp.ts';
import { CompileCache } from './stamp-cache.ts';
import type { CompiledQuery } from './parse-queries.ts';
import type { CompiledTask } from './parse-tasks.ts';
import type { CompiledEntry, CompiledSnapshot, CrateInstance } from './types.ts';

export interface CompileEnv {
  protectedPaths: string[];
  protectedServices: string[];
  nowMs: number;
  /** The snapshot is only serialized (see ValidateOptions.forTransfer): it need not be frozen. */
  forTransfer?: boolean;
  /** Instances an earlier compile in this process made, taken when their inputs are unchanged. */
  carry?: InstanceCarry;
}

class Compiler {
  private readonly instances = new Map<string, InstanceResult>();
  private readonly links = new Map<string, LinkResult & { graph: Buffer }>();
  private readonly merkle: MerkleBuilder;
  readonly tasks: Record<string, CompiledTask> = {};
  readonly queries: Record<string, CompiledQuery> = {};
  private readonly guards = new Map<string, string | null>();
  private readonly usedCrates = new Set<string>();
  private readonly ids = new Map<string, number>();
  private readonly shapes = new Map<string, number>();
  private readonly shapeIds = new WeakMap<InstanceResult, number>();
  private readonly resolved = new Map<
    string,
    ResolvedShape & { sharedInstances: (InstanceResult | undefined)[]; tasks: string[] | undefined }
  >();
  private readonly stamp: StampEnv;
  private readonly carry: InstanceCarry | undefined;

  constructor(
    private readonly stacks: Stacks,
    private readonly sink: DiagnosticSink,
    env: CompileEnv,
  ) {
    for (const t of [...stacks.tasks].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
      this.tasks[t.name] = t.task;
    for (const q of [...stacks.queries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
      this.queries[q.name] = q.query;
    this.merkle = new MerkleBuilder(this.tasks, this.queries);
    this.stamp = {
      protectedPaths: env.protectedPaths,
      protectedServices: env.protectedServices,
      lint: false,
      stamped: { count: 0, renderedChars: 0 },
      cache: new CompileCache(),
    };
    this.carry = env.carry;
  }

  entries(): CompiledEntry[] {
    return this.stacks.entries.map((e, index) => this.entry(e, index));
  }

  usedInstances(entries: CompiledEntry[]): Map<string, CrateInstance> {
    const out = new Map<string, CrateInstance>();
    const byHash = new Map<string, CrateInstance>();
    for (const r of this.instances.values()) byHash.set(r.instance.hash, r.instance);
    for (const e of entries) for (const c of e.configcrates) out.set(c.instance, byHash.get(c.instance)!);
    return out;
  }

  /** Configcrates no entry applies are still checked, with their defaults only. */
  lintUnused(): void {
    let names: StaticNames | undefined;
    for (const crate of this.stacks.crates.values()) {
      if (this.usedCrates.has(crate.name)) continue;
      this.sink.info(
        'configcrate.unused',
        crate.at,
        `configcrate ${crate.name} is not applied by any match block`,
        'add it to a role, a match block, a common.vgo or an environment if it should run somewhere',
      );
      const result = compileInstance(crate, crate.vars, { ...this.stamp, lint: true });
      for (const d of result.diagnostics) this.sink.add(d);
      (names ??= new StaticNames(this.stacks)).check(crate.name, result.externals, this.sink);
    }
  }

  private entry(e: LeafEntry, index: number): CompiledEntry {
    const id = this.entryId(e);
    const resolved = this.resolve(e);
    const replay = (d: DiagnosticInput): void => this.sink.addForEntry(d, id);
    resolved.diagnostics.forEach(replay);
    const shared = resolved.sharedInstances;
    const results = resolved.crates.map((c, i) => {
      this.usedCrates.add(c.name);
      const crate = this.stacks.crates.get(c.name)!;
      // A configcrate none of whose variables this entry overrides compiles exactly as it did for
      // every other entry of the same shape: skip computing its instance key.
      const own = crate.readsAllVars || crate.varsUsed.some((v) => Object.hasOwn(e.vars, v));
      let result = own ? undefined : shared[i];
      if (!result) {
        result = this.instance(c.name, resolved.vars);
        if (!own) shared[i] = result;
      }
      return { name: c.name, result };
    });
    results.forEach((r) => r.result.diagnostics.forEach(replay));
    this.checkSize(e, results);
    // Linking depends only on the shape of the resource graph, shared by entries whose params differ.
    const linkKey = results.map((r) => this.shapeId(r.result)).join(',');
    let link = this.links.get(linkKey);
    if (!link) {
      const linked = linkEntry(results, this.stacks);
      link = { ...linked, graph: graphLeaf(linked.order, linked.links) };
      this.links.set(linkKey, link);
    }
    link.diagnostics.forEach(replay);
    return this.assemble(id, index, e, resolved, results, link);
  }

  /** An entry's bundle must fit in one gRPC message; its instances' JSON is what it carries. */
  private checkSize(e: LeafEntry, results: { name: string; result: InstanceResult }[]): void {
    // A failed instance is already reported (possibly for being too large itself).
    if (results.some((r) => r.result.failed)) return;
    let chars = 0;
    for (const r of results) chars += r.result.chars;
    if (chars <= stackLimits.entryMaxChars) return;
    const largest = [...results].sort((a, b) => b.result.chars - a.result.chars)[0];
    this.sink.error(
      'entry.too_large',
      e.at,
      `this match entry compiles to ${chars} characters of resources; an entry may compile to at most ${stackLimits.entryMaxChars} (its bundle travels in one message)${largest ? `; the largest part is configcrate ${largest.name} (${largest.result.chars})` : ''}`,
      'move large file contents out of the stack (source: an https:// URL the agent downloads), or split the entry',
    );
  }

  private assemble(
    id: string,
    index: number,
    e: LeafEntry,
    resolved: ResolvedEntry & { tasks: string[] | undefined },
    results: { name: string; result: InstanceResult }[],
    link: LinkResult & { graph: Buffer },
  ): CompiledEntry {
    const configcrates = resolved.crates.map((c, i) => ({
      name: c.name,
      instance: results[i]!.result.instance.hash,
      when: c.guard,
    }));
    const secrets = new Set<string>();
    for (const r of results) r.result.instance.secretPaths.forEach((p) => secrets.add(p));
    const tasks = resolved.tasks;
    const merkleRoot = this.merkle.root(
      {
        observeOnly: e.observeOnly,
        vars: resolved.vars,
        configcrates,
        order: link.order,
        links: link.links,
        tasks,
      },
      link.graph,
    );
    return {
      id,
      file: e.file,
      line: e.at.line,
      index,
      patterns: e.patterns.map((p) => p.text),
      environment: e.environment?.text ?? null,
      observeOnly: e.observeOnly,
      configcrates,
      vars: resolved.vars,
      links: link.links,
      order: link.order,
      secretPaths: [...secrets].sort(),
      usesTraits: results.some((r) => r.result.instance.usesTraits),
      merkleRoot,
      ...(tasks === undefined ? {} : { tasks }),
    };
  }

  /** Small stable number per distinct graph shape, so link-cache keys stay short. */
  private shapeId(result: InstanceResult): number {
    let id = this.shapeIds.get(result);
    if (id === undefined) {
      id = this.shapes.get(result.shape);
      if (id === undefined) {
        id = this.shapes.size;
        this.shapes.set(result.shape, id);
      }
      this.shapeIds.set(result, id);
    }
    return id;
  }

  private instance(name: string, vars: Record<string, unknown>): InstanceResult {
    const crate = this.stacks.crates.get(name)!;
    const key = instanceKey(crate, vars);
    let r = this.instances.get(key);
    if (r) return r;
    r = this.carried(crate, key);
    if (!r) {
      r = compileInstance(crate, vars, this.stamp);
      this.carry?.keep(crate, key, r);
    }
    this.instances.set(key, r);
    return r;
  }

  /** A clean instance an earlier compile made from the same inputs, its stamps counted as if made now. */
  private carried(crate: CrateDef, key: string): InstanceResult | undefined {
    const r = this.carry?.take(crate, key);
    if (r === undefined) return undefined;
    const count = this.stamp.stamped;
    // Past the limit, compiling it reports the limit where a compile from scratch would.
    if (count.exceededAt !== undefined || count.count + r.stamps > stackLimits.compileMaxResources)
      return undefined;
    count.count += r.stamps;
    return r;
  }

  private resolve(e: LeafEntry): ResolvedEntry & {
    sharedInstances: (InstanceResult | undefined)[];
    tasks: string[] | undefined;
  } {
    const key = shapeKey(e);
    let shape = this.resolved.get(key);
    if (!shape) {
      const fresh = resolveShape(e, this.stacks);
      this.canonicalGuards(e, fresh);
      shape = { ...fresh, sharedInstances: [], tasks: this.tasksFor(fresh.roles) };
      this.resolved.set(key, shape);
    }
    return {
      entry: e,
      crates: shape.crates,
      vars: entryVars(e, shape),
      diagnostics: shape.diagnostics,
      sharedInstances: shape.sharedInstances,
      tasks: shape.tasks,
    };
  }

  /** The named tasks an entry with these roles carries: those naming none of its roles are left out. */
  private tasksFor(roles: ReadonlySet<string>): string[] | undefined {
    const names = Object.keys(this.tasks).filter((name) => {
      const wanted = this.tasks[name]!.roles;
      return wanted.length === 0 || wanted.some((role) => roles.has(role));
    });
    return names.length === 0 ? undefined : names;
  }

  /** Role case guards in the canonical form the when engine prints (checked once per distinct guard). */
  private canonicalGuards(e: LeafEntry, resolved: ResolvedShape): void {
    for (const c of resolved.crates) {
      if (c.guard === null) continue;
      let canonical = this.guards.get(c.guard);
      if (canonical === undefined) {
        const at: Pos = c.guardAt ?? { file: e.file, line: e.at.line, col: 1 };
        const report = (d: DiagnosticInput): void => this.sink.add(d);
        const expr = parseWhenAt(c.guard, at, report);
        const result = expr ? evaluateWhen(expr, { vars: {} }, at, report) : undefined;
        canonical = result?.kind === 'residual' ? result.text : result?.kind === 'true' ? null : c.guard;
        this.guards.set(c.guard, canonical);
      }
      c.guard = canonical;
    }
  }

  private entryId(e: LeafEntry): string {
    const base = `${e.file}[${e.patterns[0]?.text ?? ''}]`;
    const n = (this.ids.get(base) ?? 0) + 1;
    this.ids.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  }
}

/** Compiles every entry; returns the snapshot only when nothing reported an error. */
export function compileStacks(
  stacks: Stacks,
  sink: DiagnosticSink,
  env: CompileEnv,
): CompiledSnapshot | undefined {
  const compiler = new Compiler(stacks, sink, env);
  env.carry?.begin(env);
  const entries = compiler.entries();
  env.carry?.end();
  compiler.lintUnused();
  if (sink.hasErrors()) return undefined;
  return new SnapshotImpl(
    {
      compiledAtMs: env.nowMs,
      instances: compiler.usedInstances(entries),
      entries,
      compliance: {
        claims: resolveClaims(stacks.crates.values(), stacks.claimsFiles),
        waivers: stacks.waivers,
      },
      tasks: compiler.tasks,
      workflows: Object.fromEntries(
        [...stacks.workflows]
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .map((w) => [w.name, w.workflow]),
      ),
      queries: compiler.queries,
    },
    undefined,
    { freeze: env.forTransfer !== true },
  );
}
