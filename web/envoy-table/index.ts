export { envoyRow, envoyTable, hostFacts, scrollBox } from './envoy-table.ts';
export type { EnvoyTableOptions, HostFacts, SortLink } from './envoy-table.ts';
