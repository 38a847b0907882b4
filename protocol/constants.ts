/**
 * Fixed facts of the agent wire protocol, mirrored from proto/vigo/agent/v1/agent.proto (the specification).
 * Server and agent both read them from here so that a limit never differs between the two sides.
 */
// The status codes alone (grpc-js's constants module): vigocli and the agent's quick commands read these
// limits without loading the whole gRPC stack.
import { Status as status } from '@grpc/grpc-js/build/src/constants.js';

/** The RPCs whose requests carry a signed envelope; each name is part of the signed domain prefix. */
export const agentRpcs = ['CheckIn', 'ReportResults', 'ResolveSecrets', 'AgentStream'] as const;
export type AgentRpc = (typeof agentRpcs)[number];

/** Signed bytes start with `${envelopeDomainPrefix}${rpc}\0`. */
export const envelopeDomainPrefix = 'vigo/v1/';
/** Bundle signatures cover `bundleSignatureDomain || payload`. */
export const bundleSignatureDomain = 'vigo/v1/Bundle\0';

export const protocolLimits = {
  envoyIdMaxBytes: 64,
  /** Envelope body (the serialized payload message). */
  bodyMaxBytes: 4 * 1024 * 1024,
  /** Whole gRPC message in either direction: the body plus room for the envelope or response framing. */
  messageMaxBytes: 4 * 1024 * 1024 + 64 * 1024,
  signatureBytes: 64,
  publicKeyBytes: 32,
  agentVersionMaxBytes: 64,
  hostnameMaxBytes: 253,
  traitsJsonMaxBytes: 1024 * 1024,
  /** Objects and arrays nested in a traits document, the top-level object counting as 1. */
  traitsJsonMaxDepth: 64,
  traceparentMaxBytes: 128,
  runsPerReportMax: 100,
  resultsPerRunMax: 10_000,
  resourceIdMaxBytes: 512,
  resourceTypeMaxBytes: 64,
  configcrateMaxBytes: 256,
  messageTextMaxBytes: 4096,
  secretRefsPerCallMax: 256,
  secretRefMaxBytes: 512,
  taskOutputMaxBytes: 64 * 1024,
  traitPathMaxBytes: 256,
  queryValueMaxBytes: 1024 * 1024,
  /** AgentStreams one client certificate may hold open before each has sent a verified Hello. */
  streamsAwaitingHelloPerPeer: 4,
} as const;

export const streamTimings = {
  /** The agent sends a Heartbeat at least this often. */
  heartbeatIntervalMs: 30_000,
  /** The server ends a stream on which the agent sent nothing for this long. */
  idleTimeoutMs: 90_000,
  /** The server ends a stream whose first message, a Hello, has not arrived within this time. */
  helloTimeoutMs: 10_000,
  /** The agent answers a LiveQuery within this time. */
  liveQueryTimeoutMs: 30_000,
} as const;

/** Trailing-metadata keys the server sets on an error status. */
export const errorMetadataKeys = {
  /** The stable error code alone (the status message also starts with it). */
  code: 'vigo-error-code',
  /** On RESOURCE_EXHAUSTED results.queue_full: decimal milliseconds to wait before resending. */
  retryAfterMs: 'vigo-retry-after-ms',
} as const;

/**
 * Why the server refuses an envelope, in the order it checks, with the gRPC status each maps to
 * (the order and meaning are specified in agent.proto).
 */
export const envelopeRejections = {
  'checkin.envelope_invalid': status.INVALID_ARGUMENT,
  'checkin.identity_mismatch': status.UNAUTHENTICATED,
  'checkin.unknown_envoy': status.UNAUTHENTICATED,
  'checkin.revoked': status.PERMISSION_DENIED,
  'checkin.bad_signature': status.UNAUTHENTICATED,
  'checkin.clock_skew': status.FAILED_PRECONDITION,
  'checkin.replayed': status.FAILED_PRECONDITION,
  'checkin.payload_invalid': status.INVALID_ARGUMENT,
} as const satisfies Record<string, status>;
export type EnvelopeRejectionCode = keyof typeof envelopeRejections;

/** Error codes specific to one RPC, with their gRPC status (see each RPC's comment in agent.proto). */
export const rpcErrorCodes = {
  'results.queue_full': status.RESOURCE_EXHAUSTED,
  'secrets.not_entitled': status.PERMISSION_DENIED,
  'secrets.not_found': status.NOT_FOUND,
  'secrets.unavailable': status.UNAVAILABLE,
  'stream.replaced': status.ABORTED,
  'stream.idle': status.DEADLINE_EXCEEDED,
  'stream.hello_required': status.INVALID_ARGUMENT,
  'stream.pending_limit': status.RESOURCE_EXHAUSTED,
  'server.draining': status.UNAVAILABLE,
  'server.unavailable': status.UNAVAILABLE,
  'checkin.bundle_unavailable': status.FAILED_PRECONDITION,
} as const satisfies Record<string, status>;
export type RpcErrorCode = keyof typeof rpcErrorCodes;
