/** One resource mapping of a configcrate → ResourceDef (defaults merged, schema-checked, templates compiled). */
import { closestName } from '../core/index.ts';
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import { compileField } from './engines.ts';
import type { CompiledTemplate } from './engines.ts';
import type { FieldTemplate, ForeachSpec, ResourceDef } from './model.ts';
import { Tracker, attachSource, attachWhen, collectTemplates, refsOf } from './resource-fields.ts';
import { deriveName, targetFieldOf } from './names.ts';
import { checkSchema } from './schema-check.ts';
import {
  commonResourceProperties,
  knownResourceTypes,
  resourceSchemas,
  resourceTypeSpecs,
  booleanFieldNames,
  stringFieldNames,
  yaml11Boolean,
} from './schemas/resource-schemas.ts';
import { isRecord } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';

/** A `source:` file as read for a resource: its text and compiled template, or why there is none. */
export type SourceRead =
  | { kind: 'ok'; text: string; tpl: CompiledTemplate | null | undefined }
  | { kind: 'missing' }
  | { kind: 'refused'; reason: string };

export type SourceReader = (rel: string) => SourceRead;

export interface CrateContext {
  crate: string;
  file: string;
  sink: DiagnosticSink;
  map: SourceMap;
  defaults: Record<string, unknown>;
  crateWhen?: { text: string; at: Pos };
  crateForeach: boolean;
  /** Reads `source:` files relative to the stacks dir, confined to it (cached). */
  readSource: SourceReader;
  urls: { text: string; at: Pos }[];
}

const commonKeys = new Set(Object.keys(commonResourceProperties));
const partialSchemas = new Map<string, Record<string, unknown>>();

function partialSchema(type: string): Record<string, unknown> {
  let s = partialSchemas.get(type);
  if (!s) {
    s = {
      type: 'object',
      properties: resourceTypeSpecs[type]?.properties ?? {},
      additionalProperties: false,
    };
    partialSchemas.set(type, s);
  }
  return s;
}

export interface ParsedResource {
  /** Present unless the resource is structurally unusable. */
  def?: ResourceDef;
  /** False when anything about it was an error (the configcrate is then broken). */
  ok: boolean;
  /** Its name, so references to a resource that failed to load are not reported again. */
  name?: string;
}

export function parseResource(raw: unknown, index: number, ctx: CrateContext, at: Pos): ParsedResource {
  const label = `resource #${index + 1} of configcrate ${ctx.crate}`;
  if (!isRecord(raw)) {
    ctx.sink.error('schema.wrong_type', at, `${label} must be a mapping with at least type:`);
    return { ok: false };
  }
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  const type = raw.type;
  if (typeof type !== 'string' || type === '') {
    ctx.sink.error(
      'schema.missing_key',
      at,
      `${label} has no type:`,
      `add a type, one of: ${knownResourceTypes.join(', ')}`,
    );
    return { ok: false, ...(name ? { name } : {}) };
  }
  const skip = raw.skip_validation === true;
  const known = type in resourceSchemas;
  const ident = name !== undefined ? JSON.stringify(name) : `#${index + 1}`;
  if (!known && !skip) {
    const guess = closestName(type, knownResourceTypes);
    ctx.sink.error(
      'type.unknown',
      ctx.map.pos(raw, 'type'),
      `resource ${ident} in configcrate ${ctx.crate} has unknown type "${type}"`,
      (guess ? `did you mean "${guess}"? ` : '') +
        'if an agent has a custom executor for it, add skip_validation: true',
    );
    return { ok: false, ...(name ? { name } : {}) };
  }
  const title = `${type} resource ${ident} in configcrate ${ctx.crate}`;
  const data = withDefaults(raw, type, known, ctx);
  if (known && !checkSchema(resourceSchemas[type]!, data, { sink: ctx.sink, map: ctx.map, what: title })) {
    return { ok: false, ...(name ? { name } : {}) };
  }
  const semanticsOk = checkSemantics(data, type, title, ctx);
  const def = buildDef(data, type, known, index, at, title, ctx);
  return def ? { def, ok: semanticsOk } : { ok: false, ...(name ? { name } : {}) };
}

