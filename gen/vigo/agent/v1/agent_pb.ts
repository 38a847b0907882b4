// Vigo agent wire protocol, version 1.
//
// This file is the specification of the protocol between an agent ("envoy") and vigosrv. An agent in any
// language must be implementable from this file alone; the TypeScript helpers in protocol/ follow it.
//
// # Transport
//
// gRPC over HTTP/2 with mutual TLS, port 1530 by default. There is no plaintext transport. The agent
// presents the client certificate issued to it at enrollment; that certificate names the envoy id (subject
// CN and a SAN). The agent multiplexes every RPC on one connection. The server refuses any gRPC message
// larger than 4 MiB + 64 KiB (4,259,840 bytes) with RESOURCE_EXHAUSTED, and a request message that is not
// valid protobuf with INVALID_ARGUMENT checkin.payload_invalid (on AgentStream the stream ends with that
// status), before any of the checks below.
//
// ## Connection modes
//
// Every CheckInResponse says how the agent connects until its next check-in (`connection`; the server's
// checkin.connection setting, the same for the whole fleet, so an operator switches every agent from one
// place):
//
//   HELD  the agent keeps its connection open and holds an AgentStream on it, reopening the stream with
//         exponential backoff and jitter whenever it ends. Pushed work arrives at once; no handshake is
//         paid per check-in. This is the default, and what an agent does before its first reply.
//   POLL  the agent connects, checks in, reports its results and resolves its secrets, then closes the
//         connection until its next check-in. It holds no AgentStream unless a reply sets `open_stream`:
//         then it opens one at once and closes it (and the connection) after `stream_idle_release_ms`
//         without a message from the server.
//
// The server closes a connection on which no call has been open for grpc.connection_idle_timeout (2
// minutes by default) with an HTTP/2 GOAWAY; an agent simply connects again when it next calls.
//
// ## Standby servers
//
// A server may have standby peers (the same fleet, the same CA). Every CheckInResponse lists the servers the
// agent may check in with (`servers`). A standby, or a former primary that has been replaced (fenced),
// answers every RPC with status FAILED_PRECONDITION, a message that begins "replication.not_primary", and the
// trailing metadata `vigo-primary: host:port` naming the primary when it knows it. The agent then moves to
// that server (or, without the metadata, to the next one in its list) and retries the call there. An agent
// that cannot reach its server (UNAVAILABLE, DEADLINE_EXCEEDED) also moves to the next server in its list.
// The agent's bundle cache and queue of unreported results are the agent's own and go with it.
//
// ## TLS session resumption
//
// The server issues TLS 1.3 session tickets. An agent should keep the newest ticket it received and offer
// it on its next connection: a resumed handshake skips the certificate exchange and signatures, which is
// most of what a connection costs in poll mode. A resumed session carries the client certificate of the
// handshake that first created it, so every check below applies to it unchanged, and the server refuses a
// resumed connection whose certificate has expired since. Tickets are encrypted with keys that live only
// in the server's memory: they rotate every 30 minutes, a ticket is accepted for at most one rotation
// after the one it was issued under (the server then issues a fresh one), and a ticket is good for at
// most one hour. A ticket the server does not accept (too old, or from before a server restart) costs a
// full handshake and nothing else.
//
// # Signed envelopes
//
// Every message the agent sends (each unary request and each message on AgentStream) carries exactly one
// SignedEnvelope in field 1. The envelope's `body` holds the serialized payload message of that RPC:
//
//   RpcName          request message         body decodes as
//   CheckIn          CheckInRequest          CheckInPayload
//   ReportResults    ReportResultsRequest    ReportResultsPayload
//   ResolveSecrets   ResolveSecretsRequest   ResolveSecretsPayload
//   AgentStream      AgentStreamRequest      AgentStreamPayload
//
// The signature covers the body bytes exactly as sent, so no canonical re-encoding is ever needed: the
// server verifies the signature first and only then decodes the body.
//
// ## Signed bytes
//
// The signature is Ed25519 (RFC 8032, pure Ed25519: no pre-hash, no context string) made with the agent's
// enrollment private key over the concatenation of these fields, with no padding between them:
//
//   domain  ASCII "vigo/v1/" + RpcName + one 0x00 byte, where RpcName is exactly one of
//           "CheckIn", "ReportResults", "ResolveSecrets", "AgentStream"
//   id_len  byte length of envoy_id encoded as UTF-8: unsigned 16-bit integer, big-endian (2 bytes)
//   id      envoy_id encoded as UTF-8 (id_len bytes)
//   ts      ts_ms: signed 64-bit integer, two's complement, big-endian (8 bytes)
//   body    the envelope's body bytes, verbatim (may be empty)
//
//   signed_bytes = domain || id_len || id || ts || body
//
// The RpcName in the domain binds a signature to one RPC: a signed CheckIn never verifies as any other RPC.
//
// Example (a test in protocol/ checks this vector): RpcName "CheckIn", envoy_id "e1",
// ts_ms 1700000000000, body = CheckInPayload{agent_version: "1.0"} = 0A 03 31 2E 30:
//
//   76 69 67 6F 2F 76 31 2F 43 68 65 63 6B 49 6E 00    "vigo/v1/CheckIn" 0x00
//   00 02 65 31                                        id_len = 2, "e1"
//   00 00 01 8B CF E5 68 00                            ts_ms = 1700000000000
//   0A 03 31 2E 30                                     body
//
// ## What the server checks
//
// The server applies these checks in this order; the first failure ends the call (on AgentStream: ends the
// stream) with the gRPC status and stable code shown:
//
//   1. The envelope is well formed: present; envoy_id 1..64 bytes of UTF-8; ts_ms > 0; signature exactly
//      64 bytes; body at most 4 MiB (4,194,304 bytes).
//        INVALID_ARGUMENT     checkin.envelope_invalid
//   2. The TLS client certificate names the same envoy id as envoy_id.
//        UNAUTHENTICATED      checkin.identity_mismatch
//   3. The envoy is enrolled (the server holds its enrollment public key).
//        UNAUTHENTICATED      checkin.unknown_envoy
//   4. The envoy is not revoked.
//        PERMISSION_DENIED    checkin.revoked
//   5. The signature verifies with the envoy's enrollment public key over the signed bytes of this RPC.
//        UNAUTHENTICATED      checkin.bad_signature
//   6. ts_ms is within checkin.clock_skew (server.yaml; default 5 minutes) of the server's clock, both ways.
//        FAILED_PRECONDITION  checkin.clock_skew
//   7. ts_ms is strictly greater than the last ts_ms the server accepted from this envoy. There is one such
//      counter per envoy, shared by all four RPCs and every AgentStream message.
//        FAILED_PRECONDITION  checkin.replayed
//   8. The body decodes as the RPC's payload message and respects the limits documented on its fields.
//        INVALID_ARGUMENT     checkin.payload_invalid
//
// When checks 1 to 7 pass, the server records ts_ms as the envoy's last accepted timestamp. A request that
// fails any of them never moves that counter, so forged or rejected requests cannot block a real agent.
// The server answers a request (and acts on an AgentStream message) only once that counter is stored
// durably, so it survives a server restart and a crash alike: a request the server answered is refused as
// checkin.replayed forever after. When the counter cannot be stored, the request is refused with
// UNAVAILABLE server.unavailable and the agent resends it with a fresh ts_ms after a backoff.
//
// ## Errors
//
// Every error status this service returns carries a stable code (the ones above and those listed on each
// RPC): the gRPC status message starts with the code, then ": ", then an explanation for a person (for
// example "checkin.replayed: ts_ms 1700000000000 is not after the last accepted 1700000000500"), and the
// trailing metadata key "vigo-error-code" holds the code alone. Agents match on the code, never on the
// explanation.
//
// ## What the agent does
//
// - Timestamps: for every message it signs, the agent uses ts_ms = max(its clock in Unix milliseconds,
//   previous ts_ms + 1), across all RPCs, so timestamps strictly increase even when its clock steps back or
//   two messages are signed within one millisecond. It keeps the previous ts_ms across restarts or starts
//   from its clock (which has moved past the last one).
// - It signs a message immediately before sending it. Messages signed close together travel on different
//   HTTP/2 streams and may reach the server out of order; on checkin.replayed the agent signs the request
//   again with a fresh ts_ms and retries once.
// - On checkin.clock_skew it logs both clocks (the explanation carries the server's time) and retries at its
//   next interval. It may correct its timestamps by the offset it observed between
//   CheckInResponse.server_time_ms and its own clock.
// - On UNAUTHENTICATED or PERMISSION_DENIED it retries no faster than its check-in interval and keeps
//   enforcing its cached, still valid bundle: an unknown, mismatched or revoked envoy needs an operator.
// - On UNAVAILABLE, DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED it retries with exponential backoff and jitter.
//
// # Responses
//
// Responses are not signed: mutual TLS authenticates the server. The one exception is the policy bundle
// (SignedBundle), which the server signs with its bundle-signing key so that an agent can re-verify a cached
// bundle while offline.

