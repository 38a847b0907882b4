/**
 * YAML → plain values, remembering where every key and value came from so a schema error can point
 * at the offending key (file:line:col) rather than at the file.
 */
import { LineCounter, Parser, isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Alias, Document, Node as YamlNode, Pair, Scalar } from 'yaml';
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import { fastParseYaml } from './fast-yaml.ts';
import { stackLimits } from './limits.ts';
import { aliasTargets, composeDocument, tooDeepOffset } from './yaml-compose.ts';

type Key = string | number;

/** Offsets into one file's text; turned into line:col only when someone asks (mostly for errors). */
interface Slot {
  key: number;
  value: number;
  /** Where a scalar's text starts (after a quote, or on the line after a `|` indicator). */
  text: number;
  /** Source text of a plain scalar YAML read as a number (`mode: 0644` → "0644"). */
  raw?: string;
}

interface Located {
  file: string;
  lc: LineCounter;
  self: number;
  slots: Map<Key, Slot>;
}

const nowhere: Pos = { file: '', line: 1, col: 1 };

/** Where things are. One instance serves every file of a stacks tree. */
export class SourceMap {
  private readonly locs = new WeakMap<object, Located>();

  register(obj: object, located: Located): void {
    this.locs.set(obj, located);
  }

  private at(loc: Located, offset: number): Pos {
    return { file: loc.file, ...loc.lc.linePos(offset) };
  }

  /** Position of a container, or of its child value `key` when given and known. */
  pos(obj: object, key?: Key): Pos {
    const loc = this.locs.get(obj);
    if (!loc) return nowhere;
    const slot = key === undefined ? undefined : loc.slots.get(key);
    if (!slot) return this.at(loc, loc.self);
    return this.at(loc, slot.value >= 0 ? slot.value : slot.key);
  }

  /** Position of the key itself (for unknown-key errors). */
  keyPos(obj: object, key: Key): Pos {
    const loc = this.locs.get(obj);
    if (!loc) return nowhere;
    const slot = loc.slots.get(key);
    if (!slot) return this.at(loc, loc.self);
    return this.at(loc, slot.key >= 0 ? slot.key : slot.value);
  }

  textPos(obj: object, key: Key): Pos {
    const loc = this.locs.get(obj);
    const slot = loc?.slots.get(key);
    return loc && slot && slot.text >= 0 ? this.at(loc, slot.text) : this.pos(obj, key);
  }

  raw(obj: object, key: Key): string | undefined {
    return this.locs.get(obj)?.slots.get(key)?.raw;
  }

  /** Copies the location of `from` to a derived object (after a shallow clone or merge). */
  alias(target: object, from: object): void {
    const loc = this.locs.get(from);
    if (loc) this.locs.set(target, loc);
  }

  /** Copies where `from[key]` was written onto `target[key]` (merge keys). */
  copySlot(target: object, from: object, key: Key): void {
    const t = this.locs.get(target);
    const f = this.locs.get(from);
    const slot = f?.slots.get(key);
    if (t && f && slot && f.file === t.file) t.slots.set(key, slot);
  }
}

export const maxYamlBytes = 4 * 1024 * 1024;
const maxNodes = 500_000;

const friendlyYamlErrors: Record<string, string> = {
  MULTIPLE_DOCS: 'a .vgo file holds one YAML document; remove the "---" separator or split the file',
  DUPLICATE_KEY: 'this key appears twice in the same mapping',
  TAB_AS_INDENT: 'tabs are not allowed for indentation',
};

function lineTabs(text: string): { line: number; col: number }[] {
  const out: { line: number; col: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const indent = /^[ \t]*/.exec(line)![0];
    const tab = indent.indexOf('\t');
    if (tab >= 0 && indent.length < line.length) out.push({ line: i + 1, col: tab + 1 });
  }
  return out;
}

