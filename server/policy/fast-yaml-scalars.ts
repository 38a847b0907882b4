/**
 * Scalars and single-line flow collections for the fast YAML path (fast-yaml.ts). Plain scalars are
 * resolved with the general parser's own core-schema tags, so `0644`, `true`, `~` and `1e3` mean
 * exactly what they mean there.
 */
import { Schema, isScalar } from 'yaml';
import type { ScalarTag } from 'yaml';
import { stackLimits } from './limits.ts';

export type Key = string | number;

export interface FastSlot {
  key: number;
  value: number;
  text: number;
  raw?: string;
}

export interface FastContainer {
  self: number;
  slots: Map<Key, FastSlot>;
}

export type Register = (obj: object, self: number) => FastContainer;

const scalarTags = new Schema({}).tags.filter(
  (t): t is ScalarTag => !('collection' in t && t.collection) && t.default === true && t.test !== undefined,
);

/**
 * Thrown when nesting goes deeper than stackLimits.yamlMaxDepth: the text up to there is exactly what
 * the general parser would read as well, so the answer is final (and the general parser, which recurses,
 * never sees it).
 */
export class TooDeep extends Error {
  constructor(readonly offset: number) {
    super('YAML nested too deeply');
    this.name = 'TooDeep';
  }
}

/** Thrown (one shared instance, no allocation) when the input leaves the supported subset. */
export const giveUp = new Error('fast YAML path does not apply');

export function bail(): never {
  throw giveUp;
}

export const plainStart = /^[^-?:,[\]{}#&*!|>'"%@`\s]|^[-?:][^\s,[\]{}]/;

export function resolvePlain(text: string): unknown {
  for (const tag of scalarTags) {
    if (tag.test!.test(text)) {
      const resolved: unknown = tag.resolve(text, bail, {});
      // Tags may answer with a Scalar node (booleans do); the general parser unwraps it the same way.
      const v = isScalar(resolved) ? resolved.value : resolved;
      if (typeof v === 'number' && !Number.isFinite(v)) bail();
      if (typeof v === 'bigint' || (typeof v === 'object' && v !== null)) bail();
      return v;
    }
  }
  return text;
}

const escapes: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  b: '\b',
  f: '\f',
  ' ': ' ',
};

export function quotedEnd(text: string, at: number, end: number): number {
  const q = text[at];
  for (let i = at + 1; i < end; i++) {
    const ch = text[i];
    if (q === '"' && ch === '\\') i++;
    else if (ch === q) {
      if (q === "'" && text[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  return bail();
}

export function quoted(text: string, at: number, stop: number): { value: string; next: number } {
  const q = text[at]!;
  const close = quotedEnd(text, at, stop);
  const body = text.slice(at + 1, close - 1);
  if (q === "'") return { value: body.replace(/''/g, "'"), next: close };
  if (!body.includes('\\')) return { value: body, next: close };
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = body[++i] ?? bail();
    const simple = escapes[e];
    if (simple !== undefined) out += simple;
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) bail();
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bail();
      out += String.fromCodePoint(cp);
      i += n;
    } else bail();
  }
  return { value: out, next: close };
}

export function parseFlow(
  text: string,
  at: number,
  end: number,
  register: Register,
  depth: number,
): { value: unknown; next: number } {
  if (depth > stackLimits.yamlMaxDepth) throw new TooDeep(at);
  const open = text[at];
  const close = open === '[' ? ']' : '}';
  const seq: unknown[] = [];
  const map: Record<string, unknown> = {};
  const out = open === '[' ? seq : map;
  const c = register(out, at);
  let i = at + 1;
  const ws = (): void => {
    while (i < end && text[i] === ' ') i++;
  };
  ws();
  if (text[i] === close) return { value: out, next: i + 1 };
  for (;;) {
    ws();
    if (open === '{') {
      const keyAt = i;
      const k = flowItem(text, i, end, register, depth, true);
      if (typeof k.value !== 'string' && typeof k.value !== 'number') bail();
      const key = String(k.value);
      if (Object.hasOwn(map, key)) bail();
      i = k.next;
      if (text[i] !== ':' || text[i + 1] !== ' ') bail();
      i += 1;
      ws();
      const slot: FastSlot = { key: keyAt, value: i, text: -1 };
      const v = flowItem(text, i, end, register, depth, false, slot);
      map[key] = v.value;
      c.slots.set(key, slot);
      i = v.next;
    } else {
      const slot: FastSlot = { key: -1, value: i, text: -1 };
      const v = flowItem(text, i, end, register, depth, false, slot);
      seq.push(v.value);
      c.slots.set(seq.length - 1, slot);
      i = v.next;
    }
    ws();
    if (text[i] === ',') {
      i++;
      ws();
      if (text[i] === close) bail();
      continue;
    }
    if (text[i] === close) return { value: out, next: i + 1 };
    return bail();
  }
}

function flowItem(
  text: string,
  at: number,
  end: number,
  register: Register,
  depth: number,
  isKey: boolean,
  slot?: FastSlot,
): { value: unknown; next: number } {
  const ch = text[at];
  if (ch === '[' || ch === '{') {
    if (isKey) bail();
    return parseFlow(text, at, end, register, depth + 1);
  }
  if (ch === '"' || ch === "'") {
    const r = quoted(text, at, end);
    if (slot) slot.text = at + 1;
    return { value: r.value, next: r.next };
  }
  let i = at;
  while (i < end && !',[]{}#'.includes(text[i]!) && !(text[i] === ':' && text[i + 1] === ' ')) i++;
  const raw = text.slice(at, i).trimEnd();
  if (raw === '' || !plainStart.test(raw) || text[i] === '#' || text[i] === '[' || text[i] === '{') bail();
  const value = resolvePlain(raw);
  if (slot) {
    slot.text = at;
    if (typeof value === 'number') slot.raw = raw;
  }
  return { value, next: at + raw.length };
}
