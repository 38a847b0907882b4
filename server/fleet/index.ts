export { EnvoyEntry } from './envoy-entry.ts';
export type { EnvoyRow, EnvoyStatus } from './envoy-entry.ts';
export { FleetIndex, envoyFailing, envoyListStatuses } from './fleet-index.ts';
export type {
  EnrollmentRecord,
  EnvoyListFilter,
  EnvoyListStatus,
  EnvoyPage,
  FleetChanges,
} from './fleet-index.ts';
export {
  envoyListFilter,
  envoyQueryKeys,
  envoyQueryRules,
  envoyQueryTextRules,
  parseEnvoyQuery,
} from './envoy-query.ts';
export type { EnvoyQuery, EnvoyQueryKey } from './envoy-query.ts';
export { createFleetFlusher } from './flusher.ts';
export type { FleetFlusher, FleetFlusherOptions, StaleTransition } from './flusher.ts';
export { createFleetAdmin } from './admin.ts';
export type { FleetAdmin, FleetAdminDeps, FleetChange } from './admin.ts';
export { parseTraitFilter, traitsMatcher } from './trait-filter.ts';
export type { TraitFilter } from './trait-filter.ts';
export { envoyReachability } from './reachability.ts';
