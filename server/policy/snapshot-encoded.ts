/**
 * A snapshot as it crosses from the validator worker to the serving thread: its stored body (the exact
 * bytes `serializeSnapshot` writes, format 1) plus an index of where each entry and configcrate instance
 * sits in it. The serving thread builds a LazySnapshot from the two without parsing the body: an entry or
 * instance is parsed (and frozen) the first time a bundle needs it, so activating a snapshot of any size
 * costs the event loop only its hostname index, never a parse of megabytes of JSON.
 */
import { HostMatcher } from './host-matcher.ts';
import { compiledResourcesJson } from './instance.ts';
import type { CompiledQuery } from './parse-queries.ts';
import type { CompiledTask } from './parse-tasks.ts';
import type { CompiledWorkflow } from './parse-workflows.ts';
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

/**
 * Where everything sits in the body, packed so that it crosses to another thread as a few strings and
 * typed arrays rather than tens of thousands of small objects.
 */
export interface SnapshotIndex {
  readonly hash: string;
  readonly compiledAtMs: number;
  readonly compliance: Span;
  /** The named tasks member, when the snapshot has one. */
  readonly tasks?: Span;
  /** The workflows member, when the snapshot has one. */
  readonly workflows?: Span;
  /** The named queries member, when the snapshot has one. */
  readonly queries?: Span;
  /**
   * Entries in first-match order as JSON `[[id, [pattern, …]], …]`: what matching needs, so no entry
   * is parsed to route a hostname.
   */
  readonly entries: string;
  /** [start, end) of entry i at 2i, 2i + 1. */
  readonly entrySpans: Uint32Array;
  /** Instance hashes, 64 hex characters each, concatenated in the body's (sorted) order. */
  readonly instanceHashes: string;
  /** [start, end) of instance i at 2i, 2i + 1. */
  readonly instanceSpans: Uint32Array;
}