/** Applies `defaults:` (only keys the type accepts) and reads back numeric-looking strings like mode: 0644. */
function withDefaults(
  raw: Record<string, unknown>,
  type: string,
  known: boolean,
  ctx: CrateContext,
): Record<string, unknown> {
  const data: Record<string, unknown> = { ...raw };
  ctx.map.alias(data, raw);
  const fields = new Set(known ? Object.keys(resourceTypeSpecs[type]!.properties) : []);
  for (const [k, v] of Object.entries(ctx.defaults)) {
    if (data[k] === undefined && (fields.has(k) || k === 'when')) data[k] = v;
  }
  for (const k of stringFieldNames(type)) {
    const rawText =
      typeof data[k] === 'number' ? (ctx.map.raw(raw, k) ?? ctx.map.raw(ctx.defaults, k)) : undefined;
    if (rawText !== undefined) data[k] = rawText;
  }
  for (const k of booleanFieldNames(type)) {
    const b = yaml11Boolean(data[k]);
    if (b !== undefined) data[k] = b;
  }
  return data;
}

function checkExecGuard(data: Record<string, unknown>, type: string, ctx: CrateContext): boolean {
  const changedOnly = typeof data.when === 'string' && data.when.trim() === 'changed';
  if (
    type !== 'exec' ||
    data.onlyif !== undefined ||
    data.unless !== undefined ||
    data.creates !== undefined ||
    changedOnly
  ) {
    return true;
  }
  const name =
    typeof data.name === 'string' ? data.name : typeof data.command === 'string' ? data.command : 'exec';
  ctx.sink.error(
    'exec.no_guard',
    ctx.map.pos(data),
    `resource "${name}" (exec) missing idempotency guard (add onlyif, unless or creates)`,
    'an exec runs on every check-in unless guarded: add "creates: /path/it/makes", "unless: <command that succeeds when done>" or "onlyif: <command that succeeds when needed>"; or make it a handler with when: changed',
  );
  return false;
}

/** Rules across fields that a JSON Schema does not express well; each reports itself. */
function checkSemantics(
  data: Record<string, unknown>,
  type: string,
  title: string,
  ctx: CrateContext,
): boolean {
  const rules: [boolean, string, Pos, string, string][] = [
    [
      data.revert === true && data.on_revert === undefined,
      'revert.no_on_revert',
      ctx.map.pos(data, 'revert'),
      `${title} has revert: true but no on_revert:`,
      'say how to undo it, e.g. on_revert: { state: absent } or, for exec, on_revert: { command: "..." }',
    ],
    [
      data.content !== undefined && data.source !== undefined,
      'schema.conflict',
      ctx.map.keyPos(data, 'source'),
      `${title} has both content: and source:`,
      'keep one: inline content, or source: templates/<file>',
    ],
    [
      data.foreach !== undefined && ctx.crateForeach,
      'foreach.nested',
      ctx.map.pos(data, 'foreach'),
      `${title} has foreach: inside a configcrate that already has foreach:`,
      'nested foreach is not supported; move the list into one of the two levels',
    ],
    [
      type === 'package' && data.package !== undefined && data.names !== undefined,
      'schema.conflict',
      ctx.map.keyPos(data, 'names'),
      `${title} has both package: and names:`,
      'use package: for one package or names: for a list',
    ],
  ];
  let ok = checkExecGuard(data, type, ctx);
  for (const [broken, code, at, message, hint] of rules) {
    if (!broken) continue;
    ctx.sink.error(code, at, message, hint);
    ok = false;
  }
  return ok;
}

