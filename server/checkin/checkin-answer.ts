/**
 * What CheckIn answers, from memory: the payload is checked in full before anything is recorded, then the
 * envoy is marked seen and its traits stored, and the reply is either no_change or the envoy's signed
 * bundle, as agent.proto specifies:
 *
 * - policy_version 0 means the agent holds no bundle (or wants a fresh one): it always gets one;
 * - no_change needs the agent's secrets_epoch to be the epoch of the bundle it would get, so a rotated
 *   secret reaches every agent as a bundle to re-apply;
 * - an entry that renders traits gets no bundle before the server has the agent's traits: the reply asks
 *   for them (send_traits) instead of signing a bundle built without them;
 * - serving a bundle records its config version on the entry at once (the reply carries it);
 * - every reply carries the fleet's connection mode, and open_stream while the server wants the envoy's
 *   stream (FleetIndex.requestStream) and no stream of it has said Hello.
 */
import { create } from '@bufbuild/protobuf';
import { createHash } from 'node:crypto';
import { CheckInResponseSchema, ConnectionMode, NoChangeSchema } from '../../protocol/index.ts';
import type { CheckInResponse, PayloadOf } from '../../protocol/index.ts';
import { observeCheckInGap } from '../convergence/index.ts';
import type { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
import { checkInProblem, parseTraits } from './payload-limits.ts';
import { bundleSecretsEpoch } from './policy.ts';
import type { PolicySource } from './policy.ts';
import { EnvelopeRejection } from './verify.ts';

export interface CheckInContext {
  index: FleetIndex;
  policy: PolicySource;
  intervalMs: number;
  observeOnly: boolean;
  /** checkin.connection. */
  connection: 'held' | 'poll';
  /** checkin.stream_idle_release, sent with open_stream. */
  streamIdleReleaseMs: number;
  /** Every server agents may check in with, this one first (empty without standby peers). */
  servers?: readonly string[];
  nowMs: number;
}

const connectionModes = { held: ConnectionMode.HELD, poll: ConnectionMode.POLL } as const;
const uint32Max = 0xffff_ffff;

export interface CheckInAnswer {
  response: CheckInResponse;
  outcome: 'no_change' | 'bundle';
}

/** The traits document to store, or undefined when none was sent; throws checkin.payload_invalid. */
function checkedPayload(payload: PayloadOf<'CheckIn'>): string | undefined {
  const problem = checkInProblem(payload);
  if (problem !== undefined) throw new EnvelopeRejection('checkin.payload_invalid', problem);
  if (payload.traitsJson.length === 0) return undefined;
  const digest = createHash('sha256').update(payload.traitsJson).digest('hex');
  const traits = parseTraits(payload.traitsJson, payload.traitsHash, digest);
  if (typeof traits === 'string') throw new EnvelopeRejection('checkin.payload_invalid', traits);
  return traits.json;
}

function noChange(response: CheckInResponse): CheckInAnswer {
  response.outcome = { case: 'noChange', value: create(NoChangeSchema) };
  return { response, outcome: 'no_change' };
}

/** Answers a verified CheckIn and records it on `entry`; throws checkin.payload_invalid, storing nothing. */
export function answerCheckIn(
  entry: EnvoyEntry,
  payload: PayloadOf<'CheckIn'>,
  context: CheckInContext,
): CheckInAnswer {
  const traitsJson = checkedPayload(payload);
  const { index, policy, nowMs } = context;
  if (entry.lastCheckInAtMs !== 0)
    entry.observedCadenceMs = observeCheckInGap(
      entry.observedCadenceMs,
      nowMs - entry.lastCheckInAtMs,
      context.intervalMs,
    );
  entry.lastCheckInAtMs = nowMs;
  entry.lastSeenAtMs = nowMs;
  entry.intervalMs = context.intervalMs;
  if (payload.agentVersion !== entry.agentVersion) entry.agentVersion = payload.agentVersion;
  if (traitsJson !== undefined) index.addTraits(payload.traitsHash, traitsJson);
  index.markDirty(entry);

  const needsTraits = policy.needsTraits?.(entry) ?? false;
  const sendTraits = payload.traitsHash === '' ? needsTraits : !index.hasTraits(payload.traitsHash);
  if (!sendTraits) entry.traitsHash = payload.traitsHash;
  const response = create(CheckInResponseSchema, {
    policyVersion: BigInt(policy.version),
    intervalMs: entry.intervalMs,
    sendTraits,
    observeOnly: context.observeOnly,
    serverTimeMs: BigInt(nowMs),
    secretsEpoch: BigInt(policy.secretsEpoch),
    connection: connectionModes[context.connection],
    servers: [...(context.servers ?? [])],
  });
  if (entry.streamRequested && !entry.streamOpen) {
    response.openStream = true;
    response.streamIdleReleaseMs = Math.min(context.streamIdleReleaseMs, uint32Max);
  }
  if (sendTraits && needsTraits) {
    // The agent keeps what it holds and comes straight back with its traits.
    response.policyVersion = payload.policyVersion;
    response.secretsEpoch = payload.secretsEpoch;
    return noChange(response);
  }

  const holdsBundle = payload.policyVersion !== 0n && !entry.forcePush;
  const current =
    holdsBundle &&
    !needsTraits &&
    payload.policyVersion === BigInt(policy.version) &&
    payload.secretsEpoch === BigInt(policy.secretsEpoch);
  if (current) return recordNoChange(entry, payload, policy, response);
  const served = policy.bundleFor(entry, nowMs);
  const servedEpoch = bundleSecretsEpoch(served.bundle);
  response.secretsEpoch = BigInt(servedEpoch);
  if (
    holdsBundle &&
    served.merkleRoot === payload.stateFingerprint &&
    payload.secretsEpoch === BigInt(servedEpoch)
  ) {
    return recordNoChange(entry, payload, policy, response);
  }
  response.outcome = { case: 'bundle', value: served.bundle };
  entry.forcePush = false;
  // The version the envoy now holds is the one just served: lists show it from this reply on, not from a
  // later no-change check-in. The flusher persists it with the rest of the entry (markDirty above).
  entry.policyVersion = policy.version;
  return { response, outcome: 'bundle' };
}

function recordNoChange(
  entry: EnvoyEntry,
  payload: PayloadOf<'CheckIn'>,
  policy: PolicySource,
  response: CheckInResponse,
): CheckInAnswer {
  entry.policyVersion = policy.version;
  entry.stateFingerprint = payload.stateFingerprint;
  return noChange(response);
}
