/** The immutable compiled snapshot, its hostname index, and (de)serialization for storage and rollback. */
import { VigoError } from '../core/index.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { HostMatcher } from './host-matcher.ts';
import { MerkleBuilder } from './merkle.ts';
import type { CompiledQuery } from './parse-queries.ts';
import type { CompiledTask } from './parse-tasks.ts';
import type { CompiledWorkflow } from './parse-workflows.ts';
import type {
  CompiledEntry,
  CompiledSnapshot,
  ComplianceData,
  CrateInstance,
  SnapshotJson,
} from './types.ts';
import { isRecord } from './yaml-source.ts';

export interface SnapshotData {
  compiledAtMs: number;
  instances: Map<string, CrateInstance>;
  entries: CompiledEntry[];
  compliance: ComplianceData;
  /** Named tasks by name, in name order. */
  tasks: Record<string, CompiledTask>;
  /** Workflows by name, in name order. */
  workflows: Record<string, CompiledWorkflow>;
  /** Named queries by name, in name order (absent: none). */
  queries?: Record<string, CompiledQuery>;
}

/** What bundle building needs from the snapshot an entry belongs to. */
export interface EntryOwner {
  readonly instances: ReadonlyMap<string, CrateInstance>;
  readonly tasks: Readonly<Record<string, CompiledTask>>;
  readonly queries: Readonly<Record<string, CompiledQuery>>;
  /** Parsed templates and when-expressions reused across bundle builds (keyed by text + position). */
  readonly engineCache: Map<string, unknown>;
}

const owners = new WeakMap<CompiledEntry, EntryOwner>();

/** Records which snapshot an entry belongs to (every snapshot does this for the entries it hands out). */
export function adoptEntry(entry: CompiledEntry, owner: EntryOwner): void {
  owners.set(entry, owner);
}

export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === 'object') deepFreeze(v);
  } else {
    const record = value as Record<string, unknown>;
    for (const k in record) {
      const v = record[k];
      if (typeof v === 'object') deepFreeze(v);
    }
  }
  return value;
}

function sortedRecord<T>(map: ReadonlyMap<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of [...map.keys()].sort()) out[k] = map.get(k)!;
  return out;
}

/**
 * Content hash (docs/bundle-format.md): SHA-256 over the canonical encoding of each instance's hash
 * and origins, each entry's identity and Merkle root (which covers its vars, graph and instances),
 * and the compliance documents. The compile time is not part of it.
 */
export function contentHash(data: Omit<SnapshotData, 'compiledAtMs'>): string {
  const instances = [...data.instances.keys()].sort().map((k) => {
    const i = data.instances.get(k)!;
    return [k, i.origins, i.secretPaths, i.usesTraits];
  });
  const entries = data.entries.map((e) => [
    e.id,
    e.file,
    e.line,
    e.index,
    e.patterns,
    e.environment,
    e.secretPaths,
    e.usesTraits,
    e.merkleRoot,
  ]);
  // Instances and entries hold only arrays, strings and key-sorted objects here, so native
  // JSON.stringify is their canonical encoding; compliance documents are free-form YAML. Named tasks
  // count only when there are some, so that stacks without tasks keep the hashes they always had (which
  // entries carry them, the entries' Merkle roots cover).
  // Workflows and named queries likewise count only when there are some (keys in canonical order).
  const withTasks = Object.keys(data.tasks).length > 0;
  const withWorkflows = Object.keys(data.workflows).length > 0;
  const queries = data.queries ?? {};
  const withQueries = Object.keys(queries).length > 0;
  return sha256Hex(
    `{"compliance":${canonicalJson(data.compliance)},"entries":${JSON.stringify(entries)},"format":1,"instances":${JSON.stringify(instances)}${withQueries ? `,"queries":${canonicalJson(queries)}` : ''}${withTasks ? `,"tasks":${canonicalJson(data.tasks)}` : ''}${withWorkflows ? `,"workflows":${canonicalJson(data.workflows)}` : ''}}`,
  );
}

export class SnapshotImpl implements CompiledSnapshot, EntryOwner {
  readonly hash: string;
  readonly compiledAtMs: number;
  readonly entries: readonly CompiledEntry[];
  readonly instances: ReadonlyMap<string, CrateInstance>;
  readonly compliance: ComplianceData;
  readonly tasks: Readonly<Record<string, CompiledTask>>;
  readonly workflows: Readonly<Record<string, CompiledWorkflow>>;
  readonly queries: Readonly<Record<string, CompiledQuery>>;
  private matcher: HostMatcher | undefined;
  private readonly byId: Map<string, CompiledEntry>;
  /** Parsed templates and when-expressions reused across bundle builds (keyed by text + position). */
  readonly engineCache = new Map<string, unknown>();

  /**
   * `freeze: false` only for a snapshot that is serialized and dropped at once (the validator worker's):
   * every snapshot that is served or handed to callers is deeply frozen.
   */
  constructor(data: SnapshotData, knownHash?: string, options: { freeze: boolean } = { freeze: true }) {
    this.compiledAtMs = data.compiledAtMs;
    this.instances = data.instances;
    this.entries = options.freeze ? deepFreeze(data.entries) : data.entries;
    if (options.freeze) for (const i of data.instances.values()) deepFreeze(i);
    this.compliance = options.freeze ? deepFreeze(data.compliance) : data.compliance;
    this.tasks = options.freeze ? deepFreeze(data.tasks) : data.tasks;
    this.workflows = options.freeze ? deepFreeze(data.workflows) : data.workflows;
    const queries = data.queries ?? {};
    this.queries = options.freeze ? deepFreeze(queries) : queries;
    this.hash = knownHash ?? contentHash(data);
    this.byId = new Map(data.entries.map((e) => [e.id, e]));
    for (const e of data.entries) owners.set(e, this);
    Object.freeze(this.instances);
  }

