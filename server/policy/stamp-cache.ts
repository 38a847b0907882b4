/**
 * Work one compile shares between configcrate instances. An instance is compiled for each distinct set
 * of values of the variables its configcrate reads, but most of its resources read only some of those
 * variables (or none): a resource stamped for the same values of the variables *it* reads stamps the
 * same, so it is stamped once per compile. And in a configcrate whose resource graph is fixed, instances
 * with the same graph have the same origins and the same cycles, found once.
 *
 * Only clean results are kept: a stamp that reported anything, or an instance that failed, is redone
 * for every instance, so every diagnostic is reported exactly as without the cache.
 */
import { canonicalJson } from './canonical.ts';
import type { DiagnosticInput } from './diagnostics.ts';
import type { ResourceDef } from './model.ts';
import { stampResource } from './stamp.ts';
import type { StampEnv, StampResult } from './stamp.ts';

interface DefSlot {
  /** The variables the resource reads, sorted; null when a template reads .Vars as a whole. */
  readonly vars: readonly string[] | null;
  readonly results: Map<string, { result: StampResult; renderedChars: number }>;
}

/** The variables a resource's templates, name, source, references and when: read (null: all of them). */
function varsReadBy(def: ResourceDef): string[] | null {
  const used = new Set<string>();
  const templates = [
    ...def.templates.map((t) => t.tpl),
    def.name?.tpl,
    def.sourceFile?.tpl,
    ...def.refs.map((r) => r.tpl),
  ];
  for (const tpl of templates) {
    if (tpl === undefined) continue;
    if (tpl.readsAllVars) return null;
    tpl.varsUsed.forEach((v) => used.add(v));
  }
  def.when?.expr.varsUsed.forEach((v) => used.add(v));
  return [...used].sort();
}

export class CompileCache {
  private readonly defs = new WeakMap<ResourceDef, DefSlot>();
  /** Origins by configcrate shape (instance.ts shapeOf), for fixed-graph instances that failed nothing. */
  readonly byShape = new Map<string, Record<string, string>>();

  /** stampResource, or the result of stamping this resource for the same values before. */
  stamp(
    def: ResourceDef,
    item: unknown,
    vars: Record<string, unknown>,
    env: StampEnv,
    report: (d: DiagnosticInput) => void,
  ): StampResult {
    // Linting stamps with defaults only, and foreach items are not part of the key: stamp directly.
    if (env.lint || item !== undefined || def.foreach !== undefined)
      return stampResource(def, item, vars, env, report);
    let slot = this.defs.get(def);
    if (slot === undefined) {
      slot = { vars: varsReadBy(def), results: new Map() };
      this.defs.set(def, slot);
    }
    if (slot.vars === null) return stampResource(def, item, vars, env, report);
    const key = slot.vars.map((v) => (v in vars ? canonicalJson(vars[v]) : '~')).join('\0');
    const known = slot.results.get(key);
    if (known !== undefined) {
      env.stamped.renderedChars += known.renderedChars;
      return known.result;
    }
    const before = env.stamped.renderedChars;
    let reported = false;
    const result = stampResource(def, item, vars, env, (d) => {
      reported = true;
      report(d);
    });
    if (!reported && result.kind !== 'failed')
      slot.results.set(key, { result, renderedChars: env.stamped.renderedChars - before });
    return result;
  }
}
