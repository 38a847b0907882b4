/**
 * A fast path for the plain block-style YAML that stacks are made of. The general parser (eemeli/yaml)
 * runs at ~2 MB/s; a fleet's hostcrate files reach megabytes, so reading them dominated publish.
 * This parser accepts a strict subset — block maps and sequences, single-line plain and quoted
 * scalars, `|` block literals, single-line flow collections, comments — and produces exactly what
 * the general path produces (values, positions, number source text). Anything else (anchors,
 * aliases, tags, folded or multi-line scalars, tabs, errors, duplicate keys…) makes it give up, and
 * the caller uses the general parser, which also reports any error. fast-yaml.test.ts checks the
 * two paths agree.
 */
import { LineCounter } from 'yaml';
import { stackLimits } from './limits.ts';
import {
  TooDeep,
  bail,
  giveUp,
  parseFlow,
  plainStart,
  quoted,
  quotedEnd,
  resolvePlain,
} from './fast-yaml-scalars.ts';
import type { FastContainer, FastSlot } from './fast-yaml-scalars.ts';

export type { FastContainer, FastSlot };

export interface FastResult {
  value: unknown;
  lc: LineCounter;
  containers: [object, FastContainer][];
}

class FastParser {
  private readonly starts: number[] = [];
  private line = 0;
  /** Block collections open around the current line (flow collections count on top of it). */
  private depth = 0;
  readonly containers: [object, FastContainer][] = [];

