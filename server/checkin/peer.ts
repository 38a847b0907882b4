/**
 * Who sent an agent call: the client certificate of its TLS connection (read once per connection), or,
 * for a call relayed from a check-in process, what that process said about it.
 */
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { TLSSocket } from 'node:tls';
import { fromTlsFingerprint } from '../net/tls-fingerprint.ts';

/** Who sent a call: its connection's client-certificate fingerprint and what a check-in process verified. */
export interface CallPeer {
  readonly fingerprint: string | undefined;
  /**
   * The identity generation whose key already verified the envelope's signature in a check-in process
   * (0: none); see VerifyContext.verifiedGeneration.
   */
  readonly verifiedGeneration: number;
}

/** The part of a grpc-js server call (unary or stream) that carries the TLS identity of its connection. */
export type PeerCall = Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>;

/** Calls relayed from a check-in process, which tells who sent each of their messages. */
const relayedPeers = new WeakMap<object, () => CallPeer>();

/** Registers `call`, relayed from a check-in process, with the peer of the message it is delivering. */
export function registerRelayedCall(call: object, peer: () => CallPeer): void {
  relayedPeers.set(call, peer);
}

/** The peer of `call`: a relayed call's as its check-in process told it, or its own connection's. */
export function callPeer(call: PeerCall): CallPeer {
  const relayed = relayedPeers.get(call);
  if (relayed !== undefined) return relayed();
  return { fingerprint: peerFingerprint(call), verifiedGeneration: 0 };
}

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