// @generated by protoc-gen-es v2.13.0 with parameter "target=ts,import_extension=ts"
// @generated from file vigo/agent/v1/agent.proto (package vigo.agent.v1, syntax proto3)
/* eslint-disable */

import type { GenEnum, GenFile, GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
import { enumDesc, fileDesc, messageDesc, serviceDesc } from "@bufbuild/protobuf/codegenv2";
import type { Message } from "@bufbuild/protobuf";

/**
 * Describes the file vigo/agent/v1/agent.proto.
 */
export const file_vigo_agent_v1_agent: GenFile = /*@__PURE__*/
  fileDesc("Chl2aWdvL2FnZW50L3YxL2FnZW50LnByb3RvEg12aWdvLmFnZW50LnYxIlIKDlNpZ25lZEVudmVsb3BlEhAKCGVudm95X2lkGAEgASgJEg0KBXRzX21zGAIgASgDEgwKBGJvZHkYAyABKAwSEQoJc2lnbmF0dXJlGAQgASgMIkEKDkNoZWNrSW5SZXF1ZXN0Ei8KCGVudmVsb3BlGAEgASgLMh0udmlnby5hZ2VudC52MS5TaWduZWRFbnZlbG9wZSLCAQoOQ2hlY2tJblBheWxvYWQSFQoNYWdlbnRfdmVyc2lvbhgBIAEoCRIQCghob3N0bmFtZRgCIAEoCRIWCg5wb2xpY3lfdmVyc2lvbhgDIAEoBBIZChFzdGF0ZV9maW5nZXJwcmludBgEIAEoCRITCgt0cmFpdHNfaGFzaBgFIAEoCRITCgt0cmFpdHNfanNvbhgGIAEoDBIVCg1zZWNyZXRzX2Vwb2NoGAcgASgEEhMKC3RyYWNlcGFyZW50GAggASgJIvkCCg9DaGVja0luUmVzcG9uc2USLAoJbm9fY2hhbmdlGAEgASgLMhcudmlnby5hZ2VudC52MS5Ob0NoYW5nZUgAEi0KBmJ1bmRsZRgCIAEoCzIbLnZpZ28uYWdlbnQudjEuU2lnbmVkQnVuZGxlSAASFgoOcG9saWN5X3ZlcnNpb24YAyABKAQSEwoLaW50ZXJ2YWxfbXMYBCABKA0SEwoLc2VuZF90cmFpdHMYBSABKAgSFAoMb2JzZXJ2ZV9vbmx5GAYgASgIEhYKDnNlcnZlcl90aW1lX21zGAcgASgDEhUKDXNlY3JldHNfZXBvY2gYCCABKAQSMQoKY29ubmVjdGlvbhgJIAEoDjIdLnZpZ28uYWdlbnQudjEuQ29ubmVjdGlvbk1vZGUSEwoLb3Blbl9zdHJlYW0YCiABKAgSHgoWc3RyZWFtX2lkbGVfcmVsZWFzZV9tcxgLIAEoDRIPCgdzZXJ2ZXJzGAwgAygJQgkKB291dGNvbWUiCgoITm9DaGFuZ2UiQgoMU2lnbmVkQnVuZGxlEg8KB3BheWxvYWQYASABKAwSEQoJc2lnbmF0dXJlGAIgASgMEg4KBmtleV9pZBgDIAEoCSJHChRSZXBvcnRSZXN1bHRzUmVxdWVzdBIvCghlbnZlbG9wZRgBIAEoCzIdLnZpZ28uYWdlbnQudjEuU2lnbmVkRW52ZWxvcGUiPgoUUmVwb3J0UmVzdWx0c1BheWxvYWQSJgoEcnVucxgBIAMoCzIYLnZpZ28uYWdlbnQudjEuUnVuUmVwb3J0IrgBCglSdW5SZXBvcnQSDgoGcnVuX2lkGAEgASgJEhYKDnBvbGljeV92ZXJzaW9uGAIgASgEEhUKDXN0YXJ0ZWRfYXRfbXMYAyABKAMSFgoOZmluaXNoZWRfYXRfbXMYBCABKAMSDwoHZHJ5X3J1bhgFIAEoCBITCgt0cmFjZXBhcmVudBgGIAEoCRIuCgdyZXN1bHRzGAcgAygLMh0udmlnby5hZ2VudC52MS5SZXNvdXJjZVJlc3VsdCKoAQoOUmVzb3VyY2VSZXN1bHQSEwoLcmVzb3VyY2VfaWQYASABKAkSFQoNcmVzb3VyY2VfdHlwZRgCIAEoCRITCgtjb25maWdjcmF0ZRgDIAEoCRIvCgdvdXRjb21lGAQgASgOMh4udmlnby5hZ2VudC52MS5SZXNvdXJjZU91dGNvbWUSDwoHbWVzc2FnZRgFIAEoCRITCgtkdXJhdGlvbl9tcxgGIAEoDSJjChVSZXBvcnRSZXN1bHRzUmVzcG9uc2USGAoQYWNjZXB0ZWRfcnVuX2lkcxgBIAMoCRIYChByZWplY3RlZF9ydW5faWRzGAIgAygJEhYKDnJldHJ5X2FmdGVyX21zGAMgASgNIkgKFVJlc29sdmVTZWNyZXRzUmVxdWVzdBIvCghlbnZlbG9wZRgBIAEoCzIdLnZpZ28uYWdlbnQudjEuU2lnbmVkRW52ZWxvcGUiOgoVUmVzb2x2ZVNlY3JldHNQYXlsb2FkEgwKBHJlZnMYASADKAkSEwoLdHJhY2VwYXJlbnQYAiABKAkioQEKFlJlc29sdmVTZWNyZXRzUmVzcG9uc2USQQoGdmFsdWVzGAEgAygLMjEudmlnby5hZ2VudC52MS5SZXNvbHZlU2VjcmV0c1Jlc3BvbnNlLlZhbHVlc0VudHJ5EhUKDXNlY3JldHNfZXBvY2gYAiABKAQaLQoLVmFsdWVzRW50cnkSCwoDa2V5GAEgASgJEg0KBXZhbHVlGAIgASgMOgI4ASJFChJBZ2VudFN0cmVhbVJlcXVlc3QSLwoIZW52ZWxvcGUYASABKAsyHS52aWdvLmFnZW50LnYxLlNpZ25lZEVudmVsb3BlItgBChJBZ2VudFN0cmVhbVBheWxvYWQSLQoJaGVhcnRiZWF0GAEgASgLMhgudmlnby5hZ2VudC52MS5IZWFydGJlYXRIABIwCgt0YXNrX3Jlc3VsdBgCIAEoCzIZLnZpZ28uYWdlbnQudjEuVGFza1Jlc3VsdEgAEjIKDHF1ZXJ5X3Jlc3VsdBgDIAEoCzIaLnZpZ28uYWdlbnQudjEuUXVlcnlSZXN1bHRIABIlCgVoZWxsbxgEIAEoCzIULnZpZ28uYWdlbnQudjEuSGVsbG9IAEIGCgRraW5kIjYKBUhlbGxvEhUKDWFnZW50X3ZlcnNpb24YASABKAkSFgoOcG9saWN5X3ZlcnNpb24YAiABKAQiHAoJSGVhcnRiZWF0Eg8KB3BpbmdfaWQYASABKAQikwIKClRhc2tSZXN1bHQSDwoHdGFza19pZBgBIAEoCRIpCgZzdGF0dXMYAiABKA4yGS52aWdvLmFnZW50LnYxLlRhc2tTdGF0dXMSEQoJZXhpdF9jb2RlGAMgASgFEg4KBnN0ZG91dBgEIAEoDBIOCgZzdGRlcnIYBSABKAwSEQoJdHJ1bmNhdGVkGAYgASgIEhUKDXN0YXJ0ZWRfYXRfbXMYByABKAMSFgoOZmluaXNoZWRfYXRfbXMYCCABKAMSDwoHbWVzc2FnZRgJIAEoCRIuCgdyZXN1bHRzGAogAygLMh0udmlnby5hZ2VudC52MS5SZXNvdXJjZVJlc3VsdBITCgt0cmFjZXBhcmVudBgLIAEoCSJCCgtRdWVyeVJlc3VsdBIQCghxdWVyeV9pZBgBIAEoCRISCgp2YWx1ZV9qc29uGAIgASgMEg0KBWVycm9yGAMgASgJItgBChNBZ2VudFN0cmVhbVJlc3BvbnNlEjQKDXRhc2tfZGlzcGF0Y2gYASABKAsyGy52aWdvLmFnZW50LnYxLlRhc2tEaXNwYXRjaEgAEi4KCmZvcmNlX3B1c2gYAiABKAsyGC52aWdvLmFnZW50LnYxLkZvcmNlUHVzaEgAEi4KCmxpdmVfcXVlcnkYAyABKAsyGC52aWdvLmFnZW50LnYxLkxpdmVRdWVyeUgAEiMKBHBpbmcYBCABKAsyEy52aWdvLmFnZW50LnYxLlBpbmdIAEIGCgRraW5kIpUCCgxUYXNrRGlzcGF0Y2gSDwoHdGFza19pZBgBIAEoCRIRCgdjb21tYW5kGAIgASgJSAASEwoJdGFza19uYW1lGAMgASgJSAASNwoGcGFyYW1zGAQgAygLMicudmlnby5hZ2VudC52MS5UYXNrRGlzcGF0Y2guUGFyYW1zRW50cnkSFwoPdGltZW91dF9zZWNvbmRzGAUgASgNEgwKBG5pY2UYBiABKAUSDwoHZHJ5X3J1bhgHIAEoCBITCgt0cmFjZXBhcmVudBgIIAEoCRINCgVmb3JjZRgJIAEoCBotCgtQYXJhbXNFbnRyeRILCgNrZXkYASABKAkSDQoFdmFsdWUYAiABKAk6AjgBQggKBmFjdGlvbiIwCglGb3JjZVB1c2gSDgoGcmVhc29uGAEgASgJEhMKC3RyYWNlcGFyZW50GAIgASgJIloKCUxpdmVRdWVyeRIQCghxdWVyeV9pZBgBIAEoCRISCgp0cmFpdF9wYXRoGAIgASgJEhMKC3RyYWNlcGFyZW50GAMgASgJEhIKCnF1ZXJ5X25hbWUYBCABKAkiFwoEUGluZxIPCgdwaW5nX2lkGAEgASgEKmUKDkNvbm5lY3Rpb25Nb2RlEh8KG0NPTk5FQ1RJT05fTU9ERV9VTlNQRUNJRklFRBAAEhgKFENPTk5FQ1RJT05fTU9ERV9IRUxEEAESGAoUQ09OTkVDVElPTl9NT0RFX1BPTEwQAiqBAgoPUmVzb3VyY2VPdXRjb21lEiAKHFJFU09VUkNFX09VVENPTUVfVU5TUEVDSUZJRUQQABIZChVSRVNPVVJDRV9PVVRDT01FX05PTkUQARIcChhSRVNPVVJDRV9PVVRDT01FX0NSRUFURUQQAhIcChhSRVNPVVJDRV9PVVRDT01FX1VQREFURUQQAxIcChhSRVNPVVJDRV9PVVRDT01FX0RFTEVURUQQBBIcChhSRVNPVVJDRV9PVVRDT01FX1NLSVBQRUQQBRIcChhSRVNPVVJDRV9PVVRDT01FX0JMT0NLRUQQBhIbChdSRVNPVVJDRV9PVVRDT01FX0ZBSUxFRBAHKpEBCgpUYXNrU3RhdHVzEhsKF1RBU0tfU1RBVFVTX1VOU1BFQ0lGSUVEEAASGQoVVEFTS19TVEFUVVNfU1VDQ0VFREVEEAESFgoSVEFTS19TVEFUVVNfRkFJTEVEEAISGQoVVEFTS19TVEFUVVNfVElNRURfT1VUEAMSGAoUVEFTS19TVEFUVVNfUkVKRUNURUQQBDLqAgoJVmlnb0FnZW50EkgKB0NoZWNrSW4SHS52aWdvLmFnZW50LnYxLkNoZWNrSW5SZXF1ZXN0Gh4udmlnby5hZ2VudC52MS5DaGVja0luUmVzcG9uc2USWgoNUmVwb3J0UmVzdWx0cxIjLnZpZ28uYWdlbnQudjEuUmVwb3J0UmVzdWx0c1JlcXVlc3QaJC52aWdvLmFnZW50LnYxLlJlcG9ydFJlc3VsdHNSZXNwb25zZRJdCg5SZXNvbHZlU2VjcmV0cxIkLnZpZ28uYWdlbnQudjEuUmVzb2x2ZVNlY3JldHNSZXF1ZXN0GiUudmlnby5hZ2VudC52MS5SZXNvbHZlU2VjcmV0c1Jlc3BvbnNlElgKC0FnZW50U3RyZWFtEiEudmlnby5hZ2VudC52MS5BZ2VudFN0cmVhbVJlcXVlc3QaIi52aWdvLmFnZW50LnYxLkFnZW50U3RyZWFtUmVzcG9uc2UoATABYgZwcm90bzM");

/**
 * SignedEnvelope wraps every message the agent sends; see the file comment for the exact signed bytes and
 * the checks the server applies.
 *
 * @generated from message vigo.agent.v1.SignedEnvelope
 */
export type SignedEnvelope = Message<"vigo.agent.v1.SignedEnvelope"> & {
  /**
   * The envoy id issued at enrollment (a UUID in text form today): 1..64 bytes of UTF-8. It must equal the
   * id named by the TLS client certificate.
   *
   * @generated from field: string envoy_id = 1;
   */
  envoyId: string;

  /**
   * When the agent signed the message: Unix time in milliseconds on the agent's clock. Must be > 0, within
   * checkin.clock_skew of the server's clock, and strictly greater than the previous accepted ts_ms of this
   * envoy.
   *
   * @generated from field: int64 ts_ms = 2;
   */
  tsMs: bigint;

  /**
   * The serialized payload message of the RPC (CheckInPayload for CheckIn, and so on): at most 4 MiB.
   *
   * @generated from field: bytes body = 3;
   */
  body: Uint8Array;

  /**
   * Ed25519 signature (exactly 64 bytes) over the signed bytes, made with the agent's enrollment key.
   *
   * @generated from field: bytes signature = 4;
   */
  signature: Uint8Array;
};

/**
 * Describes the message vigo.agent.v1.SignedEnvelope.
 * Use `create(SignedEnvelopeSchema)` to create a new message.
 */
export const SignedEnvelopeSchema: GenMessage<SignedEnvelope> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 0);

