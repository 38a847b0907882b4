/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, as RFC 8785) at every depth, no whitespace, and
 * only values that survive a JSON round trip unchanged. The same data therefore always hashes the same, and
 * anything JSON.stringify would silently drop or rewrite (undefined, NaN, a Date, a Map) is refused instead.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

const identifierPattern = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function childPath(path: string, key: string): string {
  return identifierPattern.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && value !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a custom prototype';
  }
  return `a ${typeof value}`;
}

function encodeArray(value: readonly unknown[], path: string, ancestors: Set<object>): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i++) {
    if (!(i in value))
      throw new TypeError(`${path}[${i}] is a hole in a sparse array; JSON would turn it into null`);
    parts.push(encode(value[i], `${path}[${i}]`, ancestors));
  }
  return `[${parts.join(',')}]`;
}

function encodeObject(value: object, path: string, ancestors: Set<object>): string {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(
      `${path} is ${describeValue(value)}; convert it to a plain object, array, string or number`,
    );
  }
  if (Object.getOwnPropertySymbols(value).length > 0) {
    throw new TypeError(`${path} has symbol keys, which JSON cannot represent`);
  }
  const record = value as Record<string, unknown>;
  const parts = Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${encode(record[key], childPath(path, key), ancestors)}`);
  return `{${parts.join(',')}}`;
}

function encode(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path} is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (ancestors.has(value)) throw new TypeError(`${path} refers back to one of its parents (a cycle)`);
      ancestors.add(value);
      try {
        return Array.isArray(value)
          ? encodeArray(value, path, ancestors)
          : encodeObject(value, path, ancestors);
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      throw new TypeError(`${path} is ${describeValue(value)}, which JSON cannot represent`);
  }
}

/**
 * Encodes `value` canonically; throws a TypeError naming the offending path (`$.a.b[2]`) for anything that
 * is not a string, finite number, boolean, null, array or plain object.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$', new Set());
}
