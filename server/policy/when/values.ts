import type { CompareOp } from './ast.ts';

/**
 * Value semantics of when: expressions. Vars come from YAML, where `8` and `"8"` are easy to mix
 * up, so comparisons are forgiving about numbers-as-strings and strict about everything else:
 *   - a number against a number or a numeric string compares numerically ("8" > 4 is true);
 *   - two strings: == and != compare exactly; <, <=, >, >= compare numerically when both are
 *     numeric ("10" > "9") and alphabetically otherwise;
 *   - booleans compare with booleans and with the strings "true"/"false";
 *   - null (a trait this envoy does not report) equals only null, and every ordering with it is false;
 *   - anything else (a number against "abc", lists, maps) is an evaluation error.
 * Truth: booleans; the strings true/yes/on/1 and false/no/off/0/""; numbers (0 is false); null is
 * false; lists and maps are true when non-empty; any other string is an error (compare it explicitly).
 */

export class ValueProblem extends Error {}

const numeric = /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/;
const trueWords = new Set(['true', 'yes', 'on', '1']);
const falseWords = new Set(['false', 'no', 'off', '0', '']);

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

export function truthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === null || value === undefined) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (trueWords.has(word)) return true;
    if (falseWords.has(word)) return false;
    throw new ValueProblem(
      `${describeValue(value)} is not true or false: compare it, e.g. == ${JSON.stringify(value)}`,
    );
  }
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  throw new ValueProblem(`${describeValue(value)} is not true or false`);
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && numeric.test(value)) return Number(value);
  return undefined;
}

function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  return word === 'true' ? true : word === 'false' ? false : undefined;
}

function order(op: CompareOp, diff: number): boolean {
  switch (op) {
    case '==':
      return diff === 0;
    case '!=':
      return diff !== 0;
    case '<':
      return diff < 0;
    case '<=':
      return diff <= 0;
    case '>':
      return diff > 0;
    case '>=':
      return diff >= 0;
  }
}

export function compareValues(op: CompareOp, a: unknown, b: unknown): boolean {
  const equality = op === '==' || op === '!=';
  if (a === null || a === undefined || b === null || b === undefined) {
    if (!equality) return false;
    const same = (a ?? null) === (b ?? null);
    return op === '==' ? same : !same;
  }
  if (typeof a === 'object' || typeof b === 'object') {
    throw new ValueProblem(
      `cannot compare ${describeValue(typeof a === 'object' ? a : b)}: only strings, numbers and booleans compare`,
    );
  }
  if (typeof a === 'string' && typeof b === 'string') {
    const na = asNumber(a);
    const nb = asNumber(b);
    if (!equality && na !== undefined && nb !== undefined) return order(op, na - nb);
    return order(op, a === b ? 0 : a < b ? -1 : 1);
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const na = asNumber(a);
    const nb = asNumber(b);
    if (na !== undefined && nb !== undefined) return order(op, na - nb);
  } else {
    const ba = asBoolean(a);
    const bb = asBoolean(b);
    if (ba !== undefined && bb !== undefined) {
      if (!equality) throw new ValueProblem(`booleans have no order: use == or != with ${describeValue(a)}`);
      return order(op, ba === bb ? 0 : 1);
    }
  }
  throw new ValueProblem(`cannot compare ${describeValue(a)} with ${describeValue(b)}`);
}