/**
 * CheckInRequest is the CheckIn request; its envelope's body is a CheckInPayload.
 *
 * @generated from message vigo.agent.v1.CheckInRequest
 */
export type CheckInRequest = Message<"vigo.agent.v1.CheckInRequest"> & {
  /**
   * Signed envelope, RpcName "CheckIn".
   *
   * @generated from field: vigo.agent.v1.SignedEnvelope envelope = 1;
   */
  envelope?: SignedEnvelope | undefined;
};

/**
 * Describes the message vigo.agent.v1.CheckInRequest.
 * Use `create(CheckInRequestSchema)` to create a new message.
 */
export const CheckInRequestSchema: GenMessage<CheckInRequest> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 1);

/**
 * CheckInPayload is what the agent tells the server at each check-in.
 *
 * @generated from message vigo.agent.v1.CheckInPayload
 */
export type CheckInPayload = Message<"vigo.agent.v1.CheckInPayload"> & {
  /**
   * The agent's version string, e.g. "0.1.0": at most 64 bytes.
   *
   * @generated from field: string agent_version = 1;
   */
  agentVersion: string;

  /**
   * The host's name as the agent sees it: at most 253 bytes.
   *
   * @generated from field: string hostname = 2;
   */
  hostname: string;

  /**
   * The policy_version of the bundle the agent holds, 0 for none. 0 always gets a bundle: an agent whose
   * cached bundle nears its expiry (the expiry is inside the bundle) sends 0 and an empty state_fingerprint
   * to get a fresh one.
   *
   * @generated from field: uint64 policy_version = 3;
   */
  policyVersion: bigint;

  /**
   * The Merkle root of the bundle the agent applied, as 64 lowercase hex characters, or "" for none.
   *
   * @generated from field: string state_fingerprint = 4;
   */
  stateFingerprint: string;

  /**
   * SHA-256, as 64 lowercase hex characters, of the agent's current traits in canonical JSON (RFC 8785 JSON
   * Canonicalization Scheme: object members sorted by key, no insignificant whitespace, UTF-8), or "" for
   * none (an entry that renders traits then answers send_traits).
   *
   * @generated from field: string traits_hash = 5;
   */
  traitsHash: string;

  /**
   * The canonical traits JSON whose SHA-256 is traits_hash: a JSON object, with objects and arrays nested at
   * most 64 deep (the top-level object is 1). Sent only when the previous CheckInResponse set send_traits,
   * empty otherwise. At most 1 MiB.
   *
   * @generated from field: bytes traits_json = 6;
   */
  traitsJson: Uint8Array;

  /**
   * The secrets_epoch written in the bundle the agent holds (the bundle policy_version names), 0 for none.
   * When the server's differs (a secret was set, rotated or deleted) the agent gets the bundle again, so
   * that it applies the new values.
   *
   * @generated from field: uint64 secrets_epoch = 7;
   */
  secretsEpoch: bigint;

  /**
   * W3C Trace Context traceparent of this check-in ("00-<32 hex>-<16 hex>-<2 hex>"), or "": at most 128
   * bytes. The trace id appears in the server's log lines for this call.
   *
   * @generated from field: string traceparent = 8;
   */
  traceparent: string;
};

