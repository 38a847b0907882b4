/**
 * Secret markers (`__VIGO_SECRET__<path>__END__`, server/policy/secrets.ts) resolved at apply time.
 * Values live only in memory for one run; everything the engine records passes through a scrubber
 * so an executor that echoes a value back (a command line in an error, a diff) cannot leak it.
 */

const markerPattern = /__VIGO_SECRET__(.+?)__END__/g;
const markerHint = '__VIGO_SECRET__';

/** Secret paths named by markers in any string inside `value`, added to `into`. */
export function collectMarkerPaths(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value.includes(markerHint)) for (const m of value.matchAll(markerPattern)) into.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) collectMarkerPaths(v, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) collectMarkerPaths(v, into);
  }
}

export type Substitution<T> = { ok: true; value: T } | { ok: false; missing: string[] };

function replaceIn(
  text: string,
  values: ReadonlyMap<string, string>,
  missing: Set<string>,
  escape: (s: string) => string,
): string {
  if (!text.includes(markerHint)) return text;
  return text.replace(markerPattern, (marker, path: string) => {
    const v = values.get(path);
    if (v === undefined) {
      missing.add(path);
      return marker;
    }
    return escape(v);
  });
}

function substituteDeep(value: unknown, values: ReadonlyMap<string, string>, missing: Set<string>): unknown {
  if (typeof value === 'string') return replaceIn(value, values, missing, (s) => s);
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, values, missing));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteDeep(v, values, missing);
    return out;
  }
  return value;
}

/** A copy of `params` with every marker replaced by its value, or the paths that have no value. */
export function substituteMarkers(
  params: Readonly<Record<string, unknown>>,
  values: ReadonlyMap<string, string>,
): Substitution<Record<string, unknown>> {
  const missing = new Set<string>();
  const value = substituteDeep(params, values, missing) as Record<string, unknown>;
  return missing.size > 0 ? { ok: false, missing: [...missing].sort() } : { ok: true, value };
}

/**
 * When-expression text with markers replaced. A marker can only sit inside a string literal there
 * (outside one, `secret:` is a syntax error at publish), so the value is escaped for the when lexer.
 */
export function substituteMarkersInWhen(
  text: string,
  values: ReadonlyMap<string, string>,
): Substitution<string> {
  const missing = new Set<string>();
  const value = replaceIn(text, values, missing, escapeWhenString);
  return missing.size > 0 ? { ok: false, missing: [...missing].sort() } : { ok: true, value };
}

const whenEscapes: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
};

function escapeWhenString(value: string): string {
  return value.replace(/[\\"'\n\r\t\0]/g, (c) => whenEscapes[c] ?? c);
}

export const secretPlaceholder = '[secret]';

/**
 * Replaces every occurrence of a resolved value, also in the JSON-escaped form a message quoting a
 * command line or a JSON body would carry. Longest values first, so a value containing another is
 * replaced whole. Empty values are ignored: replacing "" would mangle every message and hide nothing.
 */
export function createScrubber(values: ReadonlyMap<string, string>): (text: string) => string {
  const forms = new Set<string>();
  for (const v of values.values()) {
    if (v === '') continue;
    forms.add(v);
    forms.add(JSON.stringify(v).slice(1, -1));
  }
  const ordered = [...forms].filter((f) => f !== '').sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const form of ordered) if (out.includes(form)) out = out.split(form).join(secretPlaceholder);
    return out;
  };
}
