/**
 * A snapshot as it crosses from the validator worker to the serving thread: its stored body (the exact
 * bytes `serializeSnapshot` writes, format 1) plus an index of where each entry and configcrate instance
 * sits in it. The serving thread builds a LazySnapshot from the two without parsing the body: an entry or
 * instance is parsed (and frozen) the first time a bundle needs it, so activating a snapshot of any size
 * costs the event loop only its hostname index, never a parse of megabytes of JSON.
 */
import { HostMatcher } from './host-matcher.ts';
import { compiledResourcesJson } from './instance.ts';
import { adoptEntry, deepFreeze } from './snapshot.ts';
import type { EntryOwner } from './snapshot.ts';
import type {
  CompiledEntry,
  CompiledSnapshot,
  ComplianceData,
  CrateInstance,
  SnapshotJson,
} from './types.ts';

/** Byte range [start, end) of one JSON value inside the body. */
export type Span = readonly [start: number, end: number];

export interface SnapshotIndex {
  readonly hash: string;
  readonly compiledAtMs: number;
  readonly compliance: Span;
  /** In first-match order, with what matching needs, so no entry is parsed to route a hostname. */
  readonly entries: readonly {
    readonly id: string;
    readonly patterns: readonly string[];
    readonly span: Span;
  }[];
  /** Instance hash → its span, in the body's (sorted) order. */
  readonly instances: readonly (readonly [hash: string, span: Span])[];
}

export interface EncodedSnapshot {
  /** The stored body, byte for byte what serializeSnapshot writes. */
  readonly body: Buffer;
  readonly index: SnapshotIndex;
}

/**
 * Writes a body piece by piece straight into one buffer, remembering the byte range of each JSON value.
 * The buffer is sized for the text's length in characters plus headroom; a piece that might not fit is
 * measured first and the buffer grown.
 */
class BodyWriter {
  private out: Buffer;
  private length = 0;

  constructor(expectedChars: number) {
    this.out = Buffer.from(new ArrayBuffer(Math.max(1024, expectedChars + (expectedChars >> 3))));
  }

  text(s: string): void {
    // A UTF-8 encoding is at most three bytes per UTF-16 code unit.
    if (this.out.length - this.length < s.length * 3) this.reserve(Buffer.byteLength(s, 'utf8'));
    this.length += this.out.write(s, this.length, 'utf8');
  }

  value(v: unknown): Span {
    return this.json(JSON.stringify(v));
  }

  json(text: string): Span {
    const start = this.length;
    this.text(text);
    return [start, this.length];
  }

  private reserve(bytes: number): void {
    if (this.out.length - this.length >= bytes) return;
    const grown = Buffer.from(new ArrayBuffer(Math.max(this.out.length * 2, this.length + bytes)));
    this.out.copy(grown, 0, 0, this.length);
    this.out = grown;
  }

  /** The body, a view over memory no other buffer shares, so it can be transferred to another thread. */
  finish(): Buffer {
    return this.out.subarray(0, this.length);
  }
}

/**
 * JSON.stringify(instance), reusing the JSON its resources were hashed as when this process compiled
 * it: the members in the order compileInstance creates them.
 */
function instanceJson(instance: CrateInstance): string {
  const resources = compiledResourcesJson(instance);
  if (resources === undefined) return JSON.stringify(instance);
  return `{"hash":${JSON.stringify(instance.hash)},"configcrate":${JSON.stringify(instance.configcrate)},"resources":${resources},"origins":${JSON.stringify(instance.origins)},"secretPaths":${JSON.stringify(instance.secretPaths)},"usesTraits":${instance.usesTraits}}`;
}

/**
 * JSON.stringify(entry), writing each array the entry shares with others (entries of one resource
 * graph share its `order` and `links`) from one serialization of it.
 */
