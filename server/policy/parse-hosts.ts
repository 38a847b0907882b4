/** roles, common.vgo, environments.vgo and hostcrate (leaf) files → model. */
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import type { CommonDef, EnvDef, EnvFile, LeafEntry, RoleDef } from './model.ts';
import { refList } from './parse-crate.ts';
import { checkSchema } from './schema-check.ts';
import {
  commonFileSchema,
  environmentsFileSchema,
  hostcrateFileSchema,
  matchEntrySchema,
  roleFileSchema,
  rolesFileSchema,
} from './schemas/file-schemas.ts';
import { yaml11Boolean } from './schemas/resource-schemas.ts';
import { isRecord } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';

export interface HostContext {
  sink: DiagnosticSink;
  map: SourceMap;
}

function top(file: string): Pos {
  return { file, line: 1, col: 1 };
}

function mustBeMapping(
  file: string,
  value: unknown,
  what: string,
  ctx: HostContext,
): value is Record<string, unknown> {
  if (isRecord(value)) return true;
  if (value === null) ctx.sink.warning('file.empty', top(file), `${what} ${file} is empty`);
  else ctx.sink.error('schema.wrong_type', top(file), `${what} ${file} must be a mapping`);
  return false;
}

function roleFrom(
  name: string,
  body: Record<string, unknown>,
  file: string,
  at: Pos,
  ctx: HostContext,
): RoleDef {
  const cases = isRecord(body.case)
    ? Object.entries(body.case).map(([key, list]) => ({
        key,
        at: ctx.map.keyPos(body.case as object, key),
        crates: refList(list, body.case as object, key, ctx.map),
      }))
    : [];
  return {
    name,
    file,
    at,
    configcrates: refList(body.configcrates, body, 'configcrates', ctx.map),
    cases,
    includes: refList(body.includes, body, 'includes', ctx.map),
  };
}

/** roles.vgo: `roles: { name: {configcrates, case, includes} }`. */
export function parseRolesFile(file: string, value: unknown, ctx: HostContext): RoleDef[] {
  if (!mustBeMapping(file, value, 'roles file', ctx)) return [];
  checkSchema(rolesFileSchema, value, { sink: ctx.sink, map: ctx.map, what: `roles file ${file}` });
  if (!isRecord(value.roles)) return [];
  const roles = value.roles;
  return Object.entries(roles).flatMap(([name, body]) =>
    isRecord(body) ? [roleFrom(name, body, file, ctx.map.keyPos(roles, name), ctx)] : [],
  );
}

/** roles/<x>.vgo: one role per file with `name:`. */
export function parseRoleFile(file: string, value: unknown, ctx: HostContext): RoleDef[] {
  if (!mustBeMapping(file, value, 'role file', ctx)) return [];
  checkSchema(roleFileSchema, value, { sink: ctx.sink, map: ctx.map, what: `role file ${file}` });
  if (typeof value.name !== 'string') return [];
  return [roleFrom(value.name, value, file, ctx.map.pos(value, 'name'), ctx)];
}

export function parseCommonFile(
  file: string,
  dir: string,
  value: unknown,
  ctx: HostContext,
): CommonDef | undefined {
  if (!mustBeMapping(file, value, 'common file', ctx)) return undefined;
  if (value.match !== undefined) {
    ctx.sink.error(
      'common.match',
      ctx.map.keyPos(value, 'match'),
      'common.vgo must not have match:; it applies to every entry in its directory and below',
      'move the match block into a leaf file such as envoys.vgo',
    );
  }
  const copy = { ...value };
  ctx.map.alias(copy, value);
  delete copy.match;
  checkSchema(commonFileSchema, copy, { sink: ctx.sink, map: ctx.map, what: `common file ${file}` });
  return {
    dir,
    file,
    configcrates: refList(value.configcrates, value, 'configcrates', ctx.map),
    roles: refList(value.roles, value, 'roles', ctx.map),
    vars: isRecord(value.vars) ? value.vars : {},
  };
}

