export * from './service-adapter.ts';
export { startGrpcListener } from './server.ts';
export type { GrpcListener, GrpcListenerOptions } from './server.ts';
