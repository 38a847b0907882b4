/**
 * Messages between the publish service and the validator worker (validator-pool.ts runs it,
 * validator-worker.ts is its body). Everything here crosses a worker boundary: plain data only, and the
 * snapshot body as a transferred buffer.
 *
 * Besides validating, the worker does every other whole-snapshot job of the publish service — the
 * impact of a publish on the fleet, loading and verifying a stored snapshot, the diff between two
 * versions — so that none of them, whatever the size of the stacks, runs on the thread that answers
 * check-ins.
 */
import type { Diagnostic, EncodedSnapshot, EntryDiff } from '../policy/index.ts';
import type { PublishImpact } from './impact.ts';
import type { UploadForm, UploadRequest } from './stack-source.ts';

/** The serializable part of the policy module's ValidateOptions. */
export interface ValidatorOptions {
  protectedPaths: string[];
  protectedServices: string[];
  /** The server's data dir: never read as part of a stacks tree. */
  dataDir?: string;
  /** Every path the secrets provider holds (paths only, never values). */
  knownSecrets: readonly string[];
  /**
   * Validation without a server (`vigocli config validate --offline`): there is no secrets provider to
   * ask, so `secret:` references are taken as they are written and reported as not checked.
   */
  secretsUnchecked?: boolean;
  /** Probe literal http(s) `source:` URLs (server.yaml publish.url_check); absent: no probes. */
  checkUrls?: { timeoutMs: number; concurrency: number; budgetMs: number };
}

/**
 * The stacks tree: a directory (on the server, or the private copy of files a caller wrote), or an upload
 * body that the worker parses against its form and writes into a private directory under `scratchRoot`.
 */
export type StacksTree =
  { kind: 'dir'; dir: string } | { kind: 'upload'; body: Uint8Array; form: UploadForm; scratchRoot: string };

export interface ValidateJob {
  kind: 'validate';
  tree: StacksTree;
  options: ValidatorOptions;
  nowMs: number;
  /** Send the encoded snapshot back (publish), not only its hash (validate). */
  wantSnapshot: boolean;
  /** The active snapshot's hash: when the result equals it, its body is not sent back. */
  unlessHash?: string;
  /** Compute what this publish changes for these hostnames against the active snapshot. */
  impact?: { activeHash: string | undefined; hostnames: readonly string[]; dbFile: string };
}

/** Loads a stored snapshot, verifies every hash in it and sends it back encoded. */
export interface LoadJob {
  kind: 'load';
  hash: string;
  /** The database the snapshot is stored in (opened read-only). */
  dbFile: string;
}

/** Compares two stored snapshots (either may be the empty configuration: undefined). */
export interface DiffJob {
  kind: 'diff';
  beforeHash: string | undefined;
  afterHash: string;
  dbFile: string;
  /** Also compute the impact (envoys changing, field-level changes) for these hostnames. */
  hostnames?: readonly string[];
}

export type ValidatorJob = ValidateJob | LoadJob | DiffJob;

export interface ValidatedSnapshot {
  hash: string;
  entries: number;
  /** Absent when not wanted or equal to `unlessHash`. */
  encoded?: EncodedSnapshot;
}

export interface ValidateOutcome {
  /** What an upload said besides its files (message, dryRun). */
  request?: UploadRequest;
  diagnostics: Diagnostic[];
  snapshot?: ValidatedSnapshot;
  impact?: PublishImpact;
  /** Where the worker's time went, in milliseconds (for logs and benchmarks). */
  timingsMs: { validate: number; impact: number; encode: number };
  /** Configcrate definitions and instances taken from the worker's last validation (policy/carry.ts). */
  carried: { crates: number; instances: number };
  /** An upload compiled for a publish, handed back (moved, not copied) for the service to keep. */
  upload?: Uint8Array;
}

export interface LoadOutcome {
  /** Undefined for the empty configuration a fresh server starts with. */
  encoded?: EncodedSnapshot;
}

export interface DiffOutcome {
  /** Entries of the `after` snapshot. */
  entries: number;
  /** Entries added, removed or changed (unchanged ones are left out). */
  diff: EntryDiff[];
  /** When the job named hostnames: what the change means for them, field by field. */
  impact?: PublishImpact;
}

export interface OutcomeOf {
  validate: ValidateOutcome;
  load: LoadOutcome;
  diff: DiffOutcome;
}

export type WorkerOutcome = ValidateOutcome | LoadOutcome | DiffOutcome;

export type WorkerReply =
  | { id: number; kind: 'done'; outcome: WorkerOutcome }
  | { id: number; kind: 'refused'; code: string; message: string; details: Record<string, unknown> }
  | { id: number; kind: 'failed'; message: string; stack: string };

export interface WorkerRequest {
  id: number;
  job: ValidatorJob;
}
