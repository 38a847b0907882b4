/**
 * The agent wire protocol shared by vigosrv and the vigo agent: the generated messages and service of
 * proto/vigo/agent/v1/agent.proto (the specification), envelope and bundle signing, and the protocol's
 * fixed names and limits. Other modules import the protocol only from here.
 */
export * from '../gen/vigo/agent/v1/agent_pb.ts';
export {
  agentRpcs,
  bundleSignatureDomain,
  envelopeDomainPrefix,
  envelopeRejections,
  errorMetadataKeys,
  protocolLimits,
  rpcErrorCodes,
  streamTimings,
} from './constants.ts';
export type { AgentRpc, EnvelopeRejectionCode, RpcErrorCode } from './constants.ts';
export {
  createEnvelopeClock,
  decodePayload,
  envelopeProblem,
  signEnvelope,
  signRequest,
  signedBytes,
  verifyEnvelopeSignature,
} from './envelope.ts';
export type { PayloadInit, PayloadOf, RequestOf } from './envelope.ts';
export { signBundle, verifyBundle } from './bundle.ts';
export {
  bundleKeyId,
  ed25519KeyProblem,
  publicKeyFromRaw,
  rawFromPublicKey,
  weakEd25519KeyProblem,
} from './keys.ts';
export {
  addService,
  createServiceClient,
  decodeRequest,
  grpcMessageSizeOptions,
  toGrpcService,
  undecodableReason,
} from './grpc-adapter.ts';
export type {
  ClientCallOptions,
  ClientMethod,
  MethodHandler,
  ServiceAdapterOptions,
  ServiceClient,
  ServiceClientOptions,
  ServiceImplementation,
} from './grpc-adapter.ts';
export { errorCodeOf, errorStatusMessage, errorStatusMetadata, retryAfterMsOf } from './status.ts';
export { isTaskParamFormat, taskParamFormats } from './task-param-formats.ts';
export type { TaskParamFormat } from './task-param-formats.ts';
export { isQueryProbe, queryArgKinds, queryArgsProblem, queryProbes } from './query-probes.ts';
export type { QueryArgKind, QueryProbeName, QueryProbeSpec } from './query-probes.ts';
