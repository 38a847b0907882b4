/**
 * Connection hygiene shared by the HTTPS and gRPC listeners: per-address caps on open connections and
 * closing connections that never finish their TLS handshake or never send a request.
 */
export { rateLimitKey } from './address-key.ts';
export { fromTlsFingerprint } from './tls-fingerprint.ts';
export { addressKey, gateConnections } from './connection-gate.ts';
export type { ConnectionGate, ConnectionGateOptions } from './connection-gate.ts';
export { createConnectionMetrics, listenerEvents } from './metrics.ts';
export type { ConnectionMetrics, ListenerName, TimeoutPhase } from './metrics.ts';
export {
  descriptorsBesidesAgents,
  descriptorsNeeded,
  heldFleetLimitProblem,
  logOpenFileLimits,
  openFileLimits,
  parseOpenFileLimits,
} from './fd-limit.ts';
export type { OpenFileLimits } from './fd-limit.ts';
