/**
 * The one verification step every agent RPC passes before its handler runs, entirely from memory:
 * envelope shape, TLS identity, envoy known and not revoked, ed25519 signature with the envoy's
 * pre-parsed key, and a timestamp that is fresh and strictly increasing per envoy (replay defence in
 * O(1) memory). The order and the status of each refusal are specified in agent.proto.
 */
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { TLSSocket } from 'node:tls';
import { envelopeProblem, verifyEnvelopeSignature } from '../../protocol/index.ts';
import type { AgentRpc, EnvelopeRejectionCode, SignedEnvelope } from '../../protocol/index.ts';
import { fromTlsFingerprint } from '../fleet/index.ts';
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
}

/** The part of a grpc-js server call (unary or stream) that carries the TLS identity of its connection. */
export type PeerCall = Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>;

/** Client-certificate fingerprints by the HTTP/2 session (= TLS connection) they were read from. */
const fingerprintBySession = new WeakMap<object, string>();

/**
 * grpc-js exposes no public handle on a call's connection, but its call objects hold the http2 stream at
 * `call.call.stream` (server-call.js wrapping server-interceptors.js), the very stream whose
 * `session.socket` getAuthContext() reads. Any other shape, e.g. with server interceptors, yields
 * undefined and the caller falls back to getAuthContext() on every call.
 */
function http2SessionOf(call: PeerCall): object | undefined {
  const inner: unknown = Reflect.get(call, 'call');
  if (typeof inner !== 'object' || inner === null) return undefined;
  const stream: unknown = Reflect.get(inner, 'stream');
  if (typeof stream !== 'object' || stream === null) return undefined;
  const session: unknown = Reflect.get(stream, 'session');
  return typeof session === 'object' && session !== null ? session : undefined;
}

/**
 * The SHA-256 fingerprint (lower-case hex) of the client certificate on the connection `call` arrived
 * on, or undefined when the connection has no authorized client certificate. getAuthContext() decodes
 * the whole peer certificate on every call (tens of µs); the certificate cannot change within a TLS
 * connection (HTTP/2 forbids renegotiation and node's http2 turns it off), so it is read once per
 * HTTP/2 session. The cache is keyed by the session object itself, which belongs to exactly one
 * connection, so no connection can ever be given another's identity, and it lets go of closed sessions.
 */
export function peerFingerprint(call: PeerCall): string | undefined {
  const session = http2SessionOf(call);
  const cached = session === undefined ? undefined : fingerprintBySession.get(session);
  if (cached !== undefined) return cached;
  const peer = call.getAuthContext()?.sslPeerCertificate?.fingerprint256;
  if (peer === undefined) return undefined;
  const fingerprint = fromTlsFingerprint(peer);
  // Only a session on a TLS socket is known to be one connection's; anything else is not cached.
  if (session !== undefined && Reflect.get(session, 'socket') instanceof TLSSocket) {
    fingerprintBySession.set(session, fingerprint);
  }
  return fingerprint;
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
  if (!verifyEnvelopeSignature(entry.publicKey, rpc, envelope)) {
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
