/**
 * The value model: template data is YAML/JSON-shaped (string, number, boolean, null, arrays, plain
 * objects). A lookup that finds no key yields a `Missing`, which remembers what was looked up so that
 * the place that finally refuses it can say which var is undefined.
 */

export type TemplateMap = Record<string, unknown>;

export class Missing {
  constructor(
    readonly offset: number,
    private readonly explain: () => string,
  ) {}

  message(): string {
    return this.explain();
  }
}

/** Thrown by builtin functions; the evaluator adds the function name and position. */
export class FuncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuncError';
  }
}

export function isMap(value: unknown): value is TemplateMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Missing);
}

/** Own, defined keys only: inherited names like "constructor" are never template data. */
export function lookupKey(map: TemplateMap, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Go's truth: false, 0, nil, "" and empty lists/maps are false; a missing value is false too. */
export function isTrue(value: unknown): boolean {
  if (value === null || value === undefined || value instanceof Missing) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

/** Go's type names for a value, as fmt prints them in %!verb(type=value) and in errors. */
export function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float64';
  if (Array.isArray(value)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** A plain-words kind for operator-facing messages. */
export function kindName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return 'a map';
  return `a ${typeof value}`;
}

/** UTF-8 length, as Go's len counts bytes of a string. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