/**
 * Describes the message vigo.agent.v1.CheckInPayload.
 * Use `create(CheckInPayloadSchema)` to create a new message.
 */
export const CheckInPayloadSchema: GenMessage<CheckInPayload> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 2);

/**
 * CheckInResponse is the server's answer to CheckIn. It is not signed (mutual TLS protects it); a bundle
 * inside it is. A no_change answer serializes to a few dozen bytes.
 *
 * @generated from message vigo.agent.v1.CheckInResponse
 */
export type CheckInResponse = Message<"vigo.agent.v1.CheckInResponse"> & {
  /**
   * Exactly one is set.
   *
   * @generated from oneof vigo.agent.v1.CheckInResponse.outcome
   */
  outcome: {
    /**
     * The agent's bundle is still its desired state: keep enforcing it.
     *
     * @generated from field: vigo.agent.v1.NoChange no_change = 1;
     */
    value: NoChange;
    case: "noChange";
  } | {
    /**
     * A new bundle to verify, cache and apply.
     *
     * @generated from field: vigo.agent.v1.SignedBundle bundle = 2;
     */
    value: SignedBundle;
    case: "bundle";
  } | { case: undefined; value?: undefined };

  /**
   * The server's current policy version: the version of `bundle`, or the version the agent already holds
   * when no_change is set.
   *
   * @generated from field: uint64 policy_version = 3;
   */
  policyVersion: bigint;

  /**
   * How long the agent waits before its next CheckIn, in milliseconds (the agent adds up to 10% random
   * jitter of its own). 0 means keep the current interval.
   *
   * @generated from field: uint32 interval_ms = 4;
   */
  intervalMs: number;

  /**
   * The server has no traits with the agent's traits_hash (or traits_hash was empty and the envoy's entry
   * renders traits): the agent checks in again promptly with traits_json set.
   *
   * @generated from field: bool send_traits = 5;
   */
  sendTraits: boolean;

  /**
   * Observe mode: the agent reports would-be changes and changes nothing (ORed with its local dry-run).
   *
   * @generated from field: bool observe_only = 6;
   */
  observeOnly: boolean;

  /**
   * The server's clock, Unix time in milliseconds, when it answered; lets the agent detect clock skew
   * before the server starts refusing its requests.
   *
   * @generated from field: int64 server_time_ms = 7;
   */
  serverTimeMs: bigint;

  /**
   * The secrets epoch: when `bundle` is set, the secrets_epoch written inside it; otherwise the epoch of the
   * bundle the agent holds. When it differs from the epoch of the secret values the agent holds, the agent
   * drops those values and resolves them again at its next apply.
   *
   * @generated from field: uint64 secrets_epoch = 8;
   */
  secretsEpoch: bigint;

  /**
   * How the agent connects until its next check-in (see "Connection modes" in the file comment).
   * CONNECTION_MODE_UNSPECIFIED (a server that predates the field) means held.
   *
   * @generated from field: vigo.agent.v1.ConnectionMode connection = 9;
   */
  connection: ConnectionMode;

  /**
   * The server has work for this envoy: an agent that holds no AgentStream opens one now (in poll mode it
   * keeps its connection open for it). The server sets it on every reply until the envoy's stream has said
   * Hello.
   *
   * @generated from field: bool open_stream = 10;
   */
  openStream: boolean;

  /**
   * With open_stream in poll mode: the agent ends the stream (and closes its connection) once the server
   * has sent nothing on it for this many milliseconds. 0 means the agent's default, 60,000.
   *
   * @generated from field: uint32 stream_idle_release_ms = 11;
   */
  streamIdleReleaseMs: number;

  /**
   * Every server the agent may check in with, "host:port" each, the one answering first, then its standby
   * peers. Empty from a server without peers (keep the list held). The agent keeps the latest non-empty
   * list and, when its server cannot be reached or redirects (see "Standby servers" in the file comment),
   * moves to the next one.
   *
   * @generated from field: repeated string servers = 12;
   */
  servers: string[];
};

/**
 * Describes the message vigo.agent.v1.CheckInResponse.
 * Use `create(CheckInResponseSchema)` to create a new message.
 */
export const CheckInResponseSchema: GenMessage<CheckInResponse> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 3);

/**
 * NoChange marks a CheckInResponse that carries no bundle.
 *
 * @generated from message vigo.agent.v1.NoChange
 */
export type NoChange = Message<"vigo.agent.v1.NoChange"> & {
};

/**
 * Describes the message vigo.agent.v1.NoChange.
 * Use `create(NoChangeSchema)` to create a new message.
 */
export const NoChangeSchema: GenMessage<NoChange> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 4);

/**
 * SignedBundle is a policy bundle signed by the server. The agent verifies it before caching or applying
 * it, and again whenever it loads it from its cache.
 *
 * @generated from message vigo.agent.v1.SignedBundle
 */
export type SignedBundle = Message<"vigo.agent.v1.SignedBundle"> & {
  /**
   * The bundle document: UTF-8 JSON. Its format belongs to the policy compiler and is specified in
   * docs/bundle-format.md (including its policy version, secrets epoch and expiry).
   *
   * @generated from field: bytes payload = 1;
   */
  payload: Uint8Array;

  /**
   * Ed25519 signature (exactly 64 bytes, RFC 8032 pure) over ASCII "vigo/v1/Bundle" || 0x00 || payload,
   * made with the server's bundle-signing key. The agent receives the matching public key at enrollment.
   *
   * @generated from field: bytes signature = 2;
   */
  signature: Uint8Array;

  /**
   * Names the signing key: the first 16 lowercase hex characters of SHA-256 over the raw 32-byte Ed25519
   * public key. An agent that holds no public key with this id rejects the bundle and keeps its cached one.
   *
   * @generated from field: string key_id = 3;
   */
  keyId: string;
};

/**
 * Describes the message vigo.agent.v1.SignedBundle.
 * Use `create(SignedBundleSchema)` to create a new message.
 */
export const SignedBundleSchema: GenMessage<SignedBundle> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 5);

/**
 * ReportResultsRequest is the ReportResults request; its envelope's body is a ReportResultsPayload.
 *
 * @generated from message vigo.agent.v1.ReportResultsRequest
 */
export type ReportResultsRequest = Message<"vigo.agent.v1.ReportResultsRequest"> & {
  /**
   * Signed envelope, RpcName "ReportResults".
   *
   * @generated from field: vigo.agent.v1.SignedEnvelope envelope = 1;
   */
  envelope?: SignedEnvelope | undefined;
};

/**
 * Describes the message vigo.agent.v1.ReportResultsRequest.
 * Use `create(ReportResultsRequestSchema)` to create a new message.
 */
export const ReportResultsRequestSchema: GenMessage<ReportResultsRequest> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 6);

/**
 * ReportResultsPayload carries finished runs, oldest first.
 *
 * @generated from message vigo.agent.v1.ReportResultsPayload
 */
