/**
 * `json_file`: one value at a dotted key path in a JSON document; the rest of the data is kept.
 *
 * Key paths: segments separated by "."; write "\." for a dot inside a key and "\\" for a backslash
 * (`a\.b.c` is key "a.b", then "c"). A segment that is a non-negative integer indexes an array when
 * the value there is an array (index = length appends). Missing objects on the way are created.
 * When something changes the file is rewritten as 2-space indented JSON with a final newline; a file
 * that already holds the value is left byte for byte. A file that is not valid JSON is never
 * overwritten (failed); an empty file counts as {}. Messages never contain values (secrets).
 */
import { isDeepStrictEqual } from 'node:util';
import {
  applyTextEdit,
  fail,
  guardApply,
  optionalBool,
  requiredString,
  resolveAttrs,
  stateParam,
  targetPath,
  type TextEdit,
} from './fs-util.ts';
import type { Executor } from './types.ts';

type Container = Record<string, unknown> | unknown[];

export function parseKeyPath(key: string): string[] {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    if (c === '\\') {
      const next = key[i + 1];
      if (next !== '.' && next !== '\\') fail(`key "${key}": a backslash must be followed by . or \\`);
      current += next;
      i++;
    } else if (c === '.') {
      segments.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  segments.push(current);
  if (segments.some((s) => s === '')) fail(`key "${key}" has an empty segment; write e.g. server.port`);
  return segments;
}

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

function arrayIndex(arr: unknown[], seg: string, where: string, forWrite: boolean): number {
  if (!/^\d+$/.test(seg)) fail(`${where} is an array; "${seg}" is not an index`);
  const i = Number(seg);
  if (i > arr.length || (!forWrite && i === arr.length)) {
    fail(`${where} has ${arr.length} element(s); index ${i} is out of range`);
  }
  return i;
}

function getChild(c: Container, seg: string): unknown {
  if (Array.isArray(c)) return /^\d+$/.test(seg) ? c[Number(seg)] : undefined;
  return Object.hasOwn(c, seg) ? c[seg] : undefined;
}

/** Own data properties only: a key named __proto__ must not reach the prototype. */
function setChild(c: Container, seg: string, value: unknown, where: string): void {
  if (Array.isArray(c)) c[arrayIndex(c, seg, where, true)] = value;
  else Object.defineProperty(c, seg, { value, writable: true, enumerable: true, configurable: true });
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

function parseDocument(file: string, text: string): Container {
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(`${file} is not valid JSON (${(err as Error).message}); fix it by hand, it will not be overwritten`);
  }
  if (!isContainer(doc)) fail(`${file} holds ${describe(doc)}, not a JSON object`);
  return doc;
}

function render(doc: Container): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function setEdit(
  file: string,
  text: string,
  segments: string[],
  key: string,
  value: unknown,
): TextEdit | null {
  const doc = parseDocument(file, text);
  let node: Container = doc;
  for (const [i, seg] of segments.entries()) {
    const where = segments.slice(0, i).join('.') || 'the document';
    const last = i === segments.length - 1;
    const child = getChild(node, seg);
    if (last) {
      if (child !== undefined && isDeepStrictEqual(child, value)) return null;
      setChild(node, seg, value, where);
      return { text: render(doc), summary: child === undefined ? `added ${key}` : `changed ${key}` };
    }
    if (child === undefined) {
      const created: Container = {};
      setChild(node, seg, created, where);
      node = created;
    } else if (isContainer(child)) {
      node = child;
    } else {
      fail(`${segments.slice(0, i + 1).join('.')} is ${describe(child)}, not an object; cannot set ${key}`);
    }
  }
  return null;
}

function removeEdit(file: string, text: string, segments: string[], key: string): TextEdit | null {
  const doc = parseDocument(file, text);
  let node: unknown = doc;
  for (const seg of segments.slice(0, -1)) {
    if (!isContainer(node)) return null;
    node = getChild(node, seg);
  }
  const last = segments[segments.length - 1] ?? '';
  if (!isContainer(node) || getChild(node, last) === undefined) return null;
  if (Array.isArray(node)) node.splice(Number(last), 1);
  else delete node[last];
  return { text: render(doc), summary: `removed ${key}`, removes: true };
}

export const jsonFileExecutor: Executor = {
  type: 'json_file',
  apply: (params, ctx) =>
    guardApply(async () => {
      const file = targetPath(params);
      const absent = stateParam(params) === 'absent';
      const key = requiredString(params, 'key');
      const segments = parseKeyPath(key);
      if (!absent && !('value' in params)) fail('value is required when state is present (it may be null)');
      const value: unknown = params.value;
      return applyTextEdit(ctx, {
        file,
        create: optionalBool(params, 'create', false),
        absent,
        attrs: await resolveAttrs(params, ctx.run),
        transform: (current) =>
          absent ? removeEdit(file, current, segments, key) : setEdit(file, current, segments, key, value),
      });
    }),
};
