/** Connections of the listeners: the client address a connection counts against, and their metrics. */
export { addressKey } from './connection-gate.ts';
export { createConnectionMetrics } from './metrics.ts';
export type { ConnectionMetrics } from './metrics.ts';