export type ReportResultsPayload = Message<"vigo.agent.v1.ReportResultsPayload"> & {
  /**
   * 1..100 runs; the whole body stays within the 4 MiB envelope limit (the agent sends more in later calls).
   *
   * @generated from field: repeated vigo.agent.v1.RunReport runs = 1;
   */
  runs: RunReport[];
};

/**
 * Describes the message vigo.agent.v1.ReportResultsPayload.
 * Use `create(ReportResultsPayloadSchema)` to create a new message.
 */
export const ReportResultsPayloadSchema: GenMessage<ReportResultsPayload> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 7);

/**
 * RunReport is the outcome of one run of the agent over its bundle.
 *
 * @generated from message vigo.agent.v1.RunReport
 */
export type RunReport = Message<"vigo.agent.v1.RunReport"> & {
  /**
   * Generated by the agent for each run: a UUID in its 36-character text form (8-4-4-4-12 hex digits). The
   * server stores a run_id once; delivering it again is acknowledged without a second copy.
   *
   * @generated from field: string run_id = 1;
   */
  runId: string;

  /**
   * The policy_version of the bundle this run applied.
   *
   * @generated from field: uint64 policy_version = 2;
   */
  policyVersion: bigint;

  /**
   * When the run started, Unix time in milliseconds on the agent's clock.
   *
   * @generated from field: int64 started_at_ms = 3;
   */
  startedAtMs: bigint;

  /**
   * When the run finished, Unix time in milliseconds on the agent's clock; not before started_at_ms.
   *
   * @generated from field: int64 finished_at_ms = 4;
   */
  finishedAtMs: bigint;

  /**
   * The run changed nothing (observe mode or local dry-run): CREATED, UPDATED and DELETED outcomes mean
   * "would have".
   *
   * @generated from field: bool dry_run = 5;
   */
  dryRun: boolean;

  /**
   * W3C traceparent of the run, or "": at most 128 bytes.
   *
   * @generated from field: string traceparent = 6;
   */
  traceparent: string;

  /**
   * One entry per resource the run considered, in apply order: at most 10,000.
   *
   * @generated from field: repeated vigo.agent.v1.ResourceResult results = 7;
   */
  results: ResourceResult[];
};

/**
 * Describes the message vigo.agent.v1.RunReport.
 * Use `create(RunReportSchema)` to create a new message.
 */
export const RunReportSchema: GenMessage<RunReport> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 8);

/**
 * ResourceResult is the outcome of one resource in a run.
 *
 * @generated from message vigo.agent.v1.ResourceResult
 */
export type ResourceResult = Message<"vigo.agent.v1.ResourceResult"> & {
  /**
   * The resource's id as it appears in the bundle: 1..512 bytes.
   *
   * @generated from field: string resource_id = 1;
   */
  resourceId: string;

  /**
   * The resource's type, e.g. "file", "package", "service": 1..64 bytes.
   *
   * @generated from field: string resource_type = 2;
   */
  resourceType: string;

  /**
   * The configcrate the resource comes from: at most 256 bytes.
   *
   * @generated from field: string configcrate = 3;
   */
  configcrate: string;

  /**
   * What happened to the resource; never RESOURCE_OUTCOME_UNSPECIFIED.
   *
   * @generated from field: vigo.agent.v1.ResourceOutcome outcome = 4;
   */
  outcome: ResourceOutcome;

  /**
   * A short explanation for a person (the error for FAILED, the reason for BLOCKED or SKIPPED, what changed
   * otherwise): at most 4 KiB. Never contains secret values.
   *
   * @generated from field: string message = 5;
   */
  message: string;

  /**
   * Time spent on this resource, in milliseconds.
   *
   * @generated from field: uint32 duration_ms = 6;
   */
  durationMs: number;
};

/**
 * Describes the message vigo.agent.v1.ResourceResult.
 * Use `create(ResourceResultSchema)` to create a new message.
 */
export const ResourceResultSchema: GenMessage<ResourceResult> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 9);

/**
 * ReportResultsResponse acknowledges runs.
 *
 * @generated from message vigo.agent.v1.ReportResultsResponse
 */
export type ReportResultsResponse = Message<"vigo.agent.v1.ReportResultsResponse"> & {
  /**
   * Runs now durably stored (or stored by an earlier delivery): the agent removes them from its queue.
   *
   * @generated from field: repeated string accepted_run_ids = 1;
   */
  acceptedRunIds: string[];

  /**
   * Runs the server will never accept because they break this schema (for example an unspecified outcome):
   * the agent logs them and removes them from its queue, so one bad run cannot block the queue forever.
   *
   * @generated from field: repeated string rejected_run_ids = 2;
   */
  rejectedRunIds: string[];

  /**
   * When some runs of the request are in neither list, the server accepted only part of the batch: the
   * agent keeps the rest and resends them after this many milliseconds. 0 when every run is in a list.
   *
   * @generated from field: uint32 retry_after_ms = 3;
   */
  retryAfterMs: number;
};

/**
 * Describes the message vigo.agent.v1.ReportResultsResponse.
 * Use `create(ReportResultsResponseSchema)` to create a new message.
 */
export const ReportResultsResponseSchema: GenMessage<ReportResultsResponse> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 10);

/**
 * ResolveSecretsRequest is the ResolveSecrets request; its envelope's body is a ResolveSecretsPayload.
 *
 * @generated from message vigo.agent.v1.ResolveSecretsRequest
 */
export type ResolveSecretsRequest = Message<"vigo.agent.v1.ResolveSecretsRequest"> & {
  /**
   * Signed envelope, RpcName "ResolveSecrets".
   *
   * @generated from field: vigo.agent.v1.SignedEnvelope envelope = 1;
   */
  envelope?: SignedEnvelope | undefined;
};

/**
 * Describes the message vigo.agent.v1.ResolveSecretsRequest.
 * Use `create(ResolveSecretsRequestSchema)` to create a new message.
 */
export const ResolveSecretsRequestSchema: GenMessage<ResolveSecretsRequest> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 11);

/**
 * ResolveSecretsPayload names the secrets the agent needs.
 *
 * @generated from message vigo.agent.v1.ResolveSecretsPayload
 */
export type ResolveSecretsPayload = Message<"vigo.agent.v1.ResolveSecretsPayload"> & {
  /**
   * Secret references as they appear in the agent's bundle (the path of `secret:<path>`, e.g.
   * "vigo/db/dsn"): 1..256 distinct references, each 1..512 bytes.
   *
   * @generated from field: repeated string refs = 1;
   */
  refs: string[];

  /**
   * W3C traceparent of the apply that needs the secrets, or "": at most 128 bytes.
   *
   * @generated from field: string traceparent = 2;
   */
  traceparent: string;
};

/**
 * Describes the message vigo.agent.v1.ResolveSecretsPayload.
 * Use `create(ResolveSecretsPayloadSchema)` to create a new message.
 */
export const ResolveSecretsPayloadSchema: GenMessage<ResolveSecretsPayload> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 12);

/**
 * ResolveSecretsResponse carries secret values. It is sensitive: the agent keeps it in memory only.
 *
 * @generated from message vigo.agent.v1.ResolveSecretsResponse
 */
export type ResolveSecretsResponse = Message<"vigo.agent.v1.ResolveSecretsResponse"> & {
  /**
   * Every requested reference mapped to its value (the raw bytes of the secret; the agent substitutes them
   * as UTF-8 text).
   *
   * @generated from field: map<string, bytes> values = 1;
   */
  values: { [key: string]: Uint8Array };

  /**
   * The secrets epoch these values belong to.
   *
   * @generated from field: uint64 secrets_epoch = 2;
   */
  secretsEpoch: bigint;
};

/**
 * Describes the message vigo.agent.v1.ResolveSecretsResponse.
 * Use `create(ResolveSecretsResponseSchema)` to create a new message.
 */
export const ResolveSecretsResponseSchema: GenMessage<ResolveSecretsResponse> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 13);

/**
 * AgentStreamRequest is one agent-to-server message on AgentStream; its envelope's body is an
 * AgentStreamPayload.
 *
 * @generated from message vigo.agent.v1.AgentStreamRequest
 */
export type AgentStreamRequest = Message<"vigo.agent.v1.AgentStreamRequest"> & {
  /**
   * Signed envelope, RpcName "AgentStream". Every message on the stream is signed on its own.
   *
   * @generated from field: vigo.agent.v1.SignedEnvelope envelope = 1;
   */
  envelope?: SignedEnvelope | undefined;
};

