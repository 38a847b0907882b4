import { templateLimits } from '../limits.ts';
import { outputLimitError } from './budget.ts';
import { formatNumber, formatValue, goQuote } from './format.ts';
import type { FuncDef } from './funcs.ts';
import { FuncError, isMap, isTrue, kindName } from './values.ts';

/**
 * Vigo's helpers beyond Go's builtins, with Sprig's names and argument order so that the piped
 * value (always the last argument in Go) is the subject: `{{ .Vars.name | replace "-" "_" }}`.
 */

function text(value: unknown, what = 'value'): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return formatValue(value);
  throw new FuncError(`expected a string ${what}, got ${kindName(value)}`);
}

function wholeNumber(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new FuncError(`${what} must be a whole number ≥ 0, got ${formatValue(value)}`);
}

/**
 * Both `join .Vars.list ","` and `.Vars.list | join ","` (= join "," .Vars.list): whichever argument
 * is the list is joined with the other. Null items are skipped, as Sprig does.
 */
function join([a, b]: unknown[]): string {
  const [list, separator] = Array.isArray(a) && !Array.isArray(b) ? [a, b] : [b, a];
  if (!Array.isArray(list)) {
    throw new FuncError(`needs a list and a separator, got ${kindName(a)} and ${kindName(b)}`);
  }
  const sep = text(separator, 'separator');
  const items = list
    .filter((item) => item !== null && item !== undefined)
    .map((item) => text(item, 'list item'));
  let size = Math.max(0, items.length - 1) * sep.length;
  for (const item of items) size += item.length;
  refuseLarger(size);
  return items.join(sep);
}

/** Functions whose result can be far larger than their arguments check the size before building it. */
function refuseLarger(size: number): void {
  if (size > templateLimits.maxOutputChars) throw outputLimitError(size);
}

function occurrences(haystack: string, needle: string): number {
  if (needle === '') return haystack.length + 1;
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

function replace(from: string, to: string, value: string): string {
  if (to.length > from.length)
    refuseLarger(value.length + occurrences(value, from) * (to.length - from.length));
  return value.replaceAll(from, to);
}

/** `contains "x" .Vars.s` is substring search; with a list on either side it is membership. */
function contains([needle, haystack]: unknown[]): boolean {
  if (Array.isArray(haystack)) return haystack.some((item) => item === needle);
  if (Array.isArray(needle)) return needle.some((item) => item === haystack);
  return text(haystack).includes(text(needle, 'substring'));
}

function indent(spaces: unknown, value: unknown): string {
  const width = wholeNumber(spaces, 'the indent width');
  const body = text(value);
  refuseLarger(body.length + width * (occurrences(body, '\n') + 1));
  const pad = ' '.repeat(width);
  return pad + body.replaceAll('\n', `\n${pad}`);
}

function jsonString(value: string): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

/** Go's encoding/json: sorted map keys, no spaces, HTML-safe escapes. */
export function toJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new FuncError(`json: unsupported value: ${formatNumber(value)}`);
    return Number.isInteger(value) && Math.abs(value) < 1e21 ? formatNumber(value) : String(value);
  }
  if (typeof value === 'string') return jsonString(value);
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (isMap(value)) {
    const parts = Object.keys(value)
      .sort()
      .map((key) => `${jsonString(key)}:${toJson(value[key])}`);
    return `{${parts.join(',')}}`;
  }
  throw new FuncError(`json: unsupported value of type ${typeof value}`);
}

/** unicode.IsSpace, which differs from JS's \s on U+0085 and U+FEFF. */
const goSpaceEdges =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

function def(name: string, minArgs: number, maxArgs: number, call: (args: unknown[]) => unknown): FuncDef {
  return { name, minArgs, maxArgs, mode: 'strict', call };
}

export const textFuncs: FuncDef[] = [
  {
    name: 'default',
    minArgs: 2,
    maxArgs: 2,
    mode: 'tolerant',
    call: ([fallback, value]) => (isTrue(value) ? value : fallback),
  },
  def('upper', 1, 1, ([value]) => text(value).toUpperCase()),
  def('lower', 1, 1, ([value]) => text(value).toLowerCase()),
  def('trim', 1, 1, ([value]) => text(value).replace(goSpaceEdges, '')),
  def('join', 2, 2, join),
  def('quote', 1, Infinity, (args) =>
    args
      .filter((arg) => arg !== null && arg !== undefined)
      .map((arg) => goQuote(text(arg)))
      .join(' '),
  ),
  def('replace', 3, 3, ([from, to, value]) =>
    replace(text(from, 'pattern'), text(to, 'replacement'), text(value)),
  ),
  def('split', 2, 2, ([separator, value]) => {
    const sep = text(separator, 'separator');
    return sep === '' ? [...text(value)] : text(value).split(sep);
  }),
  def('contains', 2, 2, contains),
  def('hasPrefix', 2, 2, ([prefix, value]) => text(value).startsWith(text(prefix, 'prefix'))),
  def('hasSuffix', 2, 2, ([suffix, value]) => text(value).endsWith(text(suffix, 'suffix'))),
  def('toJson', 1, 1, ([value]) => toJson(value)),
  def('indent', 2, 2, ([spaces, value]) => indent(spaces, value)),
  def('nindent', 2, 2, ([spaces, value]) => `\n${indent(spaces, value)}`),
];
