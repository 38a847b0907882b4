/**
 * `secret:<path>` references. A reference is `secret:` at the start of a string or after a
 * non-word character (`DATABASE_URL=secret:vigo/db`), followed by a path of letters, digits and
 * `_ . / -` that ends in a letter, digit or `_`. Values never leave the server: compiled output carries
 * `__VIGO_SECRET__<path>__END__` markers that the agent resolves with ResolveSecrets.
 */
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import { isRecord } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';

const refPattern = /(?<![A-Za-z0-9_])secret:([A-Za-z0-9_](?:[A-Za-z0-9_./-]*[A-Za-z0-9_])?)/g;
const markerPattern = /__VIGO_SECRET__(.+?)__END__/g;

export function secretMarker(path: string): string {
  return `__VIGO_SECRET__${path}__END__`;
}

export function findSecretRefs(text: string): { path: string; index: number }[] {
  if (!text.includes('secret:')) return [];
  return [...text.matchAll(refPattern)].map((m) => ({ path: m[1]!, index: m.index }));
}

export function replaceSecretRefs(text: string): string {
  return text.includes('secret:') ? text.replace(refPattern, (_m, p: string) => secretMarker(p)) : text;
}

/**
 * A YAML value with every secret reference replaced by its marker. Parts without references are
 * shared with the input (copy on write), so call it on values that are not mutated afterwards.
 */
export function withMarkers<T>(value: T): T {
  if (typeof value === 'string') return replaceSecretRefs(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = withMarkers(value[i] as unknown);
      if (v !== value[i] && !out) out = value.slice(0, i);
      out?.push(v);
    }
    return (out ?? value) as T;
  }
  if (isRecord(value)) {
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(value)) {
      const v = value[k];
      const m = withMarkers(v);
      if (m !== v && !out) out = { ...value };
      if (out) out[k] = m;
    }
    return (out ?? value) as T;
  }
  return value;
}

/** Secret paths named by markers anywhere inside `value`, added to `into`. */
export function collectMarkers(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value.includes('__VIGO_SECRET__')) for (const m of value.matchAll(markerPattern)) into.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) collectMarkers(v, into);
  } else if (isRecord(value)) {
    for (const v of Object.values(value)) collectMarkers(v, into);
  }
}

function offsetPos(start: Pos, text: string, index: number): Pos {
  const before = text.slice(0, index);
  const nl = before.lastIndexOf('\n');
  if (nl < 0) return { file: start.file, line: start.line, col: start.col + index };
  const lines = before.split('\n').length - 1;
  return { file: start.file, line: start.line + lines, col: start.col + (index - nl - 1) };
}

export interface SecretChecker {
  exists(path: string): boolean;
  sink: DiagnosticSink;
}

function reportMissing(path: string, at: Pos, checker: SecretChecker): void {
  if (checker.exists(path)) return;
  checker.sink.error(
    'secret.unresolved',
    at,
    `secret:${path} does not exist in the secrets store`,
    `create it (vigocli secrets set ${path}) or fix the path; nothing is published while a reference is unresolved`,
  );
}

/** Checks every reference inside a YAML value tree, reporting each missing one where it is written. */
export function checkSecretsIn(value: unknown, map: SourceMap, checker: SecretChecker): void {
  const visit = (v: unknown, holder: object, key: string | number): void => {
    if (typeof v === 'string') {
      for (const ref of findSecretRefs(v))
        reportMissing(ref.path, offsetPos(map.textPos(holder, key), v, ref.index), checker);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, v, i));
    } else if (isRecord(v)) {
      for (const [k, x] of Object.entries(v)) visit(x, v, k);
    }
  };
  if (Array.isArray(value)) value.forEach((x, i) => visit(x, value, i));
  else if (isRecord(value)) for (const [k, x] of Object.entries(value)) visit(x, value, k);
}

/** Same, for a template file's raw text. */
export function checkSecretsInText(text: string, file: string, checker: SecretChecker): void {
  for (const ref of findSecretRefs(text))
    reportMissing(ref.path, offsetPos({ file, line: 1, col: 1 }, text, ref.index), checker);
}
