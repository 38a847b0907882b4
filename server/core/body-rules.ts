/**
 * Rules for a JSON request body: an object whose fields are all declared, of the declared type and within
 * bounds. Anything else is `request.invalid` naming the field, before a use case sees it. Declared once per
 * body, the rules also give the parsed type. The HTTP layer applies them to request bodies; the stack
 * validator applies the same rules to an upload it parses off the serving thread.
 */
import { VigoError } from './errors.ts';

export type FieldRule =
  | { readonly type: 'string'; readonly optional?: boolean; readonly maxLength: number }
  | { readonly type: 'integer'; readonly optional?: boolean }
  | { readonly type: 'boolean'; readonly optional?: boolean }
  /** An uploaded file tree: `[{path, content}]` with text contents. */
  | { readonly type: 'files'; readonly optional?: boolean; readonly maxItems: number }
  /**
   * Any JSON value, whose shape the use case checks itself (a field that is a number or a string, an
   * object of its own); `schema` describes it in the OpenAPI document.
   */
  | { readonly type: 'json'; readonly optional?: boolean; readonly schema: Readonly<Record<string, unknown>> }
  | {
      readonly type: 'string-array';
      readonly optional?: boolean;
      readonly maxItems: number;
      readonly maxItemLength: number;
    };

export type BodyRules = Readonly<Record<string, FieldRule>>;

export interface UploadedFile {
  path: string;
  content: string;
}

type ValueOf<R extends FieldRule> = R extends { type: 'string' }
  ? string
  : R extends { type: 'integer' }
    ? number
    : R extends { type: 'boolean' }
      ? boolean
      : R extends { type: 'files' }
        ? UploadedFile[]
        : R extends { type: 'json' }
          ? unknown
          : string[];

type RequiredKeys<S extends BodyRules> = {
  [K in keyof S]: S[K] extends { optional: true } ? never : K;
}[keyof S];
type OptionalKeys<S extends BodyRules> = Exclude<keyof S, RequiredKeys<S>>;

/** The object a body satisfying `S` parses to. */
export type BodyOf<S extends BodyRules> = { -readonly [K in RequiredKeys<S>]: ValueOf<S[K]> } & {
  -readonly [K in OptionalKeys<S>]?: ValueOf<S[K]>;
};

function invalid(message: string, field?: string): VigoError {
  return new VigoError('request.invalid', message, field === undefined ? {} : { field });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function checkFiles(name: string, maxItems: number, value: unknown): void {
  if (!Array.isArray(value))
    throw invalid(
      `field "${name}" must be an array of {path, content} objects, got ${describe(value)}`,
      name,
    );
  if (value.length > maxItems) throw invalid(`field "${name}" holds more than ${maxItems} files`, name);
  value.forEach((item: unknown, index) => {
    const file = item as Record<string, unknown> | null;
    if (typeof file !== 'object' || file === null || Array.isArray(file))
      throw invalid(`field "${name}[${index}]" must be an object {path, content}`, name);
    const extra = Object.keys(file).find((k) => k !== 'path' && k !== 'content');
    if (extra !== undefined) throw invalid(`field "${name}[${index}]" has an unknown key "${extra}"`, name);
    if (typeof file.path !== 'string' || typeof file.content !== 'string')
      throw invalid(`field "${name}[${index}]" needs a string path and a string content`, name);
  });
}

function checkField(name: string, rule: FieldRule, value: unknown): void {
  switch (rule.type) {
    case 'string':
      if (typeof value !== 'string')
        throw invalid(`field "${name}" must be a string, got ${describe(value)}`, name);
      if (value.length > rule.maxLength) {
        throw invalid(`field "${name}" is longer than ${rule.maxLength} characters`, name);
      }
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw invalid(`field "${name}" must be a whole number, got ${describe(value)}`, name);
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean')
        throw invalid(`field "${name}" must be true or false, got ${describe(value)}`, name);
      return;
    case 'files':
      checkFiles(name, rule.maxItems, value);
      return;
    case 'json':
      return;
    case 'string-array':
      if (!Array.isArray(value))
        throw invalid(`field "${name}" must be an array of strings, got ${describe(value)}`, name);
      if (value.length > rule.maxItems)
        throw invalid(`field "${name}" holds more than ${rule.maxItems} items`, name);
      value.forEach((item: unknown, index) => {
        if (typeof item !== 'string') {
          throw invalid(`field "${name}[${index}]" must be a string, got ${describe(item)}`, name);
        }
        if (item.length > rule.maxItemLength) {
          throw invalid(`field "${name}[${index}]" is longer than ${rule.maxItemLength} characters`, name);
        }
      });
      return;
  }
}

/** Checks a parsed JSON value against `rules`; throws `request.invalid` naming the first bad field. */
export function parseBody<S extends BodyRules>(value: unknown, rules: S): BodyOf<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`the request body must be a JSON object, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  const known = Object.keys(rules);
  for (const name of Object.keys(record)) {
    if (!Object.hasOwn(rules, name)) {
      throw invalid(
        `unknown field "${name}"; this endpoint accepts ${known.map((k) => `"${k}"`).join(', ')}`,
        name,
      );
    }
  }
  for (const [name, rule] of Object.entries(rules)) {
    const fieldValue = record[name];
    if (fieldValue === undefined) {
      if (rule.optional === true) continue;
      throw invalid(`field "${name}" is required`, name);
    }
    checkField(name, rule, fieldValue);
  }
  return record as BodyOf<S>;
}

/** Parses `text` as JSON and checks it against `rules` (`request.invalid` for either failure). */
export function parseJsonBody<S extends BodyRules>(text: string, rules: S): BodyOf<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  return parseBody(value, rules);
}