function buildDef(
  data: Record<string, unknown>,
  type: string,
  known: boolean,
  index: number,
  at: Pos,
  title: string,
  ctx: CrateContext,
): ResourceDef | undefined {
  const t = new Tracker(ctx.sink);
  const params: Record<string, unknown> = {};
  const fieldAt: Record<string, Pos> = {};
  for (const [k, v] of Object.entries(data)) {
    if (commonKeys.has(k)) continue;
    params[k] = v;
    fieldAt[k] = ctx.map.pos(data, k);
  }
  const templates: FieldTemplate[] = [];
  collectTemplates(params, ['params'], data, templates, ctx, t);
  const caseOverrides = sub(data, 'case', type, known, title, ctx, templates, t);
  const onRevert = sub(data, 'on_revert', type, known, title, ctx, templates, t);
  const def: ResourceDef = {
    crate: ctx.crate,
    file: ctx.file,
    index,
    at,
    type,
    known,
    params,
    caseOverrides: caseOverrides as Record<string, Record<string, unknown>> | null,
    onRevert,
    revert: data.revert === true,
    templates,
    refs: refsOf(data, ctx, t),
    onlyWhenNotified: false,
    fieldAt,
  };
  if (typeof data.name === 'string') {
    const tpl = compileField(data.name, ctx.map.textPos(data, 'name'), t.report);
    def.name = { text: data.name, at: ctx.map.pos(data, 'name'), ...(tpl ? { tpl } : {}) };
  } else {
    announceDerivedName(type, params, title, at, ctx);
  }
  attachSource(def, data, ctx, t);
  attachWhen(def, data, ctx, t);
  const fe = parseForeach(data.foreach, ctx.map.pos(data, 'foreach'));
  if (fe) def.foreach = fe;
  return t.ok ? def : undefined;
}

function announceDerivedName(
  type: string,
  params: Record<string, unknown>,
  title: string,
  at: Pos,
  ctx: CrateContext,
): void {
  const derived = deriveName(type, params);
  const field = targetFieldOf(type, params);
  if (derived === undefined || field === undefined) {
    ctx.sink.error(
      'schema.missing_key',
      at,
      `${title} has no name: and its type has no target to derive one from`,
      'add name: <something-unique-in-this-configcrate>',
    );
    return;
  }
  ctx.sink.info(
    'name.derived',
    at,
    `${title} has no name; it is called ${JSON.stringify(derived)} (derived from its ${field})`,
    `refer to it as ${JSON.stringify(derived)} in depends_on/notify, or give it an explicit name:`,
  );
}

function sub(
  data: Record<string, unknown>,
  key: 'case' | 'on_revert',
  type: string,
  known: boolean,
  title: string,
  ctx: CrateContext,
  templates: FieldTemplate[],
  t: Tracker,
): Record<string, unknown> | null {
  const v = data[key];
  if (!isRecord(v)) return null;
  const pathHead = key === 'case' ? 'case' : 'onRevert';
  if (key === 'on_revert') {
    if (
      known &&
      !checkSchema(partialSchema(type), v, { sink: ctx.sink, map: ctx.map, what: `on_revert of ${title}` })
    )
      t.fail();
    collectTemplates(v, [pathHead], v, templates, ctx, t);
    return v;
  }
  for (const [osKey, override] of Object.entries(v)) {
    if (!isRecord(override)) continue;
    if (
      known &&
      !checkSchema(partialSchema(type), override, {
        sink: ctx.sink,
        map: ctx.map,
        what: `case "${osKey}" of ${title}`,
      })
    )
      t.fail();
    collectTemplates(override, [pathHead, osKey], override, templates, ctx, t);
  }
  return v;
}

export function parseForeach(v: unknown, at: Pos): ForeachSpec | undefined {
  if (Array.isArray(v)) return { list: v, at };
  if (typeof v !== 'string') return undefined;
  const varName = v
    .trim()
    .replace(/^\{\{\s*(.*?)\s*\}\}$/, '$1')
    .replace(/^\.Vars\./, '');
  return { varName, at };
}
