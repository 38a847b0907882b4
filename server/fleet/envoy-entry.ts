/**
 * One enrolled envoy as the check-in path sees it. Instances are plain class objects so V8 gives every
 * one the same shape; the ed25519 KeyObject is parsed on first use, not at boot, so rebuilding the
 * index for a large fleet stays fast and small.
 */
import type { KeyObject } from 'node:crypto';
import { publicKeyFromRaw, weakEd25519KeyProblem } from '../../protocol/index.ts';
import { initialConvergence } from '../convergence/index.ts';
import type { ConvergenceState } from '../convergence/index.ts';

export type EnvoyStatus = 'active' | 'revoked';

export interface EnvoyRow {
  id: string;
  hostname: string;
  public_key: Buffer;
  cert_fingerprint: string | null;
  status: EnvoyStatus;
  enrolled_at: number;
  last_seen_at: number | null;
  last_ts_ms: number;
  policy_version: number;
  state_fingerprint: string | null;
  traits_hash: string | null;
  interval_ms: number | null;
  force_push: number;
  agent_version: string | null;
}

/** Identity generations are unique in the process: a new entry or a replaced key never reuses one. */
let lastIdentityGeneration = 0;

export class EnvoyEntry {
  readonly id: string;
  hostname: string;
  publicKeyRaw: Buffer;
  #publicKey: KeyObject | undefined;
  /**
   * Why the stored key must never verify anything (small order, non-canonical), or undefined. Such a key
   * cannot be enrolled today, but a row written by an older server or by hand still loads: the envoy stays
   * listed, and every request it sends is refused until it enrolls again with a sound key.
   */
  keyProblem: string | undefined;
  /**
   * Changes with the key (a new entry, a re-enrollment): a check-in process that verified a signature with
   * the key of this generation saves the server verifying it again (server/checkin/front).
   */
  identityGeneration: number;
  /** The enrolled client certificate's SHA-256 fingerprint, lower-case hex, or '' when unknown. */
  certFingerprint: string;
  status: EnvoyStatus;
  enrolledAtMs: number;
  lastSeenAtMs: number;
  lastTsMs: number;
  policyVersion: number;
  stateFingerprint: string;
  traitsHash: string;
  /**
   * The traits_hash the envoys row holds, as loaded or last written by the flusher. Writing traits_hash
   * costs an index update and a foreign-key lookup, so the flusher writes it only when it changed.
   */
  storedTraitsHash: string;
  intervalMs: number;
  forcePush: boolean;
  agentVersion: string;
  stale: boolean;
  /** Unseen for more than the offline factor of its cadence (set by the fleet sweep, like `stale`). */
  offline: boolean;
  /** When its last CheckIn arrived in this process (0: none yet); stream traffic does not count. */
  lastCheckInAtMs: number;
  /** Average gap between its check-ins (0: none observed yet); see convergence/cadence.ts. */
  observedCadenceMs: number;
  /** Failure and drift state from its runs, loaded at boot and moved by the results committer. */
  convergence: ConvergenceState;
  /** A stream of this envoy has said Hello and is open (in memory only: streams end with the process). */
  streamOpen: boolean;
  /**
   * The server has work for this envoy and wants its stream open: CheckIn replies say open_stream until a
   * stream says Hello. In memory only; whoever asked asks again after a restart.
   */
  streamRequested: boolean;

  constructor(row: EnvoyRow) {
    this.id = row.id;
    this.hostname = row.hostname;
    this.publicKeyRaw = row.public_key;
    this.#publicKey = undefined;
    this.keyProblem = weakEd25519KeyProblem(row.public_key);
    this.identityGeneration = ++lastIdentityGeneration;
    this.certFingerprint = row.cert_fingerprint ?? '';
    this.status = row.status;
    this.enrolledAtMs = row.enrolled_at;
    this.lastSeenAtMs = row.last_seen_at ?? 0;
    this.lastTsMs = row.last_ts_ms;
    this.policyVersion = row.policy_version;
    this.stateFingerprint = row.state_fingerprint ?? '';
    this.traitsHash = row.traits_hash ?? '';
    this.storedTraitsHash = this.traitsHash;
    this.intervalMs = row.interval_ms ?? 0;
    this.forcePush = row.force_push === 1;
    this.agentVersion = row.agent_version ?? '';
    this.stale = false;
    this.offline = false;
    this.lastCheckInAtMs = 0;
    this.observedCadenceMs = 0;
    this.convergence = initialConvergence;
    this.streamOpen = false;
    this.streamRequested = false;
  }

  /** Throws `pki.key_invalid` when `keyProblem` is set: callers check it first. */
  get publicKey(): KeyObject {
    this.#publicKey ??= publicKeyFromRaw(this.publicKeyRaw);
    return this.#publicKey;
  }

  replaceKey(publicKeyRaw: Buffer, certFingerprintHex: string): void {
    this.publicKeyRaw = publicKeyRaw;
    this.#publicKey = undefined;
    this.keyProblem = weakEd25519KeyProblem(publicKeyRaw);
    this.identityGeneration = ++lastIdentityGeneration;
    this.certFingerprint = certFingerprintHex;
  }
}