function entryJson(entry: CompiledEntry, shared: WeakMap<object, string>): string {
  let out = '{';
  for (const key of Object.keys(entry)) {
    const value = (entry as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    let json: string | undefined;
    if (Array.isArray(value) && value.length > 0) {
      json = shared.get(value);
      if (json === undefined) {
        json = JSON.stringify(value);
        shared.set(value, json);
      }
    } else json = JSON.stringify(value);
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${json}`;
  }
  return out + '}';
}

/** The snapshot's stored body and its index, built piece by piece (equal to serializeSnapshot's output). */
export function encodeSnapshot(snapshot: CompiledSnapshot): EncodedSnapshot {
  // Roughly 4 KiB of JSON per entry and instance: a first guess the writer grows from if it must.
  const w = new BodyWriter((snapshot.instances.size + snapshot.entryCount) * 4096);
  w.text(
    `{"format":1,"hash":${JSON.stringify(snapshot.hash)},"compiledAtMs":${JSON.stringify(snapshot.compiledAtMs)},"instances":{`,
  );
  const instances: (readonly [string, Span])[] = [];
  [...snapshot.instances.keys()].sort().forEach((hash, i) => {
    w.text(`${i === 0 ? '' : ','}${JSON.stringify(hash)}:`);
    instances.push([hash, w.json(instanceJson(snapshot.instances.get(hash)!))]);
  });
  w.text('},"entries":[');
  const shared = new WeakMap<object, string>();
  const entries = snapshot.entries.map((e, i) => {
    if (i > 0) w.text(',');
    return { id: e.id, patterns: e.patterns, span: w.json(entryJson(e, shared)) };
  });
  w.text('],"compliance":');
  const compliance = w.value(snapshot.compliance);
  w.text('}');
  return {
    body: w.finish(),
    index: { hash: snapshot.hash, compiledAtMs: snapshot.compiledAtMs, compliance, entries, instances },
  };
}

/** Instances parsed from the body on first use; iteration parses them all. */
class LazyInstances implements ReadonlyMap<string, CrateInstance> {
  private readonly parsed = new Map<string, CrateInstance>();
  private readonly spans: ReadonlyMap<string, Span>;

  constructor(
    private readonly read: (span: Span) => unknown,
    spans: SnapshotIndex['instances'],
  ) {
    this.spans = new Map(spans);
  }

  get size(): number {
    return this.spans.size;
  }

  has(key: string): boolean {
    return this.spans.has(key);
  }

  get(key: string): CrateInstance | undefined {
    const known = this.parsed.get(key);
    if (known !== undefined) return known;
    const span = this.spans.get(key);
    if (span === undefined) return undefined;
    const instance = deepFreeze(this.read(span) as CrateInstance);
    this.parsed.set(key, instance);
    return instance;
  }

  keys(): MapIterator<string> {
    return this.spans.keys();
  }

  *entries(): MapIterator<[string, CrateInstance]> {
    for (const key of this.spans.keys()) yield [key, this.get(key)!];
  }

  *values(): MapIterator<CrateInstance> {
    for (const key of this.spans.keys()) yield this.get(key)!;
  }

  [Symbol.iterator](): MapIterator<[string, CrateInstance]> {
    return this.entries();
  }

  forEach(fn: (value: CrateInstance, key: string, map: ReadonlyMap<string, CrateInstance>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/**
 * A served snapshot over its encoded body. Matching uses the index; an entry is parsed when it is first
 * matched or looked up. `entries` and `toJSON` parse everything and are for tools and tests, never the
 * serving path.
 */
export class LazySnapshot implements CompiledSnapshot, EntryOwner {
  readonly hash: string;
  readonly compiledAtMs: number;
  readonly instances: ReadonlyMap<string, CrateInstance>;
  readonly engineCache = new Map<string, unknown>();
  private readonly parsedEntries: (CompiledEntry | undefined)[];
  private readonly byId: ReadonlyMap<string, number>;
  private readonly matcher: HostMatcher;
  private parsedCompliance: ComplianceData | undefined;

  private readonly body: Buffer;

  /** `body` may arrive from another thread as a plain Uint8Array over the transferred memory. */
  constructor(
    body: Uint8Array,
    private readonly index: SnapshotIndex,
  ) {
    this.body = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.hash = index.hash;
    this.compiledAtMs = index.compiledAtMs;
    this.instances = new LazyInstances((span) => this.read(span), index.instances);
    this.parsedEntries = new Array<CompiledEntry | undefined>(index.entries.length);
    this.byId = new Map(index.entries.map((e, i) => [e.id, i]));
    this.matcher = new HostMatcher(index.entries.map((e) => e.patterns));
  }

  private read(span: Span): unknown {
    return JSON.parse(this.body.toString('utf8', span[0], span[1]));
  }

  get entryCount(): number {
    return this.index.entries.length;
  }

  private entryAt(i: number): CompiledEntry {
    let entry = this.parsedEntries[i];
    if (entry === undefined) {
      entry = deepFreeze(this.read(this.index.entries[i]!.span) as CompiledEntry);
      this.parsedEntries[i] = entry;
      adoptEntry(entry, this);
    }
    return entry;
  }

  get entries(): readonly CompiledEntry[] {
    return this.index.entries.map((_, i) => this.entryAt(i));
  }

  get compliance(): ComplianceData {
    this.parsedCompliance ??= deepFreeze(this.read(this.index.compliance) as ComplianceData);
    return this.parsedCompliance;
  }

  matchEntry(hostname: string): CompiledEntry | undefined {
    const i = this.matcher.match(hostname);
    return i === undefined ? undefined : this.entryAt(i);
  }

  entryById(id: string): CompiledEntry | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.entryAt(i);
  }

  toJSON(): SnapshotJson {
    return JSON.parse(this.body.toString('utf8')) as SnapshotJson;
  }
}
