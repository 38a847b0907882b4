/**
 * `ini`: one `key = value` in a section of an INI file; comments, order and every other line stay.
 *
 * No (or an empty) section means the top of the file, before the first [section]. A key is the text
 * before the first "=" of a line, trimmed; lines starting with ";" or "#" are comments. A key that
 * occurs more than once in its section is collapsed to one line (as Ansible's ini_file does), since
 * readers disagree about which occurrence wins. An existing line keeps its spacing around "="; new
 * lines are written `key = value`, at the end of their section; a missing section is appended.
 * Messages never contain values: they may be secrets.
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

const headerPattern = /^\s*\[([^\]]*)\]\s*([;#].*)?$/;

function headerName(line: string): string | undefined {
  return headerPattern.exec(line)?.[1]?.trim();
}

function lineKey(line: string): string | undefined {
  const trimmed = line.trimStart();
  if (trimmed.startsWith(';') || trimmed.startsWith('#') || trimmed.startsWith('[')) return undefined;
  const eq = trimmed.indexOf('=');
  return eq > 0 ? trimmed.slice(0, eq).trim() : undefined;
}

/** [first line, end) of a section's body; undefined when the section does not exist. */
function sectionRange(lines: readonly string[], section: string): [number, number] | undefined {
  let start = section === '' ? 0 : -1;
  for (let i = 0; i < lines.length; i++) {
    const name = headerName(lines[i] ?? '');
    if (name === undefined) continue;
    if (start >= 0) return [start, i];
    if (name === section) start = i + 1;
  }
  return start >= 0 ? [start, lines.length] : undefined;
}

function keyLines(lines: readonly string[], range: [number, number], key: string): number[] {
  const out: number[] = [];
  for (let i = range[0]; i < range[1]; i++) if (lineKey(lines[i] ?? '') === key) out.push(i);
  return out;
}

function withValue(line: string, value: string): string {
  const eq = line.indexOf('=');
  const spacing = /^\s*/.exec(line.slice(eq + 1))?.[0] ?? ' ';
  return `${line.slice(0, eq + 1)}${spacing === '' ? '' : ' '}${value}`;
}

function insertKey(lines: string[], range: [number, number], entry: string, section: string): number {
  let at = range[1];
  while (at > range[0] && (lines[at - 1] ?? '').trim() === '') at--;
  const headerFollows = section === '' && at === range[1] && range[1] < lines.length;
  lines.splice(at, 0, ...(headerFollows ? [entry, ''] : [entry]));
  return at;
}

function presentEdit(current: string, section: string, key: string, value: string): TextEdit | null {
  const lines = splitLines(current);
  const entry = `${key} = ${value}`;
  const range = sectionRange(lines, section);
  if (!range) {
    if (lines.length > 0 && (lines[lines.length - 1] ?? '').trim() !== '') lines.push('');
    lines.push(`[${section}]`, entry);
    return { text: joinLines(lines), summary: `added section [${section}] with ${key}` };
  }
  const found = keyLines(lines, range, key);
  const first = found[0];
  if (first === undefined) {
    const at = insertKey(lines, range, entry, section);
    return { text: joinLines(lines), summary: `added ${key} at line ${at + 1}` };
  }
  const line = lines[first] ?? '';
  const currentValue = line.slice(line.indexOf('=') + 1).trim();
  if (found.length === 1 && currentValue === value) return null;
  lines[first] = withValue(line, value);
  for (const i of found.slice(1).reverse()) lines.splice(i, 1);
  const dupes = found.length > 1 ? ` (removed ${found.length - 1} duplicate line(s))` : '';
  return { text: joinLines(lines), summary: `changed ${key} at line ${first + 1}${dupes}` };
}

function absentEdit(current: string, section: string, key: string): TextEdit | null {
  const lines = splitLines(current);
  const range = sectionRange(lines, section);
  const found = range ? keyLines(lines, range, key) : [];
  if (found.length === 0) return null;
  for (const i of [...found].reverse()) lines.splice(i, 1);
  return { text: joinLines(lines), summary: `removed ${key}`, removes: true };
}

function checkText(field: string, text: string, forbidden: RegExp): void {
  if (forbidden.test(text)) fail(`${field} ${JSON.stringify(text)} cannot be written to an INI file`);
}

export const iniExecutor: Executor = {
  type: 'ini',
  apply: (params, ctx) =>
    guardApply(async () => {
      const file = targetPath(params);
      const absent = stateParam(params) === 'absent';
      const section = (optionalString(params, 'section') ?? '').trim();
      const key = requiredString(params, 'key').trim();
      const value = optionalScalar(params, 'value')?.trim();
      checkText('section', section, /[\]\n\r]/);
      checkText('key', key, /^$|^[;#[]|[=\n\r]/);
      if (value?.includes('\n')) fail('value must be a single line');
      if (!absent && value === undefined) fail('value is required when state is present');
      return applyTextEdit(ctx, {
        file,
        create: optionalBool(params, 'create', false),
        absent,
        attrs: await resolveAttrs(params, ctx.run),
        transform: (current) =>
          absent ? absentEdit(current, section, key) : presentEdit(current, section, key, value ?? ''),
      });
    }),
};