  constructor(private readonly text: string) {
    if (text.includes('\t') || text.includes('\r')) bail();
    this.starts.push(0);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1))
      if (i + 1 < text.length) this.starts.push(i + 1);
  }

  lineStarts(): number[] {
    return this.starts;
  }

  /** Offset of the newline ending line `l` (or the end of the text). */
  private end(l: number): number {
    const next = this.starts[l + 1];
    if (next !== undefined) return next - 1;
    return this.text.endsWith('\n') ? this.text.length - 1 : this.text.length;
  }

  private indent(l: number): number {
    const s = this.starts[l]!;
    let i = s;
    while (this.text.charCodeAt(i) === 32) i++;
    return i - s;
  }

  /** Blank or comment-only line. */
  private empty(l: number): boolean {
    const s = this.starts[l]! + this.indent(l);
    return s >= this.end(l) || this.text[s] === '#';
  }

  private skip(): void {
    while (this.line < this.starts.length && this.empty(this.line)) this.line++;
  }

  parse(): unknown {
    if (/^(---|\.\.\.|%)/m.test(this.text)) bail();
    this.skip();
    if (this.line >= this.starts.length) return null;
    const value = this.block(this.indent(this.line));
    this.skip();
    if (this.line < this.starts.length) bail();
    return value;
  }

  private register(obj: object, self: number): FastContainer {
    const c: FastContainer = { self, slots: new Map() };
    this.containers.push([obj, c]);
    return c;
  }

  /** A block node whose first line is the current line, indented exactly `indent`. */
  private block(indent: number, slot: FastSlot = { key: -1, value: -1, text: -1 }): unknown {
    const at = this.starts[this.line]! + indent;
    if (this.isDash(at)) return this.seq(indent, at);
    const ch = this.text[at];
    if (ch === '[' || ch === '{') return this.inline(at, slot, indent - 1);
    return this.map(indent, at);
  }

  private isDash(at: number): boolean {
    return (
      this.text[at] === '-' &&
      (this.text[at + 1] === ' ' || this.text[at + 1] === '\n' || at + 1 >= this.text.length)
    );
  }

  private enter(at: number): void {
    if (++this.depth > stackLimits.yamlMaxDepth) throw new TooDeep(at);
  }

  /** A block sequence whose first dash is at `firstDash` (possibly mid-line: `- - a`). */
  private seq(indent: number, firstDash: number): unknown[] {
    this.enter(firstDash);
    const out: unknown[] = [];
    const c = this.register(out, firstDash);
    for (let first = true; ; first = false) {
      let dash = firstDash;
      if (!first) {
        this.skip();
        if (this.line >= this.starts.length || this.indent(this.line) < indent) break;
        dash = this.starts[this.line]! + indent;
        if (this.indent(this.line) > indent || !this.isDash(dash)) bail();
      }
      let at = dash + 1;
      while (this.text[at] === ' ') at++;
      const slot: FastSlot = { key: -1, value: at, text: -1 };
      if (at >= this.end(this.line) || this.text[at] === '#') {
        this.line++;
        out.push(this.nested(indent, slot, false));
      } else if (this.isDash(at)) {
        out.push(this.seq(at - this.starts[this.line]!, at));
      } else if (this.keyEnd(at) !== undefined) {
        out.push(this.map(at - this.starts[this.line]!, at));
      } else {
        out.push(this.inline(at, slot, indent));
      }
      c.slots.set(out.length - 1, slot);
    }
    this.depth--;
    return out;
  }

  private map(indent: number, firstAt: number): Record<string, unknown> {
    this.enter(firstAt);
    const out: Record<string, unknown> = {};
    const c = this.register(out, firstAt);
    let at = firstAt;
    for (;;) {
      const keyEnd = this.keyEnd(at) ?? bail();
      const key = this.key(at, keyEnd);
      if (Object.hasOwn(out, key) || key === '<<') bail();
      let v = keyEnd + 1;
      while (this.text[v] === ' ') v++;
      const slot: FastSlot = { key: at, value: v, text: -1 };
      if (v >= this.end(this.line) || this.text[v] === '#') {
        this.line++;
        out[key] = this.nested(indent, slot, true);
      } else {
        out[key] = this.inline(v, slot, indent);
      }
      c.slots.set(key, slot);
      this.skip();
      if (this.line >= this.starts.length) break;
      const next = this.indent(this.line);
      if (next < indent) break;
      if (next > indent) bail();
      at = this.starts[this.line]! + indent;
      if (this.isDash(at)) break;
    }
    this.depth--;
    return out;
  }

  /** The value of `key:` / `-` with nothing after it: a block node on the following lines. */
  private nested(parentIndent: number, slot: FastSlot, sameIndentSeq: boolean): unknown {
    this.skip();
    if (this.line >= this.starts.length) bail();
    const ind = this.indent(this.line);
    const at = this.starts[this.line]! + ind;
    if (ind > parentIndent || (sameIndentSeq && ind === parentIndent && this.isDash(at))) {
      slot.value = at;
      return this.block(ind, slot);
    }
    return bail();
  }

  /** Offset of the `:` ending a mapping key that starts at `at`, if this line holds one. */
  private keyEnd(at: number): number | undefined {
    const end = this.end(this.line);
    const q = this.text[at];
    if (q === '"' || q === "'") {
      const close = quotedEnd(this.text, at, end);
      return this.text[close] === ':' && (close + 1 >= end || this.text[close + 1] === ' ')
        ? close
        : undefined;
    }
    if (q === '[' || q === '{') return undefined;
    for (let i = at; i < end; i++) {
      const ch = this.text[i];
      if (ch === '#' && this.text[i - 1] === ' ') return undefined;
      if (ch === ':' && (i + 1 >= end || this.text[i + 1] === ' ')) return i;
    }
    return undefined;
  }

  private key(at: number, colon: number): string {
    const q = this.text[at];
    if (q === '"' || q === "'") return quoted(this.text, at, colon).value;
    const raw = this.text.slice(at, colon).trimEnd();
    if (!plainStart.test(raw)) bail();
    const v = resolvePlain(raw);
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    return bail();
  }

  /** A value written on the same line as its key or dash. */
  private inline(at: number, slot: FastSlot, indent: number): unknown {
    const end = this.end(this.line);
    const ch = this.text[at];
    let value: unknown;
    let next: number;
    if (ch === '|') return this.literal(at, slot, indent);
    if (ch === '"' || ch === "'") {
      const r = quoted(this.text, at, end);
      value = r.value;
      next = r.next;
      slot.text = at + 1;
    } else if (ch === '[' || ch === '{') {
      const r = parseFlow(this.text, at, end, (obj, self) => this.register(obj, self), this.depth + 1);
      value = r.value;
      next = r.next;
    } else {
      let stop = at;
      while (stop < end && !(this.text.charCodeAt(stop) === 35 && this.text.charCodeAt(stop - 1) === 32))
        stop++;
      if (stop < end) stop--;
      const raw = this.text.slice(at, stop).trimEnd();
      if (!plainStart.test(raw) || raw.includes(': ') || raw.endsWith(':') || raw.includes(' #')) bail();
      value = resolvePlain(raw);
      slot.text = at;
      if (typeof value === 'number') slot.raw = raw;
      next = at + raw.length;
    }
    this.restOfLine(next, end);
    this.line++;
    this.noContinuation(indent);
    return value;
  }

  private restOfLine(from: number, end: number): void {
    let i = from;
    while (i < end && this.text[i] === ' ') i++;
    if (i < end && !(this.text[i] === '#' && i > from)) bail();
  }

  /** A plain or quoted scalar may not continue on a more indented line (that would be multi-line). */
  private noContinuation(indent: number): void {
    const save = this.line;
    this.skip();
    if (this.line < this.starts.length && this.indent(this.line) > indent) {
      const at = this.starts[this.line]! + this.indent(this.line);
      // A compact map inside a sequence item continues at a deeper indent: that is structure, not text.
      if (!(this.keyEnd(at) !== undefined || this.isDash(at))) bail();
    }
    this.line = save;
  }

  private literal(at: number, slot: FastSlot, indent: number): string {
    const end = this.end(this.line);
    const header = this.text.slice(at, end).trimEnd();
    if (header !== '|' && header !== '|-' && header !== '|+') bail();
    const chomp = header[1] ?? '';
    this.line++;
    const lines: string[] = [];
    let block = -1;
    while (this.line < this.starts.length) {
      const s = this.starts[this.line]!;
      const e = this.end(this.line);
      const ind = this.indent(this.line);
      if (s + ind >= e) {
        if (e > s && (block < 0 || e - s > block)) bail();
        lines.push('');
      } else {
        if (block < 0) {
          if (ind <= indent) break;
          block = ind;
        }
        if (ind < block) break;
        lines.push(this.text.slice(s + block, e));
      }
      this.line++;
    }
    if (block < 0 || (chomp === '+' && this.line >= this.starts.length && !this.text.endsWith('\n'))) bail();
    slot.text = this.textStart(at);
    let trailing = 0;
    while (trailing < lines.length && lines[lines.length - 1 - trailing] === '') trailing++;
    const content = lines.slice(0, lines.length - trailing).join('\n');
    if (chomp === '-') return content;
    return content + (chomp === '+' ? '\n'.repeat(1 + trailing) : '\n');
  }

  private textStart(at: number): number {
    const nl = this.text.indexOf('\n', at);
    if (nl < 0) return at;
    let i = nl + 1;
    while (i < this.text.length && this.text[i] === ' ') i++;
    return Math.min(i, this.text.length);
  }
}

/**
 * Parses `text` if it stays inside the supported subset; undefined otherwise; `{ tooDeepAt }` when its
 * nesting goes beyond stackLimits.yamlMaxDepth at that offset.
 */
export function fastParseYaml(text: string): FastResult | { tooDeepAt: number } | undefined {
  try {
    const p = new FastParser(text);
    const value = p.parse();
    const lc = new LineCounter();
    for (const s of p.lineStarts()) lc.addNewLine(s);
    // The general parser also records the (empty) line after a final newline.
    if (text.endsWith('\n')) lc.addNewLine(text.length);
    return { value, lc, containers: p.containers };
  } catch (err) {
    if (err === giveUp) return undefined;
    if (err instanceof TooDeep) return { tooDeepAt: err.offset };
    throw err;
  }
}
