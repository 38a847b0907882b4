/**
 * CompiledEntry (+ the envoy's traits) → the JSON document the agent applies
 * (docs/bundle-format.md). Trait-dependent templates, `case:` overrides, role case guards and
 * trait-only `when:` expressions are decided here when traits are given; otherwise the residual
 * expressions travel to the agent.
 */
import { VigoError } from '../core/index.ts';
import { canonicalJson, cloneJson, sha256Hex } from './canonical.ts';
import type { CompiledTask } from './parse-tasks.ts';
import { RenderBudget, compileTemplate } from './template/index.ts';
import type { CompiledTemplate } from './template/index.ts';
import { parseWhen, partialEvaluateWhen } from './when/index.ts';
import type { WhenExpr } from './when/index.ts';
import { normalizeParams } from './names.ts';
import { collectMarkers, replaceSecretRefs } from './secrets.ts';
import { snapshotOf } from './snapshot.ts';
import type { EntryOwner } from './snapshot.ts';
import type {
  BundleDocument,
  BundleOptions,
  BundleResource,
  CompiledEntry,
  CompiledResource,
  DeferredTemplate,
} from './types.ts';
import { isRecord } from './yaml-source.ts';

type Decision = { drop: true } | { drop: false; when: string | null };

function cached<T>(snap: EntryOwner, key: string, make: () => T): T {
  const hit = snap.engineCache.get(key);
  if (hit !== undefined) return hit as T;
  const made = make();
  snap.engineCache.set(key, made);
  return made;
}

function whenOf(snap: EntryOwner, text: string): WhenExpr {
  return cached(snap, `when\0${text}`, () => parseWhen(text, { file: '<bundle>', line: 1, col: 1 }));
}

function decide(
  snap: EntryOwner,
  text: string | null,
  usesTraits: boolean,
  entry: CompiledEntry,
  traits?: Record<string, unknown>,
): Decision {
  if (text === null) return { drop: false, when: null };
  if (!traits || !usesTraits) return { drop: false, when: text };
  const r = partialEvaluateWhen(whenOf(snap, text), { vars: entry.vars, traits });
  if (r.kind === 'false') return { drop: true };
  return { drop: false, when: r.kind === 'true' ? null : r.text };
}

function traitString(traits: Record<string, unknown>, a: string, b: string): string | undefined {
  const nested = traits[a];
  const v = isRecord(nested) ? nested[b] : traits[`${a}.${b}`];
  return typeof v === 'string' ? v.toLowerCase() : undefined;
}

/** Which `case:` key applies: the distro beats the OS family, `default` is the fallback. */
export function selectCase(keys: string[], traits: Record<string, unknown>): string | undefined {
  const distro = traitString(traits, 'os', 'distro');
  const family = traitString(traits, 'os', 'family');
  if (distro !== undefined && keys.includes(distro)) return distro;
  if (family !== undefined && keys.includes(family)) return family;
  return keys.includes('default') ? 'default' : undefined;
}

function setAt(root: Record<string, unknown>, p: (string | number)[], value: unknown): void {
  let cur: unknown = root;
  for (let i = 0; i < p.length - 1; i++) {
    if (!isRecord(cur) && !Array.isArray(cur)) return;
    cur = (cur as Record<string | number, unknown>)[p[i]!];
  }
  if (isRecord(cur) || Array.isArray(cur))
    (cur as Record<string | number, unknown>)[p[p.length - 1]!] = value;
}

interface RenderContext {
  snap: EntryOwner;
  entry: CompiledEntry;
  traits: Record<string, unknown>;
  /** Shared by every template of the bundle: check-in runs on the main thread (limits.ts). */
  budget: RenderBudget;
}

function render(ctx: RenderContext, d: DeferredTemplate, r: CompiledResource): string {
  const { snap, entry, traits } = ctx;
  const tpl = cached<CompiledTemplate>(
    snap,
    `tpl\0${d.source.file}:${d.source.line}:${d.source.col}\0${d.text}`,
    () => compileTemplate(d.text, d.source),
  );
  const data =
    r.item === undefined
      ? { Vars: entry.vars, Traits: traits }
      : { Vars: entry.vars, Traits: traits, Item: r.item, Each: r.item };
  return replaceSecretRefs(tpl.render(data, ctx.budget));
}

