/** A configcrate file → CrateDef. */
import path from 'node:path';
import { checkBrokenCycles } from './broken-cycles.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { parseWhenAt, readsAllVars } from './engines.ts';
import type { CrateDef, Ref, ResourceDef } from './model.ts';
import { parseForeach, parseResource } from './parse-resource.ts';
import type { CrateContext, SourceReader } from './parse-resource.ts';
import { checkSchema } from './schema-check.ts';
import { configcrateFileSchema } from './schemas/file-schemas.ts';
import { commonResourceProperties, resourceTypeSpecs } from './schemas/resource-schemas.ts';
import { parseClaimsMap } from './parse-compliance.ts';
import { isRecord } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';

export interface CrateLoadContext {
  sink: DiagnosticSink;
  map: SourceMap;
  readSource: SourceReader;
  urls: Ref[];
}

const allTypeFields = new Set(Object.values(resourceTypeSpecs).flatMap((s) => Object.keys(s.properties)));

export function refList(v: unknown, holder: object, key: string, map: SourceMap): Ref[] {
  if (typeof v === 'string') return [{ text: v, at: map.pos(holder, key) }];
  if (!Array.isArray(v)) return [];
  return v.flatMap((x, i) => (typeof x === 'string' ? [{ text: x, at: map.pos(v, i) }] : []));
}

export function parseCrate(file: string, value: unknown, ctx: CrateLoadContext): CrateDef | undefined {
  const suggested = path.posix.basename(file, path.posix.extname(file));
  if (!isRecord(value)) {
    ctx.sink.error(
      'schema.wrong_type',
      { file, line: 1, col: 1 },
      'a configcrate file must be a mapping with name: and resources:',
      `start the file with "name: ${suggested}"`,
    );
    return undefined;
  }
  let broken = !checkSchema(configcrateFileSchema, value, {
    sink: ctx.sink,
    map: ctx.map,
    what: `configcrate file ${file}`,
  });
  const name = crateName(value, file, suggested, ctx);
  if (name === undefined) return undefined;
  const defaults = isRecord(value.defaults) ? value.defaults : {};
  broken = !checkDefaults(defaults, name, ctx) || broken;
  const crateWhen =
    typeof value.when === 'string'
      ? { text: value.when.trim(), at: ctx.map.textPos(value, 'when') }
      : undefined;
  if (crateWhen && !parseWhenAt(crateWhen.text, crateWhen.at, (d) => ctx.sink.add(d))) broken = true;
  const foreach = parseForeach(value.foreach, ctx.map.pos(value, 'foreach'));
  const parsed = parseResources(value.resources, {
    crate: name,
    file,
    sink: ctx.sink,
    map: ctx.map,
    defaults,
    crateForeach: foreach !== undefined,
    readSource: (rel) => ctx.readSource(rel),
    urls: ctx.urls,
    ...(crateWhen ? { crateWhen } : {}),
  });
  const resources = parsed.resources;
  checkBrokenCycles(name, value.resources, parsed.brokenNames, ctx.map, ctx.sink);
  broken = !checkDuplicateNames(resources, name, ctx) || !parsed.ok || broken;
  const crate: CrateDef = {
    name,
    file,
    at: ctx.map.pos(value, value.name !== undefined ? 'name' : 'configcrate'),
    vars: isRecord(value.vars) ? value.vars : {},
    dependsOn: refList(value.depends_on, value, 'depends_on', ctx.map),
    compliance: parseClaimsMap(
      value.compliance,
      ctx.map.pos(value, 'compliance'),
      `compliance: of configcrate ${name}`,
      ctx,
    ),
    resources,
    varsUsed: [],
    readsAllVars: resources.some(resourceReadsAllVars),
    fixedShape: !foreach && resources.every(hasFixedName),
    brokenResourceNames: parsed.brokenNames,
    broken,
  };
  if (foreach) crate.foreach = foreach;
  crate.varsUsed = varsUsedBy(crate);
  return crate;
}