export function parseEnvironmentsFile(
  file: string,
  dir: string,
  value: unknown,
  ctx: HostContext,
): EnvFile | undefined {
  if (!mustBeMapping(file, value, 'environments file', ctx)) return undefined;
  checkSchema(environmentsFileSchema, value, {
    sink: ctx.sink,
    map: ctx.map,
    what: `environments file ${file}`,
  });
  const envs = new Map<string, EnvDef>();
  if (isRecord(value.env)) {
    const env = value.env;
    for (const [name, body] of Object.entries(env)) {
      if (!isRecord(body)) continue;
      envs.set(name, {
        name,
        file,
        at: ctx.map.keyPos(env, name),
        vars: isRecord(body.vars) ? body.vars : {},
        configcrates: refList(body.configcrates, body, 'configcrates', ctx.map),
        exclude: refList(body.exclude_configcrates, body, 'exclude_configcrates', ctx.map),
      });
    }
  }
  return { dir, file, envs };
}

/** A hostcrate: `envoys: [ {match…}, … ]`, or a single block with a top-level `match:`. */
export function parseLeafFile(file: string, dir: string, value: unknown, ctx: HostContext): LeafEntry[] {
  if (!mustBeMapping(file, value, 'hostcrate file', ctx)) return [];
  if (value.match !== undefined) return entryFrom(value, file, dir, ctx);
  if (value.envoys === undefined) {
    const hint =
      value.nodes !== undefined
        ? '"nodes:" is the old name; rename it to "envoys:"'
        : 'a hostcrate file has "envoys:" with a list of match blocks, or a single block with "match:"';
    ctx.sink.error(
      'schema.missing_key',
      top(file),
      `${file} is neither a configcrate, role, common, environments nor hostcrate file: it has no envoys: or match:`,
      hint,
    );
    return [];
  }
  checkSchema(hostcrateFileSchema, value, { sink: ctx.sink, map: ctx.map, what: `hostcrate file ${file}` });
  if (!Array.isArray(value.envoys)) return [];
  return value.envoys.flatMap((block) => (isRecord(block) ? entryFrom(block, file, dir, ctx) : []));
}

/** `observe_only: yes` is accepted as Vigo's YAML loader accepts it. */
function withBoolean(block: Record<string, unknown>, key: string, ctx: HostContext): Record<string, unknown> {
  const b = yaml11Boolean(block[key]);
  if (b === undefined) return block;
  const copy = { ...block, [key]: b };
  ctx.map.alias(copy, block);
  return copy;
}

/** Keeps a block whose match: is usable even when other keys are wrong, so its configcrates still get checked. */
function entryFrom(raw: Record<string, unknown>, file: string, dir: string, ctx: HostContext): LeafEntry[] {
  const block = withBoolean(raw, 'observe_only', ctx);
  const at = ctx.map.pos(block);
  const where = `match block at ${file}:${at.line}`;
  checkSchema(matchEntrySchema, block, { sink: ctx.sink, map: ctx.map, what: where });
  if (block.usercrates !== undefined) {
    ctx.sink.error(
      'usercrate.unsupported',
      ctx.map.keyPos(block, 'usercrates'),
      `${where} uses usercrates:, which this server does not support yet`,
      'remove usercrates: from the match block; per-user configcrates are not applied by this version',
    );
  }
  const patterns = refList(block.match, block, 'match', ctx.map).filter((p) => p.text !== '');
  if (patterns.length === 0) return [];
  const entry: LeafEntry = {
    file,
    dir,
    at,
    patterns,
    roles: refList(block.roles, block, 'roles', ctx.map),
    configcrates: refList(block.configcrates, block, 'configcrates', ctx.map),
    vars: isRecord(block.vars) ? block.vars : {},
    observeOnly: block.observe_only === true,
  };
  if (typeof block.environment === 'string')
    entry.environment = { text: block.environment, at: ctx.map.pos(block, 'environment') };
  return [entry];
}