const hashChars = 64;

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
    // Short ASCII pieces (keys, hashes, names) are copied here: a call into Buffer#write costs more.
    if (s.length <= 96) {
      const out = this.out;
      let at = this.length;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        out[at++] = c;
      }
      if (i === s.length) {
        this.length = at;
        return;
      }
    }
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

  /** Bytes written so far. */
  get offset(): number {
    return this.length;
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

/** JSON of a value several entries or instances share (an entry graph's order, a fixed graph's origins). */
function sharedJson(value: object, shared: WeakMap<object, string>): string {
  let json = shared.get(value);
  if (json === undefined) {
    json = JSON.stringify(value);
    shared.set(value, json);
  }
  return json;
}

/**
 * Writes JSON.stringify(instance), reusing the JSON its resources were hashed as when this process
 * compiled it: the members in the order compileInstance creates them, each piece written as it is (no
 * string of the whole instance is built).
 */
function writeInstance(w: BodyWriter, instance: CrateInstance, shared: WeakMap<object, string>): Span {
  const resources = compiledResourcesJson(instance);
  if (resources === undefined) return w.value(instance);
  const start = w.offset;
  w.text('{"hash":');
  w.text(JSON.stringify(instance.hash));
  w.text(',"configcrate":');
  w.text(JSON.stringify(instance.configcrate));
  w.text(',"resources":');
  w.text(resources);
  w.text(',"origins":');
  w.text(sharedJson(instance.origins, shared));
  w.text(',"secretPaths":');
  w.text(JSON.stringify(instance.secretPaths));
  w.text(instance.usesTraits ? ',"usesTraits":true}' : ',"usesTraits":false}');
  return [start, w.offset];
}

const quotedKeys = new Map<string, { first: string; next: string }>();
/** Entry members that are one array for every entry of a resource graph (compile.ts assemble). */
const sharedMembers = new Set(['order', 'links']);

/**
 * Writes JSON.stringify(entry), each array the entry shares with others (entries of one resource graph
 * share its `order` and `links`) from one serialization of it.
 */
function writeEntry(w: BodyWriter, entry: CompiledEntry, shared: WeakMap<object, string>): Span {
  const start = w.offset;
  let first = true;
  for (const key of Object.keys(entry)) {
    const value = (entry as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    let quoted = quotedKeys.get(key);
    if (quoted === undefined) {
      quoted = { first: `{${JSON.stringify(key)}:`, next: `,${JSON.stringify(key)}:` };
      if (quotedKeys.size < 64) quotedKeys.set(key, quoted);
    }
    w.text(first ? quoted.first : quoted.next);
    first = false;
    w.text(sharedMembers.has(key) ? sharedJson(value as object, shared) : JSON.stringify(value));
  }
  w.text(first ? '{}' : '}');
  return [start, w.offset];
}

/** The snapshot's stored body and its index, built piece by piece (equal to serializeSnapshot's output). */
export function encodeSnapshot(snapshot: CompiledSnapshot): EncodedSnapshot {
  // Roughly 4 KiB of JSON per entry and instance: a first guess the writer grows from if it must.
  const w = new BodyWriter((snapshot.instances.size + snapshot.entryCount) * 4096);
  w.text(
    `{"format":1,"hash":${JSON.stringify(snapshot.hash)},"compiledAtMs":${JSON.stringify(snapshot.compiledAtMs)},"instances":{`,
  );
  const hashes = [...snapshot.instances.keys()].sort();
  if (hashes.some((h) => h.length !== hashChars))
    throw new Error('an instance hash is not 64 hex characters');
  const instanceSpans = new Uint32Array(hashes.length * 2);
  const shared = new WeakMap<object, string>();
  hashes.forEach((hash, i) => {
    w.text(`${i === 0 ? '' : ','}${JSON.stringify(hash)}:`);
    instanceSpans.set(writeInstance(w, snapshot.instances.get(hash)!, shared), i * 2);
  });
  w.text('},"entries":[');
  const entrySpans = new Uint32Array(snapshot.entryCount * 2);
  const entries = snapshot.entries.map((e, i) => {
    if (i > 0) w.text(',');
    entrySpans.set(writeEntry(w, e, shared), i * 2);
    return [e.id, e.patterns];
  });
  w.text('],"compliance":');
  const compliance = w.value(snapshot.compliance);
  let tasks: Span | undefined;
  if (Object.keys(snapshot.tasks).length > 0) {
    w.text(',"tasks":');
    tasks = w.value(snapshot.tasks);
  }
  let workflows: Span | undefined;
  if (Object.keys(snapshot.workflows).length > 0) {
    w.text(',"workflows":');
    workflows = w.value(snapshot.workflows);
  }
  let queries: Span | undefined;
  if (Object.keys(snapshot.queries).length > 0) {
    w.text(',"queries":');
    queries = w.value(snapshot.queries);
  }
  w.text('}');
  return {
    body: w.finish(),
    index: {
      hash: snapshot.hash,
      compiledAtMs: snapshot.compiledAtMs,
      compliance,
      ...(tasks === undefined ? {} : { tasks }),
      ...(workflows === undefined ? {} : { workflows }),
      ...(queries === undefined ? {} : { queries }),
      entries: JSON.stringify(entries),
      entrySpans,
      instanceHashes: hashes.join(''),
      instanceSpans,
    },
  };
}

/** The memory an index holds besides strings, to transfer with it instead of copying. */
export function indexTransfers(index: SnapshotIndex): ArrayBuffer[] {
  return [index.entrySpans.buffer as ArrayBuffer, index.instanceSpans.buffer as ArrayBuffer];
}

/** Instances parsed from the body on first use, found by binary search; iteration parses them all. */
class LazyInstances implements ReadonlyMap<string, CrateInstance> {
  private readonly parsed = new Map<string, CrateInstance>();
  readonly size: number;

  constructor(
    private readonly read: (start: number, end: number) => unknown,
    private readonly hashes: string,
    private readonly spans: Uint32Array,
  ) {
    this.size = hashes.length / hashChars;
  }

  private keyAt(i: number): string {
    return this.hashes.slice(i * hashChars, (i + 1) * hashChars);
  }

  private find(key: string): number {
    if (key.length !== hashChars) return -1;
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.keyAt(mid);
      if (at === key) return mid;
      if (at < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  has(key: string): boolean {
    return this.parsed.has(key) || this.find(key) >= 0;
  }

  get(key: string): CrateInstance | undefined {
    const known = this.parsed.get(key);
    if (known !== undefined) return known;
    const i = this.find(key);
    if (i < 0) return undefined;
    const instance = deepFreeze(this.read(this.spans[i * 2]!, this.spans[i * 2 + 1]!) as CrateInstance);
    this.parsed.set(key, instance);
    return instance;
  }

  *keys(): MapIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.keyAt(i);
  }

  *entries(): MapIterator<[string, CrateInstance]> {
    for (const key of this.keys()) yield [key, this.get(key)!];
  }

  *values(): MapIterator<CrateInstance> {
    for (const key of this.keys()) yield this.get(key)!;
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
  private readonly ids: readonly string[];
  private byId: ReadonlyMap<string, number> | undefined;
  private readonly matcher: HostMatcher;
  private parsedCompliance: ComplianceData | undefined;
  private parsedTasks: Readonly<Record<string, CompiledTask>> | undefined;
  private parsedWorkflows: Readonly<Record<string, CompiledWorkflow>> | undefined;
  private parsedQueries: Readonly<Record<string, CompiledQuery>> | undefined;

  private readonly body: Buffer;

  /** `body` may arrive from another thread as a plain Uint8Array over the transferred memory. */
  constructor(
    body: Uint8Array,
    private readonly index: SnapshotIndex,
  ) {
    this.body = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.hash = index.hash;
    this.compiledAtMs = index.compiledAtMs;
    this.instances = new LazyInstances(
      (start, end) => this.read(start, end),
      index.instanceHashes,
      index.instanceSpans,
    );
    const entries = JSON.parse(index.entries) as [string, string[]][];
    this.ids = entries.map((e) => e[0]);
    this.parsedEntries = new Array<CompiledEntry | undefined>(entries.length);
    this.matcher = new HostMatcher(entries.map((e) => e[1]));
  }

  private read(start: number, end: number): unknown {
    return JSON.parse(this.body.toString('utf8', start, end));
  }

  get entryCount(): number {
    return this.ids.length;
  }

  private entryAt(i: number): CompiledEntry {
    let entry = this.parsedEntries[i];
    if (entry === undefined) {
      const spans = this.index.entrySpans;
      entry = deepFreeze(this.read(spans[i * 2]!, spans[i * 2 + 1]!) as CompiledEntry);
      this.parsedEntries[i] = entry;
      adoptEntry(entry, this);
    }
    return entry;
  }

  get entries(): readonly CompiledEntry[] {
    return this.ids.map((_, i) => this.entryAt(i));
  }

  get compliance(): ComplianceData {
    const [start, end] = this.index.compliance;
    this.parsedCompliance ??= deepFreeze(this.read(start, end) as ComplianceData);
    return this.parsedCompliance;
  }

  get tasks(): Readonly<Record<string, CompiledTask>> {
    const span = this.index.tasks;
    this.parsedTasks ??=
      span === undefined ? {} : deepFreeze(this.read(span[0], span[1]) as Record<string, CompiledTask>);
    return this.parsedTasks;
  }

  get workflows(): Readonly<Record<string, CompiledWorkflow>> {
    const span = this.index.workflows;
    this.parsedWorkflows ??=
      span === undefined ? {} : deepFreeze(this.read(span[0], span[1]) as Record<string, CompiledWorkflow>);
    return this.parsedWorkflows;
  }

  get queries(): Readonly<Record<string, CompiledQuery>> {
    const span = this.index.queries;
    this.parsedQueries ??=
      span === undefined ? {} : deepFreeze(this.read(span[0], span[1]) as Record<string, CompiledQuery>);
    return this.parsedQueries;
  }

  matchEntry(hostname: string): CompiledEntry | undefined {
    const i = this.matcher.match(hostname);
    return i === undefined ? undefined : this.entryAt(i);
  }

  entryById(id: string): CompiledEntry | undefined {
    this.byId ??= new Map(this.ids.map((entryId, i) => [entryId, i]));
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.entryAt(i);
  }

  toJSON(): SnapshotJson {
    return JSON.parse(this.body.toString('utf8')) as SnapshotJson;
  }
}
