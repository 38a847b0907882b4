/**
 * A match entry's configcrate list and merged vars (docs/stacks.md "Resolution"):
 * crates come from common.vgo files (root first), then the entry's roles and configcrates, then its
 * environment's additions, minus its exclusions, then ordered by configcrate depends_on. Vars are
 * configcrate defaults < common.vgo (parent, then child) < match block < environments.vgo.
 */
import type { DiagnosticInput, Pos } from './diagnostics.ts';
import { topoSort } from './dag.ts';
import { inheritsFrom } from './layout.ts';
import type { CommonDef, EnvDef, LeafEntry, Ref, RoleDef, Stacks } from './model.ts';
import { withMarkers } from './secrets.ts';

export interface ResolvedCrate {
  name: string;
  /** Guard from a role `case:` group, or null when always included. */
  guard: string | null;
  guardAt?: Pos;
}

function depth(dir: string): number {
  return dir === '' ? 0 : dir.split('/').length;
}

function chainOf<T extends { dir: string }>(items: T[], dir: string): T[] {
  return items.filter((x) => inheritsFrom(dir, x.dir)).sort((a, b) => depth(a.dir) - depth(b.dir));
}

export function caseGuard(key: string, siblings: string[]): string | null {
  const test = (k: string): string => `os_family('${k}') || distro('${k}')`;
  if (key !== 'default') return test(key);
  const others = siblings.filter((k) => k !== 'default');
  return others.length === 0 ? null : `!(${others.map(test).join(' || ')})`;
}

class CrateList {
  readonly items = new Map<string, ResolvedCrate>();
  /** Every role applied, included ones too. */
  readonly roles = new Set<string>();

  add(name: string, guard: string | null, guardAt?: Pos): void {
    const found = this.items.get(name);
    if (!found) {
      this.items.set(name, { name, guard, ...(guardAt ? { guardAt } : {}) });
    } else if (found.guard !== null) {
      found.guard = guard === null ? null : found.guard === guard ? guard : `(${found.guard}) || (${guard})`;
    }
  }

  addRole(role: RoleDef | undefined, roles: Map<string, RoleDef>, nested = false): void {
    if (!role) return;
    this.roles.add(role.name);
    // Included roles come first: they are the foundation the including role builds on.
    if (!nested) for (const inc of role.includes) this.addRole(roles.get(inc.text), roles, true);
    for (const c of role.configcrates) this.add(c.text, null);
    const keys = role.cases.map((c) => c.key);
    for (const c of role.cases) {
      const guard = caseGuard(c.key, keys);
      for (const x of c.crates) this.add(x.text, guard, c.at);
    }
  }

  addRefs(refs: Ref[]): void {
    for (const r of refs) this.add(r.text, null);
  }
}

export interface ResolvedEntry {
  entry: LeafEntry;
  crates: ResolvedCrate[];
  vars: Record<string, unknown>;
  diagnostics: DiagnosticInput[];
}

/** Everything about an entry except its own vars; shared by entries with the same key. */
export interface ResolvedShape {
  crates: ResolvedCrate[];
  /** Configcrate defaults overlaid with common.vgo vars (parent, then child). */
  baseVars: Record<string, unknown>;
  /** environments.vgo vars (parent, then child), applied over the entry's own vars. */
  envVars: Record<string, unknown>;
  /** Every role applied (from common.vgo, the entry, and their includes). */
  roles: ReadonlySet<string>;
  diagnostics: DiagnosticInput[];
}

/** Entries in the same directory with the same environment, roles and configcrates resolve alike. */
export function shapeKey(entry: LeafEntry): string {
  const names = (refs: Ref[]): string => refs.map((r) => r.text).join(',');
  return `${entry.dir}\0${entry.environment?.text ?? ''}\0${names(entry.roles)}\0${names(entry.configcrates)}`;
}

export function resolveShape(entry: LeafEntry, stacks: Stacks): ResolvedShape {
  const commons: CommonDef[] = chainOf(stacks.commons, entry.dir);
  const envs: EnvDef[] = entry.environment
    ? chainOf(stacks.envFiles, entry.dir).flatMap((f) => {
        const e = f.envs.get(entry.environment!.text);
        return e ? [e] : [];
      })
    : [];
  const list = new CrateList();
  for (const c of commons) {
    for (const r of c.roles) list.addRole(stacks.roles.get(r.text), stacks.roles);
    list.addRefs(c.configcrates);
  }
  for (const r of entry.roles) list.addRole(stacks.roles.get(r.text), stacks.roles);
  list.addRefs(entry.configcrates);
  for (const e of envs) list.addRefs(e.configcrates);
  for (const e of envs) for (const x of e.exclude) list.items.delete(x.text);
  const present = [...list.items.values()].filter((c) => stacks.crates.has(c.name));
  const diagnostics: DiagnosticInput[] = [];
  const crates = orderByDependencies(present, stacks, diagnostics);
  const baseVars: Record<string, unknown> = {};
  for (const c of crates) Object.assign(baseVars, stacks.crates.get(c.name)!.vars);
  for (const c of commons) Object.assign(baseVars, c.vars);
  const envVars: Record<string, unknown> = {};
  for (const e of envs) Object.assign(envVars, e.vars);
  return { crates, baseVars, envVars, roles: list.roles, diagnostics };
}

/** The entry's merged vars: defaults < common.vgo < match block < environments.vgo, secrets as markers. */
export function entryVars(entry: LeafEntry, shape: ResolvedShape): Record<string, unknown> {
  return withMarkers({ ...shape.baseVars, ...entry.vars, ...shape.envVars });
}

export function resolveEntry(entry: LeafEntry, stacks: Stacks): ResolvedEntry {
  const shape = resolveShape(entry, stacks);
  return { entry, crates: shape.crates, vars: entryVars(entry, shape), diagnostics: shape.diagnostics };
}

function orderByDependencies(
  crates: ResolvedCrate[],
  stacks: Stacks,
  diagnostics: DiagnosticInput[],
): ResolvedCrate[] {
  const index = new Map(crates.map((c, i) => [c.name, i]));
  const deps = crates.map((c) => {
    const out: number[] = [];
    for (const d of stacks.crates.get(c.name)!.dependsOn) {
      const i = index.get(d.text);
      if (i !== undefined) out.push(i);
      else if (stacks.crates.has(d.text)) {
        diagnostics.push({
          code: 'configcrate.dependency_missing',
          at: d.at,
          message: `configcrate ${c.name} depends_on ${d.text}, but ${d.text} is not applied to this entry`,
          hint: `add ${d.text} to the same role or match block (depends_on orders configcrates; it does not include them)`,
        });
      }
    }
    return out;
  });
  const sorted = topoSort(crates.length, deps);
  // A configcrate cycle is reported once by the static checks; keep the written order here.
  return 'order' in sorted ? sorted.order.map((i) => crates[i]!) : crates;
}
