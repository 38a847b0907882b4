/**
 * Query-string parameters declared per route: each is a bounded string, a whole number in a range, a
 * choice from a closed list or a switch. An undeclared parameter is refused, like an unknown body field,
 * so a misspelt filter never silently lists everything.
 */
import type { Context } from 'hono';
import { VigoError } from '../core/index.ts';

export type QueryRule =
  | { readonly type: 'string'; readonly maxLength: number; readonly description?: string }
  | { readonly type: 'integer'; readonly min: number; readonly max: number; readonly description?: string }
  | { readonly type: 'enum'; readonly values: readonly string[]; readonly description?: string }
  | { readonly type: 'boolean'; readonly description?: string };

export type QueryRules = Readonly<Record<string, QueryRule>>;

type QueryValue<R extends QueryRule> = R extends { type: 'integer' }
  ? number
  : R extends { type: 'boolean' }
    ? boolean
    : R extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : string;

/** Parsed query: every declared parameter is optional. */
export type QueryOf<Q extends QueryRules> = { -readonly [K in keyof Q]?: QueryValue<Q[K]> };

function invalid(name: string, message: string): VigoError {
  return new VigoError('request.invalid', `${name}: ${message}`, { field: name });
}

function parseOne(name: string, rule: QueryRule, text: string): string | number | boolean {
  switch (rule.type) {
    case 'string':
      if (text.length > rule.maxLength) throw invalid(name, `longer than ${rule.maxLength} characters`);
      return text;
    case 'integer': {
      const value = /^-?\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < rule.min || value > rule.max)
        throw invalid(name, `must be a whole number from ${rule.min} to ${rule.max}`);
      return value;
    }
    case 'enum':
      if (!rule.values.includes(text)) throw invalid(name, `must be one of ${rule.values.join(', ')}`);
      return text;
    case 'boolean':
      if (text === 'true' || text === '1' || text === '') return true;
      if (text === 'false' || text === '0') return false;
      throw invalid(name, 'must be true or false');
  }
}

export function parseQuery<Q extends QueryRules>(c: Context, rules: Q, ignoreUnknown = false): QueryOf<Q> {
  const raw = c.req.queries();
  const out: Record<string, string | number | boolean> = {};
  for (const [name, values] of Object.entries(raw)) {
    // Own keys only: "?constructor=1" must be an unknown parameter, not Object.prototype.constructor.
    const rule = Object.hasOwn(rules, name) ? rules[name] : undefined;
    if (rule === undefined) {
      if (ignoreUnknown) continue;
      const known = Object.keys(rules);
      throw invalid(
        name,
        known.length === 0
          ? 'this endpoint takes no query parameters'
          : `unknown parameter; this endpoint accepts ${known.join(', ')}`,
      );
    }
    if (values.length > 1) throw invalid(name, 'given more than once');
    out[name] = parseOne(name, rule, values[0] ?? '');
  }
  return out as QueryOf<Q>;
}
