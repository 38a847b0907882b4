/**
 * Runs ajv and turns its errors into diagnostics an operator can act on: the offending key's
 * position, "did you mean", the allowed keys, and the legacy name when an old Vigo key is used.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { closestName } from '../core/index.ts';
import { quoteList } from './diagnostics.ts';
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import {
  commonFileSchema,
  configcrateFileSchema,
  environmentsFileSchema,
  hostcrateFileSchema,
  legacyKeyHints,
  matchEntrySchema,
  roleFileSchema,
  rolesFileSchema,
} from './schemas/file-schemas.ts';
import { resourceSchemas } from './schemas/resource-schemas.ts';
import { isRecord } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';

type Schema = Record<string, unknown>;

// strictRequired is off: anyOf branches name alternatives (target_path | path) declared in the parent.
const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  allowUnionTypes: true,
  strict: true,
  strictRequired: false,
});
const cache = new Map<object, ValidateFunction>();

function validatorFor(schema: Schema): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    cache.set(schema, v);
  }
  return v;
}

/**
 * Compiles every schema now rather than on first use: the publish validator calls it when its worker
 * starts, so the first publish does not pay for it. Importing this module compiles nothing, which
 * keeps vigocli's start-up short.
 */
export function compileSchemaValidators(): void {
  for (const schema of [
    ...Object.values(resourceSchemas),
    configcrateFileSchema,
    rolesFileSchema,
    roleFileSchema,
    commonFileSchema,
    environmentsFileSchema,
    matchEntrySchema,
    hostcrateFileSchema,
  ]) {
    validatorFor(schema);
  }
}

export interface SchemaContext {
  sink: DiagnosticSink;
  map: SourceMap;
  /** Human name of the validated object, e.g. `file resource "motd"`. */
  what: string;
}

/** Validates `data`; reports every problem; returns true when it is valid. */
export function checkSchema(schema: Schema, data: unknown, ctx: SchemaContext): boolean {
  const validate = validatorFor(schema);
  if (validate(data)) return true;
  const errors = pruneBranchErrors(validate.errors ?? []);
  for (const e of errors) report(e, data, ctx);
  return false;
}

/** anyOf failures come with one error per branch; keep the summary only. */
function pruneBranchErrors(errors: ErrorObject[]): ErrorObject[] {
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath + '/');
  return errors.filter((e) => !anyOfPaths.some((p) => e.schemaPath.startsWith(p)));
}

