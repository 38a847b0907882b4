/**
 * The agent's side of the wire: one mTLS HTTP/2 channel to the server, every request signed with the
 * enrollment key through the same protocol module the server verifies with. How long a channel lives
 * (the whole process in held mode, one check-in in poll mode) is connection.ts's business; the envelope
 * clock is shared across channels so that timestamps keep increasing from one to the next.
 */
import type * as grpc from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import {
  ResourceOutcome,
  VigoAgent,
  createServiceClient,
  errorCodeOf,
  signRequest,
} from '../../protocol/index.ts';
import type {
  AgentStreamRequest,
  AgentStreamResponse,
  CheckInResponse,
  PayloadInit,
  ReportResultsResponse,
  ServiceClient,
} from '../../protocol/index.ts';
import type { ResourceOutcome as Outcome, RunRecord } from '../engine/index.ts';
import type { LoadedIdentity } from './state-dir.ts';

import { agentVersion } from './version.ts';

export { agentVersion };
const callTimeoutMs = 30_000;

/** Each engine outcome as the wire enum. */
export const outcomeCodes: Record<Outcome, ResourceOutcome> = {
  none: ResourceOutcome.NONE,
  created: ResourceOutcome.CREATED,
  updated: ResourceOutcome.UPDATED,
  deleted: ResourceOutcome.DELETED,
  skipped: ResourceOutcome.SKIPPED,
  blocked: ResourceOutcome.BLOCKED,
  failed: ResourceOutcome.FAILED,
};

export interface CheckInInput {
  hostname: string;
  policyVersion: number;
  stateFingerprint: string;
  traitsHash: string;
  traitsJson?: string;
  secretsEpoch: number;
  /** W3C traceparent of the check-in (that of the ForcePush that asked for it), or absent. */
  traceparent?: string;
}

/** An open AgentStream: what the server sends, and a way to send signed messages. */
export interface LinkStream {
  readonly call: grpc.ClientDuplexStream<AgentStreamRequest, AgentStreamResponse>;
  /** Signs `payload` now and writes it to the stream. */
  send(payload: PayloadInit<'AgentStream'>): void;
}

export interface ServerLinkOptions {
  credentials: grpc.ChannelCredentials;
  /** The envelope clock, shared by every channel of the process. */
  clock: () => bigint;
  /** host:port to dial; the enrolled server's by default. */
  address?: string;
}

export class ServerLink {
  readonly #client: ServiceClient<typeof VigoAgent.method>;
  readonly #envoyId: string;
  readonly #key: KeyObject;
  readonly #clock: () => bigint;

  constructor(loaded: LoadedIdentity, options: ServerLinkOptions) {
    this.#client = createServiceClient(
      VigoAgent,
      options.address ?? loaded.identity.grpcAddress,
      options.credentials,
      {
        channelOptions: {
          'grpc.keepalive_time_ms': 60_000,
          'grpc.keepalive_timeout_ms': 20_000,
          'grpc.initial_reconnect_backoff_ms': 1_000,
          'grpc.max_reconnect_backoff_ms': 60_000,
          // Its own subchannel pool: the connection belongs to this channel alone and goes when it closes,
          // never handed to a later channel through grpc-js's process-wide pool.
          'grpc.use_local_subchannel_pool': 1,
        },
      },
    );
    this.#envoyId = loaded.identity.envoyId;
    this.#key = loaded.signingKey;
    this.#clock = options.clock;
  }

  #deadline(): { deadline: number } {
    return { deadline: Date.now() + callTimeoutMs };
  }

  /**
   * Signs and sends a request; on checkin.replayed signs it again with a fresh timestamp and sends it
   * once more (agent.proto): a stream message signed just before it may have overtaken it.
   */
  async #signed<T>(send: (tsMs: bigint) => Promise<T>): Promise<T> {
    try {
      return await send(this.#clock());
    } catch (err) {
      if (errorCodeOf(err as grpc.ServiceError) !== 'checkin.replayed') throw err;
      return send(this.#clock());
    }
  }

  checkIn(input: CheckInInput): Promise<CheckInResponse> {
    return this.#signed((tsMs) =>
      this.#client.methods.checkIn(
        signRequest('CheckIn', this.#key, this.#envoyId, tsMs, {
          agentVersion,
          hostname: input.hostname,
          policyVersion: BigInt(input.policyVersion),
          stateFingerprint: input.stateFingerprint,
          traitsHash: input.traitsHash,
          traitsJson: input.traitsJson === undefined ? new Uint8Array() : Buffer.from(input.traitsJson),
          secretsEpoch: BigInt(input.secretsEpoch),
          traceparent: input.traceparent ?? '',
        }),
        this.#deadline(),
      ),
    );
  }

  reportResults(runs: readonly RunRecord[]): Promise<ReportResultsResponse> {
    return this.#signed((tsMs) =>
      this.#client.methods.reportResults(
        signRequest('ReportResults', this.#key, this.#envoyId, tsMs, {
          runs: runs.map((run) => ({
            runId: run.runId,
            policyVersion: BigInt(run.policyVersion),
            startedAtMs: BigInt(run.startedAtMs),
            finishedAtMs: BigInt(run.finishedAtMs),
            dryRun: run.dryRun,
            results: run.results.map((r) => ({
              resourceId: r.resourceId,
              resourceType: r.resourceType,
              configcrate: r.configcrate,
              outcome: outcomeCodes[r.outcome],
              message: r.message,
              durationMs: Math.min(r.durationMs, 0xffffffff),
            })),
          })),
        }),
        this.#deadline(),
      ),
    );
  }

  async resolveSecrets(refs: readonly string[]): Promise<{ values: Map<string, string>; epoch: number }> {
    const response = await this.#signed((tsMs) =>
      this.#client.methods.resolveSecrets(
        signRequest('ResolveSecrets', this.#key, this.#envoyId, tsMs, { refs: [...refs] }),
        this.#deadline(),
      ),
    );
    const values = new Map<string, string>();
    for (const [k, v] of Object.entries(response.values)) values.set(k, Buffer.from(v).toString('utf8'));
    return { values, epoch: Number(response.secretsEpoch) };
  }

  /** Opens an AgentStream on this channel; the caller sends the Hello first. */
  openStream(): LinkStream {
    const call = this.#client.methods.agentStream();
    return {
      call,
      send: (payload) => {
        call.write(signRequest('AgentStream', this.#key, this.#envoyId, this.#clock(), payload));
      },
    };
  }

  close(): void {
    this.#client.close();
  }
}