/** Parses one file. Returns undefined (after reporting) when the YAML itself is broken. */
export function loadYaml(
  file: string,
  rawText: string,
  sink: DiagnosticSink,
  map: SourceMap,
  options: { fast?: boolean } = {},
): { value: unknown } | undefined {
  if (rawText.length > maxYamlBytes) {
    sink.error('yaml.too_large', { file, line: 1, col: 1 }, `file is larger than ${maxYamlBytes} bytes`);
    return undefined;
  }
  const text = rawText.charCodeAt(0) === 0xfeff ? rawText.slice(1) : rawText;
  const fast = options.fast === false ? undefined : fastParseYaml(text);
  if (fast && 'tooDeepAt' in fast) {
    reportTooDeep(sink, { file, ...positionIn(text, fast.tooDeepAt) });
    return undefined;
  }
  if (fast) {
    for (const [obj, c] of fast.containers)
      map.register(obj, { file, lc: fast.lc, self: c.self, slots: c.slots });
    return { value: fast.value };
  }
  const lc = new LineCounter();
  // Parsed to a syntax tree first (the parser does not recurse), so that nesting too deep for the
  // composer's recursion is refused before the composer sees it.
  const tokens = Array.from(new Parser(lc.addNewLine).parse(text));
  const deep = tooDeepOffset(tokens, stackLimits.yamlMaxDepth);
  if (deep !== undefined) {
    reportTooDeep(sink, { file, ...lc.linePos(deep) });
    return undefined;
  }
  const doc = composeDocument(tokens, text.length);
  if (doc.errors.length > 0) {
    reportYamlErrors(file, text, doc, lc, sink);
    return undefined;
  }
  for (const w of doc.warnings) {
    const p = lc.linePos(w.pos[0]);
    sink.warning('yaml.warning', { file, ...p }, w.message.split('\n')[0]!);
  }
  if (doc.contents === null) return { value: null };
  const walker = new Walker(file, text, lc, doc, map, sink);
  const value = walker.walk(doc.contents, 1);
  return walker.failed ? undefined : { value };
}

function reportTooDeep(sink: DiagnosticSink, at: Pos): void {
  sink.error(
    'yaml.too_deep',
    at,
    `mappings and sequences are nested more than ${stackLimits.yamlMaxDepth} levels deep here`,
    'flatten this value; stacks never need this much nesting',
  );
}

/** line:col of an offset, for the rare diagnostic of the fast path (which keeps no line table). */
function positionIn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

function reportYamlErrors(
  file: string,
  text: string,
  doc: Document,
  lc: LineCounter,
  sink: DiagnosticSink,
): void {
  const tabs = lineTabs(text);
  if (tabs.length > 0 && doc.errors.some((e) => e.code === 'TAB_AS_INDENT' || e.code === 'BAD_INDENT')) {
    // Errors after a tab are mostly knock-on effects; the tabs are what the operator must fix.
    for (const t of tabs) {
      sink.error(
        'yaml.tab',
        { file, ...t },
        `tab character in indentation at line ${t.line}, column ${t.col}`,
        'YAML indentation must use spaces; replace the tab with spaces (most editors: "convert indentation to spaces")',
      );
    }
    return;
  }
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    const code = e.code === 'DUPLICATE_KEY' ? 'yaml.duplicate_key' : 'yaml.syntax';
    const message = friendlyYamlErrors[e.code] ?? e.message.split('\n')[0]!;
    const hint =
      code === 'yaml.duplicate_key'
        ? 'remove one of the two keys; YAML would silently keep only one of them'
        : 'check indentation and quoting around this position; values containing ": " or starting with "{", "[", "*", "&" need quotes';
    sink.error(code, { file, ...p }, `invalid YAML: ${message}`, hint);
  }
}

/**
 * Turns the composed document into plain values. Aliases and `<<` merge keys are expanded by copying,
 * so they are budgeted: nodes reached through aliases (yaml.alias_limit) and nesting with alias hops
 * counted as levels (yaml.too_deep), which is what keeps a few lines of merge keys from expanding
 * exponentially.
 */
