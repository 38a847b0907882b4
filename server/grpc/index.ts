/**
 * The agent-facing gRPC listener. The grpc-js adapter for the generated service, which the agent uses as
 * well, lives in protocol/.
 */
export { startGrpcListener } from './server.ts';
export type { GrpcListener, GrpcListenerOptions } from './server.ts';
