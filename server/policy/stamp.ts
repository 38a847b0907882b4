/**
 * Stamps one ResourceDef with concrete values: renders templates that do not need traits, reads
 * `source:` templates into `content`, replaces secret references by markers, derives the name,
 * partially evaluates `when:` and enforces the self-protection guardrails.
 */
import { sortKeys, sortedClone } from './canonical.ts';
import type { DiagnosticInput, Pos } from './diagnostics.ts';
import { RenderBudget, evaluateWhen, renderField } from './engines.ts';
import type { CompiledTemplate, TemplateData } from './engines.ts';
import type { ResourceDef, TemplatedRef } from './model.ts';
import { guard } from './guardrails.ts';
import type { CompileCache } from './stamp-cache.ts';
import { deriveName, normalizeParams } from './names.ts';
import { resourceTypeSpecs } from './schemas/resource-schemas.ts';
import { withMarkers } from './secrets.ts';
import type { DeferredTemplate } from './types.ts';

export interface StampEnv {
  protectedPaths: string[];
  protectedServices: string[];
  /** Compile with configcrate defaults only: missing variables are not errors. */
  lint: boolean;
  /** Resources stamped so far in this whole validation (shared by every instance, see limits.ts). */
  stamped: StampCount;
  /** What instances of this compile share (stamp-cache.ts); absent: every resource is stamped anew. */
  cache?: CompileCache;
}

export interface StampCount {
  count: number;
  /** Characters templates rendered for the instance being stamped (reset per instance). */
  renderedChars: number;
  /** Where the whole-validation limit was crossed, reported again by every instance compiled after it. */
  exceededAt?: Pos;
}

export interface Stamped {
  def: ResourceDef;
  name: string;
  params: Record<string, unknown>;
  caseOverrides: Record<string, Record<string, unknown>> | null;
  onRevert: Record<string, unknown> | null;
  deferred: DeferredTemplate[];
  when: string | null;
  whenUsesTraits: boolean;
  item: unknown;
  refs: { kind: TemplatedRef['kind']; text: string; at: Pos }[];
}

export type StampResult =
  { kind: 'ok'; stamped: Stamped } | { kind: 'dropped'; name: string | undefined } | { kind: 'failed' };

/** Variables a `when:` reads must exist; templates report their own missing variables when rendered. */
function checkWhenVars(
  def: ResourceDef,
  vars: Record<string, unknown>,
  report: (d: DiagnosticInput) => void,
): boolean {
  if (!def.when) return true;
  let ok = true;
  for (const v of def.when.expr.varsUsed) {
    if (v in vars) continue;
    ok = false;
    report({
      code: 'var.undefined',
      at: def.when.at,
      message: `when: of ${def.type} resource in configcrate ${def.crate} reads variable "${v}", which is not defined`,
      hint: `define ${v} in the configcrate's vars:, a common.vgo, the match block's vars: or environments.vgo`,
    });
  }
  return ok;
}

function setAt(root: Record<string, unknown>, p: (string | number)[], value: unknown): void {
  let cur: unknown = root;
  for (let i = 0; i < p.length - 1; i++) cur = (cur as Record<string | number, unknown>)[p[i]!];
  (cur as Record<string | number, unknown>)[p[p.length - 1]!] = value;
}

export function stampResource(
  def: ResourceDef,
  item: unknown,
  vars: Record<string, unknown>,
  env: StampEnv,
  rawReport: (d: DiagnosticInput) => void,
): StampResult {
  // Linting an unused configcrate with its defaults only: variables set elsewhere are not errors.
  const report = env.lint
    ? (d: DiagnosticInput): void => (d.code === 'var.undefined' ? undefined : rawReport(d))
    : rawReport;
  if (!checkWhenVars(def, vars, report)) return { kind: 'failed' };
  const r = new Renderer(vars, item, report, env.stamped);
  const name = def.name ? (def.name.tpl ? r.render(def.name.tpl, def.name.at) : def.name.text) : undefined;
  const { body, deferred } = renderBody(def, r);
  const refs = def.refs.map((x) => ({
    kind: x.kind,
    text: x.tpl ? r.render(x.tpl, x.at) : x.text,
    at: x.at,
  }));
  if (r.failed) return { kind: 'failed' };
  let when: string | null = null;
  if (def.when) {
    const result = evaluateWhen(def.when.expr, { vars }, def.when.at, report);
    if (!result) return { kind: 'failed' };
    if (result.kind === 'false') return { kind: 'dropped', name };
    if (result.kind === 'residual') when = result.text;
  }
  const marked = withMarkers(body.params);
  const finalName = name ?? deriveName(def.type, marked) ?? `${def.type}#${def.index + 1}`;
  normalizeParams(def.type, marked, finalName);
  // Keys stay sorted so the instance hash can use native JSON.stringify as its canonical encoding.
  const params = sortKeys(marked);
  if (!checkRendered(def, params, report) || !guard(def, params, env, report)) return { kind: 'failed' };
  return {
    kind: 'ok',
    stamped: {
      def,
      name: finalName,
      params,
      caseOverrides: withMarkers(body.case),
      onRevert: withMarkers(body.onRevert),
      deferred,
      when,
      whenUsesTraits: def.when?.expr.usesTraits ?? false,
      item: sortedClone(item),
      refs,
    },
  };
}