class Walker {
  failed = false;
  /** A limit was hit: nothing more is walked or reported. */
  private stopped = false;
  private nodes = 0;
  private aliasNodes = 0;
  /** The alias being expanded (outermost), where an expansion over budget is reported. */
  private expanding: Alias | undefined;
  private readonly targets: Map<Alias, YamlNode>;

  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly lc: LineCounter,
    private readonly doc: Document,
    private readonly map: SourceMap,
    private readonly sink: DiagnosticSink,
  ) {
    this.targets = aliasTargets(doc);
  }

  at(offset: number): Pos {
    return { file: this.file, ...this.lc.linePos(offset) };
  }

  walk(node: YamlNode | null | undefined, depth: number): unknown {
    if (node === null || node === undefined || this.stopped) return null;
    if (++this.nodes > maxNodes) return this.stop('yaml.too_large', 0, 'document expands to too many nodes');
    if (this.expanding && ++this.aliasNodes > stackLimits.yamlMaxAliasNodes) {
      return this.stop(
        'yaml.alias_limit',
        this.expanding.range?.[0] ?? 0,
        `aliases and "<<" merge keys expand to more than ${stackLimits.yamlMaxAliasNodes} nodes in this file`,
        'write the repeated values out, or use fewer levels of merge keys',
      );
    }
    if (isAlias(node)) return this.alias(node, depth);
    if (isScalar(node)) return this.scalar(node);
    if (depth > stackLimits.yamlMaxDepth) {
      return this.stop(
        'yaml.too_deep',
        node.range?.[0] ?? 0,
        `mappings and sequences (alias hops included) are nested more than ${stackLimits.yamlMaxDepth} levels deep here`,
        'flatten this value, or use fewer levels of aliases and merge keys',
      );
    }
    if (isSeq(node)) {
      const out: unknown[] = [];
      const loc = this.located(node.range?.[0] ?? 0);
      node.items.forEach((item, i) => {
        this.note(loc, i, -1, item as YamlNode);
        out.push(this.walk(item as YamlNode, depth + 1));
      });
      this.map.register(out, loc);
      return out;
    }
    if (isMap(node)) return this.mapping(node.items, node.range?.[0] ?? 0, depth);
    return this.stop('yaml.syntax', 0, 'unsupported YAML construct');
  }

  private alias(node: Alias, depth: number): unknown {
    const target = this.targets.get(node);
    if (target === undefined)
      return this.stop('yaml.syntax', node.range?.[0] ?? 0, `alias *${node.source} has no anchor before it`);
    const outer = this.expanding;
    this.expanding ??= node;
    try {
      return this.walk(target, depth + 1);
    } finally {
      this.expanding = outer;
    }
  }

  /** Reports once and stops the walk: the value of a file over a limit is not used. */
  private stop(code: string, offset: number, message: string, hint = ''): null {
    if (!this.stopped) this.sink.error(code, this.at(offset), message, hint);
    this.stopped = true;
    this.failed = true;
    return null;
  }

  private mapping(items: Pair[], offset: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const loc = this.located(offset);
    const merges: Pair[] = [];
    for (const pair of items) {
      const keyNode = pair.key as YamlNode | null;
      if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        merges.push(pair);
        continue;
      }
      const key = this.keyOf(keyNode);
      if (key === undefined) continue;
      this.note(loc, key, keyNode?.range?.[0] ?? -1, pair.value as YamlNode | null);
      out[key] = this.walk(pair.value as YamlNode | null, depth + 1);
    }
    for (const pair of merges) this.merge(out, loc, pair.value as YamlNode | null, depth);
    this.map.register(out, loc);
    return out;
  }

  /** `<<: *anchor` — explicit keys win over merged ones, as in YAML 1.1 merge keys. */
  private merge(out: Record<string, unknown>, loc: Located, source: YamlNode | null, depth: number): void {
    const sources = isSeq(source) ? (source.items as YamlNode[]) : [source];
    for (const s of sources) {
      // The merged mapping's keys land at this level: it is not one level deeper.
      const value = this.walk(s, depth);
      if (this.stopped) return;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        this.sink.error(
          'yaml.syntax',
          this.at(loc.self),
          'a "<<" merge key needs a mapping or an alias to one',
        );
        this.failed = true;
        continue;
      }
      const from = value as Record<string, unknown>;
      this.map.register(out, loc);
      for (const [k, v] of Object.entries(from)) {
        if (k in out) continue;
        out[k] = v;
        this.map.copySlot(out, from, k);
      }
    }
  }

  private keyOf(keyNode: YamlNode | null): string | undefined {
    if (isScalar(keyNode) && (typeof keyNode.value === 'string' || typeof keyNode.value === 'number')) {
      return String(keyNode.value);
    }
    const offset = keyNode?.range?.[0] ?? 0;
    this.sink.error(
      'yaml.bad_key',
      this.at(offset),
      'mapping keys must be plain words or numbers',
      'quote the key or use a simple name',
    );
    this.failed = true;
    return undefined;
  }

  private scalar(node: Scalar): unknown {
    const v = node.value;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    const offset = node.range?.[0] ?? 0;
    this.sink.error(
      'yaml.unsupported_value',
      this.at(offset),
      `unsupported YAML value of type ${typeof v}`,
      'use a string, number, boolean, list or mapping',
    );
    this.failed = true;
    return null;
  }

  private located(offset: number): Located {
    return { file: this.file, lc: this.lc, self: offset, slots: new Map() };
  }

  private note(loc: Located, key: Key, keyOffset: number, node: YamlNode | null | undefined): void {
    const start = node?.range?.[0] ?? -1;
    const slot: Slot = { key: keyOffset, value: start, text: -1 };
    if (isScalar(node) && start >= 0) {
      slot.text = this.textStart(node, start);
      if (node.type === 'PLAIN' && typeof node.value === 'number')
        slot.raw = this.text.slice(start, node.range![1]);
    }
    loc.slots.set(key, slot);
  }

  private textStart(node: Scalar, start: number): number {
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') return start + 1;
    if (node.type !== 'BLOCK_LITERAL' && node.type !== 'BLOCK_FOLDED') return start;
    const nl = this.text.indexOf('\n', start);
    if (nl < 0) return start;
    let i = nl + 1;
    while (i < this.text.length && this.text[i] === ' ') i++;
    return Math.min(i, this.text.length);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
