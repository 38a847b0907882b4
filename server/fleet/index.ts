export { EnvoyEntry, fromTlsFingerprint } from './envoy-entry.ts';
export type { EnvoyRow, EnvoyStatus } from './envoy-entry.ts';
export { FleetIndex } from './fleet-index.ts';
export type { EnrollmentRecord, EnvoyListFilter, EnvoyPage } from './fleet-index.ts';
export { createFleetFlusher } from './flusher.ts';
export type { FleetFlusher, FleetFlusherOptions, StaleTransition } from './flusher.ts';
