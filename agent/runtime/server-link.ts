/**
 * The agent's side of the wire: one long-lived mTLS HTTP/2 channel to the server, every request signed
 * with the enrollment key through the same protocol module the server verifies with.
 */
import * as grpc from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import {
  ResourceOutcome,
  VigoAgent,
  createEnvelopeClock,
  createServiceClient,
  signRequest,
} from '../../protocol/index.ts';
import type { CheckInResponse, ReportResultsResponse, ServiceClient } from '../../protocol/index.ts';
import type { ResourceOutcome as Outcome, RunRecord } from '../engine/index.ts';
import type { LoadedIdentity } from './state-dir.ts';

export const agentVersion = '0.1.0';
const callTimeoutMs = 30_000;

const outcomeCodes: Record<Outcome, ResourceOutcome> = {
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
}

export class ServerLink {
  readonly #client: ServiceClient<typeof VigoAgent.method>;
  readonly #envoyId: string;
  readonly #key: KeyObject;
  readonly #clock = createEnvelopeClock();

  constructor(loaded: LoadedIdentity) {
    const credentials = grpc.credentials.createSsl(
      Buffer.from(loaded.caPem),
      Buffer.from(loaded.tlsKeyPem),
      Buffer.from(loaded.tlsCertPem),
    );
    this.#client = createServiceClient(VigoAgent, loaded.identity.grpcAddress, credentials, {
      channelOptions: {
        'grpc.keepalive_time_ms': 60_000,
        'grpc.keepalive_timeout_ms': 20_000,
        'grpc.initial_reconnect_backoff_ms': 1_000,
        'grpc.max_reconnect_backoff_ms': 60_000,
      },
    });
    this.#envoyId = loaded.identity.envoyId;
    this.#key = loaded.signingKey;
  }

  #deadline(): { deadline: number } {
    return { deadline: Date.now() + callTimeoutMs };
  }

  checkIn(input: CheckInInput): Promise<CheckInResponse> {
    return this.#client.methods.checkIn(
      signRequest('CheckIn', this.#key, this.#envoyId, this.#clock(), {
        agentVersion,
        hostname: input.hostname,
        policyVersion: BigInt(input.policyVersion),
        stateFingerprint: input.stateFingerprint,
        traitsHash: input.traitsHash,
        traitsJson: input.traitsJson === undefined ? new Uint8Array() : Buffer.from(input.traitsJson),
        secretsEpoch: BigInt(input.secretsEpoch),
      }),
      this.#deadline(),
    );
  }

  reportResults(runs: readonly RunRecord[]): Promise<ReportResultsResponse> {
    return this.#client.methods.reportResults(
      signRequest('ReportResults', this.#key, this.#envoyId, this.#clock(), {
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
    );
  }

  async resolveSecrets(refs: readonly string[]): Promise<{ values: Map<string, string>; epoch: number }> {
    const response = await this.#client.methods.resolveSecrets(
      signRequest('ResolveSecrets', this.#key, this.#envoyId, this.#clock(), { refs: [...refs] }),
      this.#deadline(),
    );
    const values = new Map<string, string>();
    for (const [k, v] of Object.entries(response.values)) values.set(k, Buffer.from(v).toString('utf8'));
    return { values, epoch: Number(response.secretsEpoch) };
  }

  close(): void {
    this.#client.close();
  }
}