function parseResources(
  value: unknown,
  ctx: CrateContext,
): { resources: ResourceDef[]; brokenNames: Set<string>; ok: boolean } {
  const list = Array.isArray(value) ? value : [];
  const resources: ResourceDef[] = [];
  const brokenNames = new Set<string>();
  let ok = true;
  list.forEach((raw, i) => {
    const parsed = parseResource(raw, i, ctx, ctx.map.pos(list, i));
    if (parsed.def) resources.push(parsed.def);
    else if (parsed.name !== undefined) brokenNames.add(parsed.name);
    if (!parsed.ok) ok = false;
  });
  return { resources, brokenNames, ok };
}

/** Its id is the same whatever the variables: no foreach, no templated name, target or reference. */
function hasFixedName(r: ResourceDef): boolean {
  return !r.foreach && (r.name ? !r.name.tpl : r.templates.length === 0) && r.refs.every((x) => !x.tpl);
}

function resourceReadsAllVars(r: ResourceDef): boolean {
  return (
    r.templates.some((t) => readsAllVars(t.tpl)) ||
    (r.name?.tpl !== undefined && readsAllVars(r.name.tpl)) ||
    (r.sourceFile?.tpl !== undefined && readsAllVars(r.sourceFile.tpl)) ||
    r.refs.some((x) => x.tpl !== undefined && readsAllVars(x.tpl))
  );
}

function crateName(
  value: Record<string, unknown>,
  file: string,
  suggested: string,
  ctx: CrateLoadContext,
): string | undefined {
  const n = value.name;
  const c = value.configcrate;
  if (n !== undefined && c !== undefined) {
    ctx.sink.error(
      'schema.conflict',
      ctx.map.keyPos(value, 'configcrate'),
      'a configcrate has either name: or configcrate:, not both',
      'keep name:',
    );
  }
  const name = typeof n === 'string' ? n : typeof c === 'string' ? c : undefined;
  if (name === undefined && n === undefined && c === undefined) {
    ctx.sink.error(
      'schema.missing_key',
      { file, line: 1, col: 1 },
      `configcrate file ${file} has no name:`,
      `add "name: ${suggested}" at the top`,
    );
  }
  return name;
}

function checkDefaults(defaults: Record<string, unknown>, crate: string, ctx: CrateLoadContext): boolean {
  let ok = true;
  for (const k of Object.keys(defaults)) {
    if (allTypeFields.has(k) || k === 'when') continue;
    ok = false;
    const reason =
      k in commonResourceProperties
        ? 'is set per resource, not in defaults:'
        : 'is not a field of any resource type';
    ctx.sink.error(
      'schema.unknown_key',
      ctx.map.keyPos(defaults, k),
      `"${k}" in defaults: of configcrate ${crate} ${reason}`,
      'defaults: may set type fields (owner, group, mode, state, provider…) and when:',
    );
  }
  return ok;
}

/** Literal names can be checked once here; templated and foreach names are checked per instance. */
function checkDuplicateNames(resources: ResourceDef[], crate: string, ctx: CrateLoadContext): boolean {
  const seen = new Map<string, ResourceDef>();
  let ok = true;
  for (const r of resources) {
    if (!r.name || r.name.tpl || r.foreach) continue;
    const first = seen.get(r.name.text);
    if (!first) {
      seen.set(r.name.text, r);
      continue;
    }
    ok = false;
    ctx.sink.error(
      'resource.duplicate_name',
      r.name.at,
      `configcrate ${crate} has two resources named ${JSON.stringify(r.name.text)} (the first is at line ${first.at.line})`,
      'resource names must be unique within a configcrate; rename one of them',
    );
  }
  return ok;
}

function varsUsedBy(crate: CrateDef): string[] {
  const used = new Set<string>();
  const add = (s: ReadonlySet<string> | undefined): void => s?.forEach((v) => used.add(v));
  if (crate.foreach?.varName) used.add(crate.foreach.varName);
  for (const r of crate.resources) {
    for (const t of r.templates) add(t.tpl.varsUsed);
    add(r.name?.tpl?.varsUsed);
    add(r.sourceFile?.tpl?.varsUsed);
    for (const ref of r.refs) add(ref.tpl?.varsUsed);
    add(r.when?.expr.varsUsed);
    if (r.foreach?.varName) used.add(r.foreach.varName);
  }
  return [...used].sort();
}
