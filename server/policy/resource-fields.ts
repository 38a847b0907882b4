/** The parts of a resource that need more than a schema: templates, references, source:, when:. */
import type { DiagnosticInput, DiagnosticSink, Pos } from './diagnostics.ts';
import { compileField, parseWhenAt } from './engines.ts';
import type { WhenExpr } from './engines.ts';
import type { FieldTemplate, RefKind, ResourceDef, TemplatedRef } from './model.ts';
import type { CrateContext } from './parse-resource.ts';
import { isRecord } from './yaml-source.ts';

const refKinds: RefKind[] = ['depends_on', 'before', 'notify', 'subscribes'];

export function collectTemplates(
  value: unknown,
  path: (string | number)[],
  holder: object,
  out: FieldTemplate[],
  ctx: CrateContext,
  t: Tracker,
): void {
  const visit = (v: unknown, p: (string | number)[], parent: object, key: string | number): void => {
    if (typeof v === 'string') {
      const at = ctx.map.textPos(parent, key);
      const tpl = compileField(v, at, t.report);
      if (tpl) out.push({ path: p, text: v, tpl, at });
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, [...p, i], v, i));
    } else if (isRecord(v)) {
      for (const [k, x] of Object.entries(v)) visit(x, [...p, k], v, k);
    }
  };
  if (isRecord(value)) for (const [k, x] of Object.entries(value)) visit(x, [...path, k], holder, k);
}

export function refsOf(data: Record<string, unknown>, ctx: CrateContext, t: Tracker): TemplatedRef[] {
  const out: TemplatedRef[] = [];
  for (const kind of refKinds) {
    const v = data[kind];
    const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
    list.forEach((text, i) => {
      if (typeof text !== 'string') return;
      const at = typeof v === 'string' ? ctx.map.pos(data, kind) : ctx.map.pos(v as unknown[], i);
      const tpl = compileField(text, at, t.report);
      out.push({ kind, text, at, ...(tpl ? { tpl } : {}) });
    });
  }
  return out;
}

export function attachSource(
  def: ResourceDef,
  data: Record<string, unknown>,
  ctx: CrateContext,
  t: Tracker,
): void {
  const source = data.source;
  if (typeof source !== 'string') return;
  const at = ctx.map.pos(data, 'source');
  if (/^https?:\/\//i.test(source)) {
    if (!source.includes('{{')) ctx.urls.push({ text: source, at });
    return;
  }
  const rel = source.replace(/^\.\//, '');
  const loaded = ctx.readSource(rel);
  if (loaded.kind === 'refused') {
    t.report({
      code: 'source.outside_stacks',
      at,
      message: `source: ${JSON.stringify(source)} points outside the stacks tree (${loaded.reason}); nothing was read from it`,
      hint: 'source: files must be regular files inside the stacks tree, named relative to it (e.g. source: templates/motd.tmpl); copy the file into templates/ instead of linking to it',
    });
    return;
  }
  if (loaded.kind === 'missing') {
    t.report({
      code: 'source.missing',
      at,
      message: `source: ${JSON.stringify(source)} does not exist in the stacks dir`,
      hint: 'template files live under templates/ and are referenced as source: templates/<file>',
    });
    return;
  }
  if (loaded.tpl === undefined) {
    // Broken template: already reported where it lives, but this resource cannot compile.
    t.fail();
    return;
  }
  def.sourceFile = { rel, at, text: loaded.text, ...(loaded.tpl ? { tpl: loaded.tpl } : {}) };
}

export function attachWhen(
  def: ResourceDef,
  data: Record<string, unknown>,
  ctx: CrateContext,
  t: Tracker,
): void {
  const own = typeof data.when === 'string' ? data.when.trim() : undefined;
  if (own === 'changed') def.onlyWhenNotified = true;
  const parts: { text: string; at: Pos }[] = [];
  if (ctx.crateWhen) parts.push(ctx.crateWhen);
  if (own !== undefined && own !== 'changed') parts.push({ text: own, at: ctx.map.textPos(data, 'when') });
  if (parts.length === 0) return;
  let expr: WhenExpr | undefined;
  let parsedAll = true;
  for (const p of parts) {
    expr = parseWhenAt(p.text, p.at, t.report);
    if (!expr) parsedAll = false;
  }
  if (!parsedAll || !expr) return;
  const first = parts[0]!;
  if (parts.length === 1) {
    def.when = { text: first.text, expr, at: first.at };
    return;
  }
  const text = parts.map((p) => `(${p.text})`).join(' && ');
  const combined = parseWhenAt(text, parts[1]!.at, t.report);
  if (combined) def.when = { text, expr: combined, at: parts[1]!.at };
}

/** Collects diagnostics for one resource and remembers whether any of them made it unusable. */
export class Tracker {
  ok = true;
  constructor(private readonly sink: DiagnosticSink) {}
  readonly report = (d: DiagnosticInput): void => {
    if ((d.severity ?? 'error') === 'error') this.ok = false;
    this.sink.add(d);
  };
  fail(): void {
    this.ok = false;
  }
}