  get entryCount(): number {
    return this.entries.length;
  }

  matchEntry(hostname: string): CompiledEntry | undefined {
    // Built on first use: a snapshot that is only serialized never needs it.
    this.matcher ??= new HostMatcher(this.entries.map((e) => e.patterns));
    const i = this.matcher.match(hostname);
    return i === undefined ? undefined : this.entries[i];
  }

  entryById(id: string): CompiledEntry | undefined {
    return this.byId.get(id);
  }

  toJSON(): SnapshotJson {
    return {
      format: 1,
      hash: this.hash,
      compiledAtMs: this.compiledAtMs,
      instances: sortedRecord(this.instances),
      entries: [...this.entries],
      compliance: this.compliance,
      ...(Object.keys(this.tasks).length === 0 ? {} : { tasks: { ...this.tasks } }),
      ...(Object.keys(this.workflows).length === 0 ? {} : { workflows: { ...this.workflows } }),
      ...(Object.keys(this.queries).length === 0 ? {} : { queries: { ...this.queries } }),
    };
  }
}

/** The snapshot an entry belongs to (entries are only ever created by a snapshot). */
export function snapshotOf(entry: CompiledEntry): EntryOwner {
  const s = owners.get(entry);
  if (!s)
    throw new VigoError('policy.entry_unknown', 'this entry does not belong to a compiled snapshot', {
      entryId: entry.id,
    });
  return s;
}

export function serializeSnapshot(snapshot: CompiledSnapshot): string {
  return JSON.stringify(snapshot.toJSON());
}

/**
 * A snapshot this process's own validator just serialized (in its worker thread): parsed and indexed,
 * without re-hashing every instance and entry as a stored snapshot is, since nothing else wrote it.
 */
export function trustedSnapshot(body: string, hash: string): CompiledSnapshot {
  const json = JSON.parse(body) as SnapshotJson;
  if (json.hash !== hash)
    throw invalid(`the validator answered hash ${hash} for a snapshot hashed ${json.hash}`);
  return new SnapshotImpl(
    {
      compiledAtMs: json.compiledAtMs,
      instances: new Map(Object.entries(json.instances)),
      entries: json.entries,
      compliance: json.compliance,
      tasks: json.tasks ?? {},
      workflows: json.workflows ?? {},
      queries: json.queries ?? {},
    },
    hash,
  );
}

function invalid(why: string): VigoError {
  return new VigoError('policy.snapshot_invalid', `stored policy snapshot is invalid: ${why}`);
}

/** Parses and verifies a stored snapshot (its hash must match its content). */
export function deserializeSnapshot(input: string | SnapshotJson): CompiledSnapshot {
  let json: unknown;
  try {
    json = typeof input === 'string' ? JSON.parse(input) : input;
  } catch (err) {
    throw invalid(`not JSON (${(err as Error).message})`);
  }
  if (!isRecord(json) || json.format !== 1) throw invalid('unknown format (expected format 1)');
  const {
    hash,
    compiledAtMs,
    instances,
    entries,
    compliance,
    tasks = {},
    workflows = {},
    queries = {},
  } = json;
  if (
    typeof hash !== 'string' ||
    typeof compiledAtMs !== 'number' ||
    !isRecord(instances) ||
    !Array.isArray(entries) ||
    !isRecord(compliance) ||
    !isRecord(tasks) ||
    !isRecord(workflows) ||
    !isRecord(queries)
  ) {
    throw invalid('missing hash, compiledAtMs, instances, entries or compliance');
  }
  const data: SnapshotData = {
    compiledAtMs,
    instances: new Map(Object.entries(instances as Record<string, CrateInstance>)),
    entries: entries as CompiledEntry[],
    compliance: compliance as unknown as ComplianceData,
    tasks: tasks as Record<string, CompiledTask>,
    workflows: workflows as Record<string, CompiledWorkflow>,
    queries: queries as Record<string, CompiledQuery>,
  };
  for (const e of data.entries) {
    if (!isRecord(e) || !Array.isArray(e.configcrates) || !Array.isArray(e.patterns))
      throw invalid('malformed entry');
    for (const c of e.configcrates)
      if (!data.instances.has(c.instance))
        throw invalid(`entry ${e.id} refers to missing configcrate instance ${c.instance}`);
    for (const name of Array.isArray(e.tasks) ? e.tasks : [])
      if (!Object.hasOwn(data.tasks, name)) throw invalid(`entry ${e.id} carries unknown task ${name}`);
  }
  for (const [k, inst] of data.instances) {
    if (sha256Hex(canonicalJson({ configcrate: inst.configcrate, resources: inst.resources })) !== k)
      throw invalid(`configcrate instance ${k} does not match its hash`);
  }
  const merkle = new MerkleBuilder(data.tasks, data.queries);
  for (const e of data.entries)
    if (merkle.root(e) !== e.merkleRoot) throw invalid(`entry ${e.id} does not match its Merkle root`);
  const actual = contentHash(data);
  if (actual !== hash) throw invalid(`content hash ${actual} does not match the recorded ${hash}`);
  return new SnapshotImpl(data, hash);
}
