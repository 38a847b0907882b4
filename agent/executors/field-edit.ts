/**
 * `field_edit`: one value in a line-oriented file of keys and fields, without owning the whole file.
 *
 * Without `field`, lines are `key<separator>value` (separator "=" by default: /etc/default/*,
 * os-release, env files): the first line whose key matches gets the value, keeping the spacing after the
 * separator as written; further lines with the same key are removed; a missing key is appended.
 * With `field: N`, lines are records split on `separator` (":" for /etc/passwd-like files, " " …); the
 * line whose field `key_field` (default 1) equals `key` gets field N set. A record that does not exist
 * is not invented (only its owner knows the other fields): that is a failure naming the key.
 * `state: absent` removes the key's line(s) in both forms. Comment lines (starting with `comment`,
 * "#" by default) and blank lines are never matched or changed.
 */
import {
  applyTextEdit,
  fail,
  guardApply,
  joinLines,
  optionalBool,
  optionalScalar,
  optionalString,
  requiredString,
  resolveAttrs,
  splitLines,
  stateParam,
  targetPath,
  type TextEdit,
} from './fs-util.ts';
import type { Executor } from './types.ts';
import { optionalInt } from './xplat-util.ts';

interface FieldEditSpec {
  readonly key: string;
  /** null = state absent. */
  readonly value: string | null;
  readonly separator: string;
  readonly field: number | undefined;
  readonly keyField: number;
  readonly comment: string;
}

function isData(line: string, comment: string): boolean {
  const t = line.trimStart();
  return t !== '' && (comment === '' || !t.startsWith(comment));
}

function kvKey(line: string, spec: FieldEditSpec): string | undefined {
  const i = line.indexOf(spec.separator);
  return i > 0 ? line.slice(0, i).trim() : undefined;
}

function kvEdit(lines: string[], spec: FieldEditSpec): TextEdit | null {
  const found = lines.flatMap((l, i) => (isData(l, spec.comment) && kvKey(l, spec) === spec.key ? [i] : []));
  if (spec.value === null) {
    if (found.length === 0) return null;
    for (const i of [...found].reverse()) lines.splice(i, 1);
    return { text: joinLines(lines), summary: `removed ${spec.key}`, removes: true };
  }
  const first = found[0];
  if (first === undefined) {
    lines.push(`${spec.key}${spec.separator}${spec.value}`);
    return { text: joinLines(lines), summary: `added ${spec.key}` };
  }
  const line = lines[first] ?? '';
  const at = line.indexOf(spec.separator) + spec.separator.length;
  const rest = line.slice(at);
  const lead = rest.length - rest.trimStart().length;
  const same = rest.trim() === spec.value;
  if (same && found.length === 1) return null;
  lines[first] = `${line.slice(0, at + lead)}${spec.value}`;
  for (const i of found.slice(1).reverse()) lines.splice(i, 1);
  return { text: joinLines(lines), summary: `set ${spec.key}` };
}

function fieldEdit(lines: string[], spec: FieldEditSpec, file: string): TextEdit | null {
  const matches = (l: string): boolean =>
    isData(l, spec.comment) && l.split(spec.separator)[spec.keyField - 1] === spec.key;
  const found = lines.flatMap((l, i) => (matches(l) ? [i] : []));
  if (spec.value === null) {
    if (found.length === 0) return null;
    for (const i of [...found].reverse()) lines.splice(i, 1);
    return { text: joinLines(lines), summary: `removed the ${spec.key} line`, removes: true };
  }
  if (found.length === 0) {
    fail(
      `${file} has no line whose field ${spec.keyField} is "${spec.key}"; field_edit changes existing lines only`,
    );
  }
  let changed = false;
  for (const i of found) {
    const parts = (lines[i] ?? '').split(spec.separator);
    const n = spec.field ?? 1;
    while (parts.length < n) parts.push('');
    if (parts[n - 1] === spec.value) continue;
    parts[n - 1] = spec.value;
    lines[i] = parts.join(spec.separator);
    changed = true;
  }
  return changed ? { text: joinLines(lines), summary: `set field ${spec.field} of ${spec.key}` } : null;
}

function readSpec(params: Readonly<Record<string, unknown>>): FieldEditSpec {
  const key = requiredString(params, 'key');
  const separator = optionalString(params, 'separator') ?? '=';
  if (separator === '' || separator.includes('\n')) fail('separator must be a non-empty single-line string');
  const field = optionalInt(params, 'field', 1, 1000);
  const keyField = optionalInt(params, 'key_field', 1, 1000) ?? 1;
  if (field !== undefined && field === keyField) fail(`field ${field} is the key field; set another one`);
  const comment = optionalString(params, 'comment') ?? '#';
  if (key.includes('\n') || key.includes(separator)) fail(`key must be one line without the separator`);
  let value: string | null = null;
  if (stateParam(params) === 'present') {
    const raw = optionalScalar(params, 'value');
    if (raw === undefined) fail('value is required when state is present');
    if (raw.includes('\n')) fail('value must be a single line');
    if (field !== undefined && raw.includes(separator)) {
      fail(`value must not contain the separator "${separator}" (it would split the field)`);
    }
    value = raw;
  }
  return { key, value, separator, field, keyField, comment };
}

export const fieldEditExecutor: Executor = {
  type: 'field_edit',
  apply: (params, ctx) =>
    guardApply(async () => {
      const file = targetPath(params);
      const spec = readSpec(params);
      return applyTextEdit(ctx, {
        file,
        create: optionalBool(params, 'create', false),
        absent: spec.value === null,
        attrs: await resolveAttrs(params, ctx.run),
        transform: (text) => {
          const lines = splitLines(text);
          return spec.field === undefined ? kvEdit(lines, spec) : fieldEdit(lines, spec, file);
        },
      });
    }),
};
