import { formatValue } from './format.ts';
import { sprintf } from './printf.ts';
import { textFuncs } from './funcs-text.ts';
import { FuncError, Missing, isMap, isTrue, kindName, lookupKey, utf8Length } from './values.ts';

/**
 * The function table. Go's builtins keep Go's semantics; the Vigo additions follow Sprig's argument
 * order (`{{ .x | default "80" }}` means default("80", .x): a piped value is always the LAST argument).
 *
 * Missing values: a strict function never sees one (the evaluator refuses it first, naming the var);
 * tolerant and lazy functions receive it and treat it as empty/false.
 */

export interface CallContext {
  /** A Missing located at the calling command, for lookups (index) that find nothing. */
  missing(explain: () => string): Missing;
}

interface FuncBase {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
}

export type FuncDef =
  | (FuncBase & { readonly mode: 'strict' | 'tolerant'; call(args: unknown[], ctx: CallContext): unknown })
  | (FuncBase & { readonly mode: 'lazy'; call(args: ReadonlyArray<() => unknown>): unknown });

export type EagerFunc = (args: unknown[], ctx: CallContext) => unknown;

export function strict(name: string, minArgs: number, maxArgs: number, call: EagerFunc): FuncDef {
  return { name, minArgs, maxArgs, mode: 'strict', call };
}

type BasicKind = 'bool' | 'number' | 'string' | 'nil' | 'composite';

function basicKind(value: unknown): BasicKind {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  return 'composite';
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value) || isMap(value)) return kindName(value);
  return `${typeof value} ${formatValue(value)}`;
}

function incompatible(a: unknown, b: unknown): FuncError {
  const hint =
    (typeof a === 'string' && typeof b === 'number') || (typeof a === 'number' && typeof b === 'string')
      ? ' (a quoted YAML value is a string: compare with a quoted literal, or drop the quotes in the var)'
      : '';
  return new FuncError(`incompatible types for comparison: ${describe(a)} and ${describe(b)}${hint}`);
}

function equal(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'composite' || kb === 'composite') {
    throw new FuncError(
      `can't compare ${kindName(ka === 'composite' ? a : b)}: only strings, numbers and booleans compare`,
    );
  }
  if (ka !== kb) {
    if (ka === 'nil' || kb === 'nil') return false;
    throw incompatible(a, b);
  }
  return a === b || (ka === 'nil' && kb === 'nil');
}

function lessThan(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (
    ka === 'nil' ||
    kb === 'nil' ||
    ka === 'bool' ||
    kb === 'bool' ||
    ka === 'composite' ||
    kb === 'composite'
  ) {
    throw new FuncError(
      `invalid type for ordering: ${describe(ka === 'number' || ka === 'string' ? b : a)} (only numbers and strings order)`,
    );
  }
  if (ka !== kb) throw incompatible(a, b);
  return (a as number | string) < (b as number | string);
}

function len(value: unknown): number {
  if (typeof value === 'string') return utf8Length(value);
  if (Array.isArray(value)) return value.length;
  if (isMap(value)) return Object.keys(value).length;
  throw new FuncError(`len of ${describe(value)}: len takes a string, list or map`);
}

function indexOne(container: unknown, key: unknown, ctx: CallContext): unknown {
  if (Array.isArray(container) || typeof container === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) {
      throw new FuncError(`cannot index ${kindName(container)} with ${describe(key)}: use a whole number`);
    }
    const items = typeof container === 'string' ? [...Buffer.from(container, 'utf8')] : container;
    if (key < 0 || key >= items.length)
      throw new FuncError(`index out of range: ${key} (length ${items.length})`);
    return items[key];
  }
  if (isMap(container)) {
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new FuncError(`cannot index a map with ${describe(key)}: map keys are strings`);
    }
    const name = String(key);
    const value = lookupKey(container, name);
    if (value !== undefined) return value;
    const keys = Object.keys(container).sort();
    return ctx.missing(
      () => `index: key ${JSON.stringify(name)} is not set (the map has: ${keys.join(', ') || 'no keys'})`,
    );
  }
  throw new FuncError(`can't index ${describe(container)}`);
}

function index(args: unknown[], ctx: CallContext): unknown {
  let value = args[0];
  for (const key of args.slice(1)) {
    value = indexOne(value, key, ctx);
    if (value instanceof Missing) return value;
  }
  return value;
}

/** fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(arg);
  });
  return out;
}

const goBuiltins: FuncDef[] = [
  strict('eq', 2, Infinity, ([a, ...rest]) => rest.some((b) => equal(a, b))),
  strict('ne', 2, 2, ([a, b]) => !equal(a, b)),
  strict('lt', 2, 2, ([a, b]) => lessThan(a, b)),
  strict('le', 2, 2, ([a, b]) => lessThan(a, b) || equal(a, b)),
  strict('gt', 2, 2, ([a, b]) => !(lessThan(a, b) || equal(a, b))),
  strict('ge', 2, 2, ([a, b]) => !lessThan(a, b)),
  {
    name: 'and',
    minArgs: 1,
    maxArgs: Infinity,
    mode: 'lazy',
    call(args) {
      let value: unknown;
      for (const arg of args) if (!isTrue((value = arg()))) return value;
      return value;
    },
  },
  {
    name: 'or',
    minArgs: 1,
    maxArgs: Infinity,
    mode: 'lazy',
    call(args) {
      let value: unknown;
      for (const arg of args) if (isTrue((value = arg()))) return value;
      return value;
    },
  },
  { name: 'not', minArgs: 1, maxArgs: 1, mode: 'tolerant', call: ([value]) => !isTrue(value) },
  strict('len', 1, 1, ([value]) => len(value)),
  strict('index', 1, Infinity, index),
  strict('print', 0, Infinity, sprint),
  strict('println', 0, Infinity, (args) => `${args.map(formatValue).join(' ')}\n`),
  strict('printf', 1, Infinity, ([format, ...rest]) => {
    if (typeof format !== 'string')
      throw new FuncError(`the format must be a string, got ${describe(format)}`);
    return sprintf(format, rest);
  }),
];

const table = new Map<string, FuncDef>([...goBuiltins, ...textFuncs].map((def) => [def.name, def]));

export function lookupFunc(name: string): FuncDef | undefined {
  return table.get(name);
}

export function funcNames(): string[] {
  return [...table.keys()];
}