/**
 * Describes the message vigo.agent.v1.AgentStreamRequest.
 * Use `create(AgentStreamRequestSchema)` to create a new message.
 */
export const AgentStreamRequestSchema: GenMessage<AgentStreamRequest> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 14);

/**
 * AgentStreamPayload is what the agent sends on AgentStream.
 *
 * @generated from message vigo.agent.v1.AgentStreamPayload
 */
export type AgentStreamPayload = Message<"vigo.agent.v1.AgentStreamPayload"> & {
  /**
   * Exactly one is set.
   *
   * @generated from oneof vigo.agent.v1.AgentStreamPayload.kind
   */
  kind: {
    /**
     * Liveness; also the answer to Ping.
     *
     * @generated from field: vigo.agent.v1.Heartbeat heartbeat = 1;
     */
    value: Heartbeat;
    case: "heartbeat";
  } | {
    /**
     * The outcome of a TaskDispatch.
     *
     * @generated from field: vigo.agent.v1.TaskResult task_result = 2;
     */
    value: TaskResult;
    case: "taskResult";
  } | {
    /**
     * The answer to a LiveQuery.
     *
     * @generated from field: vigo.agent.v1.QueryResult query_result = 3;
     */
    value: QueryResult;
    case: "queryResult";
  } | {
    /**
     * The first message of every stream, and only the first.
     *
     * @generated from field: vigo.agent.v1.Hello hello = 4;
     */
    value: Hello;
    case: "hello";
  } | { case: undefined; value?: undefined };
};

/**
 * Describes the message vigo.agent.v1.AgentStreamPayload.
 * Use `create(AgentStreamPayloadSchema)` to create a new message.
 */
export const AgentStreamPayloadSchema: GenMessage<AgentStreamPayload> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 15);

/**
 * Hello opens a stream.
 *
 * @generated from message vigo.agent.v1.Hello
 */
export type Hello = Message<"vigo.agent.v1.Hello"> & {
  /**
   * The agent's version string: at most 64 bytes.
   *
   * @generated from field: string agent_version = 1;
   */
  agentVersion: string;

  /**
   * The policy_version of the bundle the agent holds, 0 for none.
   *
   * @generated from field: uint64 policy_version = 2;
   */
  policyVersion: bigint;
};

/**
 * Describes the message vigo.agent.v1.Hello.
 * Use `create(HelloSchema)` to create a new message.
 */
export const HelloSchema: GenMessage<Hello> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 16);

/**
 * Heartbeat tells the server the stream is alive. The agent sends one at least every 30 seconds, and at
 * once in answer to a Ping.
 *
 * @generated from message vigo.agent.v1.Heartbeat
 */
export type Heartbeat = Message<"vigo.agent.v1.Heartbeat"> & {
  /**
   * The ping_id of the Ping this answers, 0 for a periodic heartbeat.
   *
   * @generated from field: uint64 ping_id = 1;
   */
  pingId: bigint;
};

/**
 * Describes the message vigo.agent.v1.Heartbeat.
 * Use `create(HeartbeatSchema)` to create a new message.
 */
export const HeartbeatSchema: GenMessage<Heartbeat> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 17);

/**
 * TaskResult reports a task the server dispatched.
 *
 * @generated from message vigo.agent.v1.TaskResult
 */
export type TaskResult = Message<"vigo.agent.v1.TaskResult"> & {
  /**
   * The task_id of the TaskDispatch.
   *
   * @generated from field: string task_id = 1;
   */
  taskId: string;

  /**
   * How the task ended; never TASK_STATUS_UNSPECIFIED.
   *
   * @generated from field: vigo.agent.v1.TaskStatus status = 2;
   */
  status: TaskStatus;

  /**
   * Exit code of a command task, -1 when it was killed by a signal or did not run; 0 for named tasks.
   *
   * @generated from field: int32 exit_code = 3;
   */
  exitCode: number;

  /**
   * Standard output of a command task: its last 64 KiB at most (earlier bytes dropped, see truncated).
   *
   * @generated from field: bytes stdout = 4;
   */
  stdout: Uint8Array;

  /**
   * Standard error of a command task: its last 64 KiB at most (earlier bytes dropped, see truncated).
   *
   * @generated from field: bytes stderr = 5;
   */
  stderr: Uint8Array;

  /**
   * Output was longer than 64 KiB and was cut.
   *
   * @generated from field: bool truncated = 6;
   */
  truncated: boolean;

  /**
   * When the task started, Unix time in milliseconds on the agent's clock (0 if it never started).
   *
   * @generated from field: int64 started_at_ms = 7;
   */
  startedAtMs: bigint;

  /**
   * When the task ended, Unix time in milliseconds on the agent's clock.
   *
   * @generated from field: int64 finished_at_ms = 8;
   */
  finishedAtMs: bigint;

  /**
   * Why the task failed or was rejected, for a person: at most 4 KiB; "" on success.
   *
   * @generated from field: string message = 9;
   */
  message: string;

  /**
   * Per-resource outcomes of a named task (empty for command tasks): at most 10,000.
   *
   * @generated from field: repeated vigo.agent.v1.ResourceResult results = 10;
   */
  results: ResourceResult[];

  /**
   * The traceparent of the TaskDispatch, echoed.
   *
   * @generated from field: string traceparent = 11;
   */
  traceparent: string;
};

/**
 * Describes the message vigo.agent.v1.TaskResult.
 * Use `create(TaskResultSchema)` to create a new message.
 */
export const TaskResultSchema: GenMessage<TaskResult> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 18);

/**
 * QueryResult answers a LiveQuery.
 *
 * @generated from message vigo.agent.v1.QueryResult
 */
export type QueryResult = Message<"vigo.agent.v1.QueryResult"> & {
  /**
   * The query_id of the LiveQuery.
   *
   * @generated from field: string query_id = 1;
   */
  queryId: string;

  /**
   * The trait's current value as UTF-8 JSON, freshly collected (not from the traits cache): at most 1 MiB.
   * Empty when error is set.
   *
   * @generated from field: bytes value_json = 2;
   */
  valueJson: Uint8Array;

  /**
   * Why the value could not be read (unknown trait path, collector failed or timed out), for a person;
   * "" on success. At most 4 KiB.
   *
   * @generated from field: string error = 3;
   */
  error: string;
};

/**
 * Describes the message vigo.agent.v1.QueryResult.
 * Use `create(QueryResultSchema)` to create a new message.
 */
export const QueryResultSchema: GenMessage<QueryResult> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 19);

/**
 * AgentStreamResponse is one server-to-agent message on AgentStream. These messages are not signed (mutual
 * TLS protects them).
 *
 * @generated from message vigo.agent.v1.AgentStreamResponse
 */
export type AgentStreamResponse = Message<"vigo.agent.v1.AgentStreamResponse"> & {
  /**
   * Exactly one is set.
   *
   * @generated from oneof vigo.agent.v1.AgentStreamResponse.kind
   */
  kind: {
    /**
     * Run a task now.
     *
     * @generated from field: vigo.agent.v1.TaskDispatch task_dispatch = 1;
     */
    value: TaskDispatch;
    case: "taskDispatch";
  } | {
    /**
     * Check in now.
     *
     * @generated from field: vigo.agent.v1.ForcePush force_push = 2;
     */
    value: ForcePush;
    case: "forcePush";
  } | {
    /**
     * Read one trait now.
     *
     * @generated from field: vigo.agent.v1.LiveQuery live_query = 3;
     */
    value: LiveQuery;
    case: "liveQuery";
  } | {
    /**
     * Answer with a Heartbeat now.
     *
     * @generated from field: vigo.agent.v1.Ping ping = 4;
     */
    value: Ping;
    case: "ping";
  } | { case: undefined; value?: undefined };
};

/**
 * Describes the message vigo.agent.v1.AgentStreamResponse.
 * Use `create(AgentStreamResponseSchema)` to create a new message.
 */
export const AgentStreamResponseSchema: GenMessage<AgentStreamResponse> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 20);

/**
 * TaskDispatch asks the agent to run an ad-hoc task and answer with a TaskResult carrying the same task_id.
 *
 * @generated from message vigo.agent.v1.TaskDispatch
 */