class Renderer {
  failed = false;
  /** Every template of one stamped resource shares one budget. */
  private readonly budget = new RenderBudget();

  constructor(
    private readonly vars: Record<string, unknown>,
    private readonly item: unknown,
    private readonly report: (d: DiagnosticInput) => void,
    private readonly counts: StampCount,
  ) {}

  render(tpl: CompiledTemplate, at: Pos): string {
    if (this.budget.exhausted) return '';
    const out = renderField(tpl, templateData(this.vars, this.item), at, this.report, this.budget);
    if (out === undefined) this.failed = true;
    this.counts.renderedChars += out?.length ?? 0;
    return out ?? '';
  }
}

interface Body {
  params: Record<string, unknown>;
  case: Record<string, Record<string, unknown>> | null;
  onRevert: Record<string, unknown> | null;
}

/** Copies of params/case/on_revert with every template rendered, except those that need traits. */
function renderBody(def: ResourceDef, r: Renderer): { body: Body; deferred: DeferredTemplate[] } {
  const body: Body = {
    params: sortedClone(def.params),
    case: sortedClone(def.caseOverrides),
    onRevert: sortedClone(def.onRevert),
  };
  const deferred: DeferredTemplate[] = [];
  for (const t of def.templates) {
    if (!t.tpl.usesTraits) setAt(body as unknown as Record<string, unknown>, t.path, r.render(t.tpl, t.at));
    else
      deferred.push({
        path: t.path,
        source: { col: t.at.col, file: t.at.file, line: t.at.line },
        text: t.text,
      });
  }
  if (def.sourceFile) {
    delete body.params.source;
    const { tpl, text, rel } = def.sourceFile;
    if (!tpl) body.params.content = text;
    else if (tpl.usesTraits)
      deferred.push({ path: ['params', 'content'], source: { col: 1, file: rel, line: 1 }, text });
    else body.params.content = r.render(tpl, def.sourceFile.at);
  }
  return { body, deferred };
}

function templateData(vars: Record<string, unknown>, item: unknown): TemplateData {
  return item === undefined ? { Vars: vars } : { Vars: vars, Item: item, Each: item };
}

const patterns = new Map<string, RegExp>();

function patternOf(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    re = new RegExp(source);
    patterns.set(source, re);
  }
  return re;
}

/** Templated fields with a format (mode, absolute paths) are checked again once rendered. */
function checkRendered(
  def: ResourceDef,
  params: Record<string, unknown>,
  report: (d: DiagnosticInput) => void,
): boolean {
  const props = resourceTypeSpecs[def.type]?.properties ?? {};
  let ok = true;
  for (const t of def.templates) {
    const field = t.path[1];
    if (t.path[0] !== 'params' || t.path.length !== 2 || typeof field !== 'string') continue;
    const schema = props[field];
    const value = params[field === 'path' && params[field] === undefined ? 'target_path' : field];
    if (!schema || typeof schema.pattern !== 'string' || typeof value !== 'string') continue;
    if (patternOf(schema.pattern).test(value) && !value.includes('{{')) continue;
    ok = false;
    report({
      code: 'schema.bad_value',
      at: t.at,
      message: `"${field}" of ${def.type} resource in configcrate ${def.crate} renders to ${JSON.stringify(value)}, which is not valid: ${typeof schema.description === 'string' ? schema.description : 'bad format'}`,
    });
  }
  return ok;
}