function segments(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function navigate(root: unknown, path: string[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isRecord(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isRecord(v)) return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

function typeWords(t: unknown): string {
  const list = Array.isArray(t) ? (t as string[]) : [String(t)];
  const words: Record<string, string> = {
    string: 'a string',
    array: 'a list',
    object: 'a mapping',
    integer: 'a whole number',
    number: 'a number',
    boolean: 'true or false',
  };
  return list.map((x) => words[x] ?? x).join(' or ');
}

function where(path: string[], ctx: SchemaContext): string {
  return path.length === 0 ? ctx.what : `${ctx.what} (at ${path.join('.')})`;
}

/** Where an ajv error points, in the validated data. */
interface ErrorSite {
  path: string[];
  parentPath: string[];
  key: string | undefined;
  self: unknown;
  at: Pos;
  /** `"key" ` or '' — prefix for messages about a value. */
  label: string;
}

function siteOf(e: ErrorObject, root: unknown, ctx: SchemaContext): ErrorSite {
  const path = segments(e.instancePath);
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1];
  const parent = navigate(root, parentPath);
  const self = navigate(root, path);
  const at =
    key !== undefined && (isRecord(parent) || Array.isArray(parent))
      ? ctx.map.pos(parent, Array.isArray(parent) ? Number(key) : key)
      : isRecord(self) || Array.isArray(self)
        ? ctx.map.pos(self)
        : ctx.map.pos(root as object);
  return { path, parentPath, key, self, at, label: key === undefined ? '' : `"${key}" ` };
}

function report(e: ErrorObject, root: unknown, ctx: SchemaContext): void {
  const site = siteOf(e, root, ctx);
  const { path, parentPath, key, at, label } = site;
  switch (e.keyword) {
    case 'additionalProperties':
      return unknownKey(e, site.self, path, ctx, at);
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      ctx.sink.error(
        'schema.missing_key',
        at,
        `${where(path, ctx)} is missing required key "${missing}"`,
        `add "${missing}:"`,
      );
      return;
    }
    case 'anyOf':
      return anyOf(e, at, path, ctx);
    case 'type':
      ctx.sink.error(
        'schema.wrong_type',
        at,
        `${label}in ${where(parentPath, ctx)} must be ${typeWords(e.schema)}, got ${describeValue(e.data)}`,
        modeHint(key, e.data) || typeHint(key, e.schema, e.data),
      );
      return;
    case 'enum':
      return badEnum(e, site, ctx);
    case 'pattern':
      return badPattern(e, site, ctx);
    default:
      ctx.sink.error(
        'schema.bad_value',
        at,
        `${label}in ${where(parentPath, ctx)} ${e.message ?? 'is not valid'}`,
      );
  }
}

function badEnum(e: ErrorObject, site: ErrorSite, ctx: SchemaContext): void {
  const allowed = (e.schema as unknown[]).map(String);
  const guess = typeof e.data === 'string' ? closestName(e.data, allowed) : undefined;
  ctx.sink.error(
    'schema.bad_value',
    site.at,
    `${site.label}in ${where(site.parentPath, ctx)} must be one of ${quoteList(allowed)}, got ${describeValue(e.data)}`,
    guess ? `did you mean "${guess}"?` : '',
  );
}

function badPattern(e: ErrorObject, site: ErrorSite, ctx: SchemaContext): void {
  const description =
    isRecord(e.parentSchema) && typeof e.parentSchema.description === 'string'
      ? e.parentSchema.description
      : '';
  const isName = site.path[site.path.length - 2] !== undefined && e.schemaPath.includes('propertyNames');
  const reason = description || `must match ${String(e.schema)}`;
  const message = isName
    ? `key ${JSON.stringify(e.data)} in ${where(site.path, ctx)} is not valid: ${reason}`
    : `${site.label}in ${where(site.parentPath, ctx)} is ${JSON.stringify(e.data)}, which is not valid: ${reason}`;
  ctx.sink.error('schema.bad_value', site.at, message, modeHint(site.key, e.data));
}

function unknownKey(e: ErrorObject, self: unknown, path: string[], ctx: SchemaContext, fallback: Pos): void {
  const extra = String((e.params as { additionalProperty: string }).additionalProperty);
  const props =
    isRecord(e.parentSchema) && isRecord(e.parentSchema.properties)
      ? Object.keys(e.parentSchema.properties)
      : [];
  const at = isRecord(self) ? ctx.map.keyPos(self, extra) : fallback;
  const guess = closestName(extra, props);
  const parts = [legacyKeyHints[extra] ?? (guess ? `did you mean "${guess}"?` : '')];
  if (props.length > 0) parts.push(`allowed keys: ${props.join(', ')}`);
  ctx.sink.error(
    'schema.unknown_key',
    at,
    `unknown key "${extra}" in ${where(path, ctx)}`,
    parts.filter(Boolean).join('; '),
  );
}

function anyOf(e: ErrorObject, at: Pos, path: string[], ctx: SchemaContext): void {
  const branches = Array.isArray(e.schema) ? (e.schema as Schema[]) : [];
  const required = branches.flatMap((b) => (Array.isArray(b.required) ? (b.required as string[]) : []));
  if (required.length === branches.length && required.length > 0) {
    ctx.sink.error(
      'schema.missing_key',
      at,
      `${where(path, ctx)} needs one of ${quoteList(required)}`,
      `add "${required[0]}:"`,
    );
    return;
  }
  ctx.sink.error('schema.bad_value', at, `${where(path, ctx)} does not match any allowed form`);
}

function typeHint(key: string | undefined, expected: unknown, data: unknown): string {
  const wants = Array.isArray(expected) ? (expected as string[]) : [String(expected)];
  if (wants.includes('array') && typeof data === 'string')
    return `write it as a list: ${key ?? 'key'}: [${data}]`;
  if (wants.includes('boolean') && typeof data === 'string' && /^(y|n)$/i.test(data))
    return 'write true or false';
  if (wants.includes('object') && Array.isArray(data))
    return 'write "key: value" lines here, not "- item" lines';
  if (wants.includes('array') && isRecord(data)) return 'write each item on its own line starting with "- "';
  return `write it as ${typeWords(expected)}`;
}

function modeHint(key: string | undefined, data: unknown): string {
  if (key !== 'mode') return '';
  return `quote file modes so YAML keeps the leading zero: mode: "${typeof data === 'number' ? String(data).padStart(4, '0') : '0644'}"`;
}
