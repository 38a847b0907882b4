export { envoyRow, envoyTable, hostFacts } from './envoy-table.ts';
export type { EnvoyTableOptions, HostFacts, SortLink } from './envoy-table.ts';
