/**
 * The one verification step every agent RPC passes before its handler runs, entirely from memory:
 * envelope shape, TLS identity, envoy known and not revoked, ed25519 signature with the envoy's
 * pre-parsed key, and a timestamp that is fresh and strictly increasing per envoy (replay defence in
 * O(1) memory). The order and the status of each refusal are specified in agent.proto.
 */
import { envelopeProblem, verifyEnvelopeSignature } from '../../protocol/index.ts';
import type { AgentRpc, EnvelopeRejectionCode, SignedEnvelope } from '../../protocol/index.ts';
export { callPeer, peerFingerprint, registerRelayedCall } from './peer.ts';
export type { CallPeer, PeerCall } from './peer.ts';
import type { EnvoyEntry, FleetIndex } from '../fleet/index.ts';

export class EnvelopeRejection extends Error {
  constructor(
    readonly code: EnvelopeRejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'EnvelopeRejection';
  }
}

export interface VerifyContext {
  index: FleetIndex;
  clockSkewMs: number;
  nowMs: number;
  /**
   * The identity generation whose key already verified this envelope's signature in a check-in process
   * (0 or absent: none). The signature is checked again unless it is the envoy's current generation.
   */
  verifiedGeneration?: number;
}

/**
 * Verifies `envelope` for `rpc` and, on success, records its timestamp as the envoy's latest accepted one.
 * `peerFingerprint` is the TLS client certificate's SHA-256 fingerprint, lower-case hex.
 */
export function verifyEnvelope(
  rpc: AgentRpc,
  envelope: SignedEnvelope | undefined,
  peerFingerprint: string | undefined,
  context: VerifyContext,
): EnvoyEntry {
  const problem = envelopeProblem(envelope);
  if (problem !== undefined || envelope === undefined) {
    throw new EnvelopeRejection('checkin.envelope_invalid', problem ?? 'the request carries no envelope');
  }
  const entry = context.index.get(envelope.envoyId);
  if (peerFingerprint === undefined) {
    throw new EnvelopeRejection(
      'checkin.identity_mismatch',
      'the connection presented no client certificate',
    );
  }
  if (entry === undefined) {
    throw new EnvelopeRejection(
      'checkin.unknown_envoy',
      `envoy ${envelope.envoyId} is not enrolled on this server`,
    );
  }
  if (entry.certFingerprint !== peerFingerprint) {
    throw new EnvelopeRejection(
      'checkin.identity_mismatch',
      `the TLS client certificate is not the one issued to envoy ${entry.id} at its latest enrollment`,
    );
  }
  if (entry.status === 'revoked') {
    throw new EnvelopeRejection(
      'checkin.revoked',
      `envoy ${entry.id} has been revoked; enroll again with a new token`,
    );
  }
  if (entry.keyProblem !== undefined) {
    throw new EnvelopeRejection(
      'checkin.bad_signature',
      `envoy ${entry.id}'s enrolled key is refused (${entry.keyProblem}); enroll the host again`,
    );
  }
  const verified =
    context.verifiedGeneration !== undefined &&
    context.verifiedGeneration !== 0 &&
    context.verifiedGeneration === entry.identityGeneration;
  if (!verified && !verifyEnvelopeSignature(entry.publicKey, rpc, envelope)) {
    throw new EnvelopeRejection(
      'checkin.bad_signature',
      `the ${rpc} signature does not verify with envoy ${entry.id}'s key`,
    );
  }
  const tsMs = Number(envelope.tsMs);
  if (Math.abs(tsMs - context.nowMs) > context.clockSkewMs) {
    throw new EnvelopeRejection(
      'checkin.clock_skew',
      `request timestamp ${tsMs} is ${Math.round((tsMs - context.nowMs) / 1000)} s from server time; ` +
        `the accepted skew is ±${Math.round(context.clockSkewMs / 1000)} s (check the node's clock)`,
    );
  }
  if (tsMs <= entry.lastTsMs) {
    throw new EnvelopeRejection(
      'checkin.replayed',
      `request timestamp ${tsMs} is not after the last accepted one (${entry.lastTsMs}): replayed or reordered`,
    );
  }
  entry.lastTsMs = tsMs;
  context.index.markDirty(entry);
  return entry;
}