/** Params and on_revert of one resource for these traits (or as compiled, without traits). */
function paramsFor(
  r: CompiledResource,
  ctx: RenderContext | undefined,
): { params: Record<string, unknown>; onRevert: Record<string, unknown> | null } {
  const body: Record<string, unknown> = { params: cloneJson(r.params), onRevert: cloneJson(r.onRevert) };
  if (!ctx)
    return {
      params: body.params as Record<string, unknown>,
      onRevert: body.onRevert as Record<string, unknown> | null,
    };
  const chosen = r.case ? selectCase(Object.keys(r.case), ctx.traits) : undefined;
  const override = chosen !== undefined && r.case ? cloneJson(r.case[chosen]!) : {};
  for (const d of r.deferred) {
    const [head, ...rest] = d.path;
    if (head === 'case') {
      if (rest[0] === chosen) setAt(override, rest.slice(1), render(ctx, d, r));
    } else setAt(body, d.path, render(ctx, d, r));
  }
  const params = { ...(body.params as Record<string, unknown>), ...override };
  normalizeParams(r.type, params, r.name);
  return { params, onRevert: body.onRevert as Record<string, unknown> | null };
}

function combine(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return `(${a}) && (${b})`;
}

interface Placed {
  r: CompiledResource;
  crate: string;
  guard: string | null;
}

/** The entry's resources whose configcrate applies to these traits, with the crate's guard. */
function placed(
  snap: EntryOwner,
  entry: CompiledEntry,
  traits?: Record<string, unknown>,
): Map<string, Placed> {
  const byId = new Map<string, Placed>();
  for (const c of entry.configcrates) {
    const g = decide(snap, c.when, true, entry, traits);
    if (g.drop) continue;
    for (const r of snap.instances.get(c.instance)!.resources)
      byId.set(r.id, { r, crate: c.name, guard: g.when });
  }
  return byId;
}

function bundleResources(
  snap: EntryOwner,
  entry: CompiledEntry,
  traits?: Record<string, unknown>,
): BundleResource[] {
  const byId = placed(snap, entry, traits);
  const ctx = traits ? { snap, entry, traits, budget: new RenderBudget() } : undefined;
  const built: BundleResource[] = [];
  for (const id of entry.order) {
    const hit = byId.get(id);
    if (!hit) continue;
    const own = decide(snap, hit.r.when, hit.r.whenUsesTraits, entry, traits);
    if (own.drop) continue;
    const { params, onRevert } = paramsFor(hit.r, ctx);
    built.push({
      id,
      name: hit.r.name,
      type: hit.r.type,
      configcrate: hit.crate,
      params,
      depends_on: [...hit.r.dependsOn],
      notify: [...hit.r.notify],
      when: combine(hit.guard, own.when),
      only_when_notified: hit.r.onlyWhenNotified,
      revert: hit.r.revert,
      on_revert: onRevert,
    });
  }
  addLinks(built, entry);
  return built;
}

/** Adds cross-configcrate edges and drops edges to resources this bundle does not contain. */
function addLinks(built: BundleResource[], entry: CompiledEntry): void {
  const present = new Set(built.map((b) => b.id));
  const deps = new Map<string, string[]>();
  const notify = new Map<string, string[]>();
  for (const l of entry.links) {
    const m = l.kind === 'depends_on' ? deps : notify;
    m.set(l.from, [...(m.get(l.from) ?? []), l.to]);
  }
  const merge = (own: string[], extra: string[] | undefined): string[] =>
    [...new Set([...own, ...(extra ?? [])])].filter((x) => present.has(x));
  for (const b of built) {
    b.depends_on = merge(b.depends_on, deps.get(b.id));
    b.notify = merge(b.notify, notify.get(b.id));
  }
}

export function buildBundleDocument(entry: CompiledEntry, options: BundleOptions): BundleDocument {
  const snap = snapshotOf(entry);
  const traits = options.traits;
  if (entry.usesTraits && !traits) {
    throw new VigoError(
      'policy.traits_required',
      `entry ${entry.id} renders templates with envoy traits; pass the envoy's traits to build its bundle`,
      { entryId: entry.id },
    );
  }
  const resources = bundleResources(snap, entry, traits);
  const secrets = new Set<string>();
  collectMarkers(
    resources.map((b) => [b.params, b.on_revert, b.when]),
    secrets,
  );
  const tasks: Record<string, CompiledTask> = {};
  for (const name of entry.tasks ?? []) {
    const task = snap.tasks[name];
    if (task !== undefined) tasks[name] = task;
  }
  return {
    format_version: 1,
    policy_version: options.policyVersion,
    entry_id: entry.id,
    merkle_root: entry.merkleRoot,
    traits_hash: traits ? sha256Hex(canonicalJson(traits)) : null,
    issued_at_ms: options.issuedAtMs,
    expires_at_ms: options.expiresAtMs,
    secrets_epoch: options.secretsEpoch,
    observe_only: entry.observeOnly,
    secret_paths: [...secrets].sort(),
    resources,
    ...(Object.keys(tasks).length === 0 ? {} : { tasks }),
    ...(Object.keys(snap.queries).length === 0 ? {} : { queries: { ...snap.queries } }),
  };
}
