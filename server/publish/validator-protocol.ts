/**
 * Messages between the publish service and the validator worker (validator-pool.ts runs it,
 * validator-worker.ts is its body). Everything here crosses a worker boundary: plain data only.
 */
import type { Diagnostic } from '../policy/index.ts';

/** The serializable part of the policy module's ValidateOptions. */
export interface ValidatorOptions {
  protectedPaths: string[];
  protectedServices: string[];
  /** The server's data dir: never read as part of a stacks tree. */
  dataDir?: string;
  /** Every path the secrets provider holds (paths only, never values). */
  knownSecrets: readonly string[];
}

export interface ValidateJob {
  /** The stacks tree: a server directory, or the private copy of an upload (publish/stack-source.ts). */
  dir: string;
  options: ValidatorOptions;
  nowMs: number;
  /** Send the serialized snapshot back (publish), not only its hash (validate). */
  wantSnapshot: boolean;
  /** The active snapshot's hash: when the result equals it, its body is not sent back. */
  unlessHash?: string;
}

export interface ValidatedSnapshot {
  hash: string;
  entries: number;
  /** `serializeSnapshot` of it; absent when not wanted or equal to `unlessHash`. */
  body?: string;
}

export type WorkerReply =
  | { id: number; kind: 'done'; diagnostics: Diagnostic[]; snapshot?: ValidatedSnapshot }
  | { id: number; kind: 'refused'; code: string; message: string; details: Record<string, unknown> }
  | { id: number; kind: 'failed'; message: string; stack: string };

export interface WorkerRequest {
  id: number;
  job: ValidateJob;
}