export type TaskDispatch = Message<"vigo.agent.v1.TaskDispatch"> & {
  /**
   * Server-generated id of this dispatch (UUID text). At-least-once delivery: a task_id the agent has
   * already run is answered with its stored result, not run again.
   *
   * @generated from field: string task_id = 1;
   */
  taskId: string;

  /**
   * What to run; exactly one is set.
   *
   * @generated from oneof vigo.agent.v1.TaskDispatch.action
   */
  action: {
    /**
     * A command line, run with /bin/sh -c (cmd.exe /C on Windows): at most 64 KiB.
     *
     * @generated from field: string command = 2;
     */
    value: string;
    case: "command";
  } | {
    /**
     * The name of a task the agent knows (a built-in task or one defined in its bundle): at most 256 bytes.
     *
     * @generated from field: string task_name = 3;
     */
    value: string;
    case: "taskName";
  } | { case: undefined; value?: undefined };

  /**
   * Parameters of a named task (ignored for command): at most 256 entries, keys at most 256 bytes, values
   * at most 64 KiB.
   *
   * @generated from field: map<string, string> params = 4;
   */
  params: { [key: string]: string };

  /**
   * The agent kills the task after this many seconds and reports TASK_STATUS_TIMED_OUT; 0 = the agent's
   * default (300 seconds).
   *
   * @generated from field: uint32 timeout_seconds = 5;
   */
  timeoutSeconds: number;

  /**
   * Scheduling niceness for the task's process, -20..19; 0 leaves it unchanged.
   *
   * @generated from field: int32 nice = 6;
   */
  nice: number;

  /**
   * Report what the task would do without changing anything (named tasks; a command task is not run and
   * is reported as TASK_STATUS_REJECTED).
   *
   * @generated from field: bool dry_run = 7;
   */
  dryRun: boolean;

  /**
   * W3C traceparent of the dispatch, or "": at most 128 bytes. Echoed in the TaskResult.
   *
   * @generated from field: string traceparent = 8;
   */
  traceparent: string;

  /**
   * The operator forced the task past the server's guardrail. The agent's own scan of dangerous commands
   * still refuses it unless the agent's config allows forced tasks (tasks.allow_forced).
   *
   * @generated from field: bool force = 9;
   */
  force: boolean;
};

/**
 * Describes the message vigo.agent.v1.TaskDispatch.
 * Use `create(TaskDispatchSchema)` to create a new message.
 */
export const TaskDispatchSchema: GenMessage<TaskDispatch> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 21);

/**
 * ForcePush asks the agent to check in at once. The server also marks the envoy so that this next CheckIn
 * skips the no-change shortcut.
 *
 * @generated from message vigo.agent.v1.ForcePush
 */
export type ForcePush = Message<"vigo.agent.v1.ForcePush"> & {
  /**
   * Why, for the agent's log: at most 1 KiB.
   *
   * @generated from field: string reason = 1;
   */
  reason: string;

  /**
   * W3C traceparent of the push, or "": at most 128 bytes. The agent uses it for the CheckIn it triggers.
   *
   * @generated from field: string traceparent = 2;
   */
  traceparent: string;
};

/**
 * Describes the message vigo.agent.v1.ForcePush.
 * Use `create(ForcePushSchema)` to create a new message.
 */
export const ForcePushSchema: GenMessage<ForcePush> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 22);

/**
 * LiveQuery asks the agent for the current value of one trait, or the answer of one named query of the
 * stacks; it answers with a QueryResult carrying the same query_id, within 30 seconds.
 *
 * @generated from message vigo.agent.v1.LiveQuery
 */
export type LiveQuery = Message<"vigo.agent.v1.LiveQuery"> & {
  /**
   * Server-generated id of this query (UUID text).
   *
   * @generated from field: string query_id = 1;
   */
  queryId: string;

  /**
   * Dotted trait path, e.g. "host_self.fs_root_pct": 1..256 bytes; "" when query_name is set.
   *
   * @generated from field: string trait_path = 2;
   */
  traitPath: string;

  /**
   * W3C traceparent of the query, or "": at most 128 bytes.
   *
   * @generated from field: string traceparent = 3;
   */
  traceparent: string;

  /**
   * The name of a named query (queries.vgo) in the agent's bundle: 1..64 bytes, or "" for a trait query.
   * The agent runs the definition in its own signed bundle (a trait or a read-only probe); the server
   * sends only the name, so a query can ask nothing the published stacks do not define.
   *
   * @generated from field: string query_name = 4;
   */
  queryName: string;
};

/**
 * Describes the message vigo.agent.v1.LiveQuery.
 * Use `create(LiveQuerySchema)` to create a new message.
 */
export const LiveQuerySchema: GenMessage<LiveQuery> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 23);

/**
 * Ping asks the agent to send a Heartbeat with the same ping_id at once; the server uses it to measure
 * the stream's round trip and to detect a dead connection.
 *
 * @generated from message vigo.agent.v1.Ping
 */
export type Ping = Message<"vigo.agent.v1.Ping"> & {
  /**
   * Server-chosen id, never 0.
   *
   * @generated from field: uint64 ping_id = 1;
   */
  pingId: bigint;
};

/**
 * Describes the message vigo.agent.v1.Ping.
 * Use `create(PingSchema)` to create a new message.
 */
export const PingSchema: GenMessage<Ping> = /*@__PURE__*/
  messageDesc(file_vigo_agent_v1_agent, 24);

/**
 * ConnectionMode is how an agent connects between check-ins.
 *
 * @generated from enum vigo.agent.v1.ConnectionMode
 */
export enum ConnectionMode {
  /**
   * Not set: treated as CONNECTION_MODE_HELD.
   *
   * @generated from enum value: CONNECTION_MODE_UNSPECIFIED = 0;
   */
  UNSPECIFIED = 0,

  /**
   * Keep the connection and an AgentStream open.
   *
   * @generated from enum value: CONNECTION_MODE_HELD = 1;
   */
  HELD = 1,

  /**
   * Connect for each check-in, then close; open AgentStream only when told to (open_stream).
   *
   * @generated from enum value: CONNECTION_MODE_POLL = 2;
   */
  POLL = 2,
}

/**
 * Describes the enum vigo.agent.v1.ConnectionMode.
 */
export const ConnectionModeSchema: GenEnum<ConnectionMode> = /*@__PURE__*/
  enumDesc(file_vigo_agent_v1_agent, 0);

/**
 * ResourceOutcome says what a run did to one resource.
 *
 * @generated from enum vigo.agent.v1.ResourceOutcome
 */
export enum ResourceOutcome {
  /**
   * Not set; the server refuses a result with this outcome (checkin.payload_invalid).
   *
   * @generated from enum value: RESOURCE_OUTCOME_UNSPECIFIED = 0;
   */
  UNSPECIFIED = 0,

  /**
   * Already in the desired state; nothing was changed.
   *
   * @generated from enum value: RESOURCE_OUTCOME_NONE = 1;
   */
  NONE = 1,

  /**
   * The resource did not exist and was created.
   *
   * @generated from enum value: RESOURCE_OUTCOME_CREATED = 2;
   */
  CREATED = 2,

  /**
   * The resource existed and was changed.
   *
   * @generated from enum value: RESOURCE_OUTCOME_UPDATED = 3;
   */
  UPDATED = 3,

  /**
   * The resource was removed.
   *
   * @generated from enum value: RESOURCE_OUTCOME_DELETED = 4;
   */
  DELETED = 4,

  /**
   * Not applied because its `when:` condition is false on this host.
   *
   * @generated from enum value: RESOURCE_OUTCOME_SKIPPED = 5;
   */
  SKIPPED = 5,

  /**
   * Not attempted because a resource it depends on failed or was blocked, or an agent guardrail refused it.
   *
   * @generated from enum value: RESOURCE_OUTCOME_BLOCKED = 6;
   */
  BLOCKED = 6,

  /**
   * Attempted and failed; message says why.
   *
   * @generated from enum value: RESOURCE_OUTCOME_FAILED = 7;
   */
  FAILED = 7,
}

/**
 * Describes the enum vigo.agent.v1.ResourceOutcome.
 */
export const ResourceOutcomeSchema: GenEnum<ResourceOutcome> = /*@__PURE__*/
  enumDesc(file_vigo_agent_v1_agent, 1);

/**
 * TaskStatus says how a dispatched task ended.
 *
 * @generated from enum vigo.agent.v1.TaskStatus
 */
export enum TaskStatus {
  /**
   * Not set; the server refuses a result with this status (checkin.payload_invalid).
   *
   * @generated from enum value: TASK_STATUS_UNSPECIFIED = 0;
   */
  UNSPECIFIED = 0,

  /**
   * Ran to completion: exit code 0, or every resource of a named task succeeded.
   *
   * @generated from enum value: TASK_STATUS_SUCCEEDED = 1;
   */
  SUCCEEDED = 1,

  /**
   * Ran and failed: non-zero exit code, or a resource of a named task failed.
   *
   * @generated from enum value: TASK_STATUS_FAILED = 2;
   */
  FAILED = 2,

  /**
   * Killed after timeout_seconds.
   *
   * @generated from enum value: TASK_STATUS_TIMED_OUT = 3;
   */
  TIMED_OUT = 3,

  /**
   * Not run: an agent guardrail refused it, or the task_name is unknown to the agent; message says why.
   *
   * @generated from enum value: TASK_STATUS_REJECTED = 4;
   */
  REJECTED = 4,
}

/**
 * Describes the enum vigo.agent.v1.TaskStatus.
 */
export const TaskStatusSchema: GenEnum<TaskStatus> = /*@__PURE__*/
  enumDesc(file_vigo_agent_v1_agent, 2);

/**
 * VigoAgent is the only service an agent talks to. Every request is a signed envelope (see the file
 * comment); each RPC below says who calls it, when, and what the server guarantees.
 *
 * @generated from service vigo.agent.v1.VigoAgent
 */
export const VigoAgent: GenService<{
  /**
   * CheckIn is the agent's periodic poll for its desired state.
   *
   * Caller: the agent, at start, then every CheckInResponse.interval_ms; at once after a ForcePush; and
   * promptly again (without waiting for the interval) when the previous response set send_traits.
   *
   * Server: verifies the envelope, checks the whole payload, marks the envoy seen (in memory, persisted in
   * batches), stores the traits when traits_json is sent, and answers with either no_change or the envoy's
   * signed bundle. no_change is sent only when the agent holds a bundle (policy_version is not 0), no
   * force-push is pending for the envoy, the agent's secrets_epoch equals the secrets epoch of the envoy's
   * current bundle, and either the agent's policy_version equals the server's current policy version or
   * its state_fingerprint equals the Merkle root of the envoy's current bundle (for an entry that renders
   * templates with traits, only the Merkle root counts: it covers the traits). Otherwise the reply carries
   * the bundle.
   *
   * Traits: when the envoy's entry renders templates with traits and the server does not hold the agent's
   * traits (traits_hash is empty or unknown to it), no bundle can be built: the reply sets send_traits and
   * no_change, with the agent's own policy_version, and the agent comes straight back with traits_json.
   * When traits_hash is unknown but the entry renders no traits, the reply carries the bundle (or
   * no_change) and sets send_traits all the same.
   *
   * Guarantees: no_change means the bundle the agent holds is still its desired state; a bundle is always
   * signed with the server's bundle-signing key, and never built without traits its entry needs. Besides
   * last-seen and traits bookkeeping the call changes nothing, so it is always safe to retry.
   *
   * Errors: the envelope codes of the file comment. checkin.payload_invalid also covers any field beyond its
   * documented limit, traits_json whose SHA-256 does not equal traits_hash, and traits_json that is not a
   * JSON object; nothing of a refused payload is stored. FAILED_PRECONDITION checkin.bundle_unavailable: the
   * envoy's bundle cannot be built from the published stacks with its traits (a template fails or goes over
   * its render budget); the agent keeps enforcing its cached bundle and checks in again at its interval.
   *
   * @generated from rpc vigo.agent.v1.VigoAgent.CheckIn
   */
  checkIn: {
    methodKind: "unary";
    input: typeof CheckInRequestSchema;
    output: typeof CheckInResponseSchema;
  },
  /**
   * ReportResults delivers the outcome of finished runs (one run = one pass of the agent over its bundle).
   *
   * Caller: the agent, after each run and whenever its local queue of unacknowledged runs is not empty
   * (oldest first). The agent keeps every run in a persistent local queue until the server acknowledges it,
   * so results survive agent restarts and server outages.
   *
   * Server: judges each run on its own. A run that breaks the schema below (a field beyond its limit, an
   * unspecified outcome, a run_id that is not a UUID, finished_at_ms before started_at_ms, more than 10,000
   * results) is listed in rejected_run_ids and never stored; the other runs of the same call are stored and
   * acknowledged, each only after it is durable (group commit).
   *
   * Guarantees: a run_id in accepted_run_ids is stored and will never be lost; delivering the same run_id
   * again is harmless (acknowledged again, stored once). So when a response is lost the agent simply
   * resends. When the server's result queue is full it accepts nothing and answers RESOURCE_EXHAUSTED with
   * code results.queue_full and the trailing metadata key "vigo-retry-after-ms" (decimal milliseconds); the
   * agent keeps the runs and resends after that delay.
   *
   * Errors: the envelope codes of the file comment (INVALID_ARGUMENT checkin.payload_invalid when the call
   * holds no run or more than 100: nothing of it is stored); RESOURCE_EXHAUSTED results.queue_full.
   *
   * @generated from rpc vigo.agent.v1.VigoAgent.ReportResults
   */
  reportResults: {
    methodKind: "unary";
    input: typeof ReportResultsRequestSchema;
    output: typeof ReportResultsResponseSchema;
  },
  /**
   * ResolveSecrets returns the values behind the secret references in the agent's bundle.
   *
   * Caller: the agent, at apply time, with every reference its bundle needs in one call (batched). It keeps
   * the values in memory only (never on disk, in logs or in run results) for the life of its process, and
   * drops them when secrets_epoch changes.
   *
   * Server: answers all or nothing. An envoy may resolve only references that appear in its own current
   * bundle; any other reference fails the whole call and is recorded in the audit log.
   *
   * Guarantees: no side effect besides the audit record of a refused reference; safe to retry.
   *
   * Errors: the envelope codes of the file comment (INVALID_ARGUMENT checkin.payload_invalid for no
   * reference, more than 256, a repeated one, or one outside 1..512 bytes; such a call is not judged for
   * entitlement and leaves no audit record); PERMISSION_DENIED secrets.not_entitled (a reference is
   * not in the envoy's current bundle: the agent checks in, then retries once with its new bundle);
   * NOT_FOUND secrets.not_found; UNAVAILABLE secrets.unavailable (the secrets provider cannot be reached).
   *
   * @generated from rpc vigo.agent.v1.VigoAgent.ResolveSecrets
   */
  resolveSecrets: {
    methodKind: "unary";
    input: typeof ResolveSecretsRequestSchema;
    output: typeof ResolveSecretsResponseSchema;
  },
  /**
   * AgentStream is the agent's long-lived channel for work the server pushes.
   *
   * Caller: in held mode (CheckInResponse.connection), the agent, after its first successful CheckIn, and
   * again with exponential backoff whenever the stream ends; in poll mode, only after a CheckInResponse
   * with open_stream, until the stream has been idle for stream_idle_release_ms. Each message the agent sends is an AgentStreamRequest with its own envelope (RpcName
   * "AgentStream"); the first one carries Hello, then Heartbeat at least every 30 seconds and TaskResult or
   * QueryResult as work finishes.
   *
   * Server: sends TaskDispatch, ForcePush, LiveQuery and Ping. It verifies every agent message as described
   * in the file comment; a message that fails ends the stream with that status.
   *
   * Guarantees: at most one stream per envoy; a newer stream replaces an older one, which the server ends
   * with ABORTED stream.replaced. A stream on which the agent sent nothing for 90 seconds is ended with
   * DEADLINE_EXCEEDED stream.idle; a stream still open when the server shuts down is ended with UNAVAILABLE
   * server.draining. A stream whose first message is not a Hello, or whose Hello has not arrived within 10
   * seconds of opening it, is ended with INVALID_ARGUMENT stream.hello_required; a second Hello ends it with
   * INVALID_ARGUMENT checkin.payload_invalid. Until its Hello is verified a stream proves nothing about the
   * envoy, so one client certificate may hold at most 4 streams waiting for their Hello: a further one is
   * ended at once with RESOURCE_EXHAUSTED stream.pending_limit (the agent retries with backoff). Pushed
   * work is at-least-once: the server dispatches unfinished tasks again when the envoy's stream reopens,
   * and the agent answers a task_id it has already run with its stored result.
   *
   * @generated from rpc vigo.agent.v1.VigoAgent.AgentStream
   */
  agentStream: {
    methodKind: "bidi_streaming";
    input: typeof AgentStreamRequestSchema;
    output: typeof AgentStreamResponseSchema;
  },
}> = /*@__PURE__*/
  serviceDesc(file_vigo_agent_v1_agent, 0);

