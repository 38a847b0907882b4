/**
 * Exports for outside systems (docs/exports.md): the SIEM pull stream of events and audit entries in
 * Elastic Common Schema, and the CMDB envoy inventory as JSON or CSV.
 */
export { auditToEcs, eventToEcs } from './ecs.ts';
export type { EcsDocument, EcsOutcome } from './ecs.ts';
export { formatSiemCursor, parseSiemCursor, siemLimits, siemPage } from './siem.ts';
export type { SiemCursor, SiemExportDeps, SiemPageRequest, SiemTrailer } from './siem.ts';
export {
  cmdbFields,
  cmdbLimits,
  createCmdbReader,
  decodeCmdbCursor,
  encodeCmdbCursor,
  parseCmdbFields,
  primaryIp,
} from './cmdb.ts';
export type { CmdbDeps, CmdbField, CmdbPage, CmdbPageRequest, CmdbReader, CmdbRow } from './cmdb.ts';
export { csvCell, csvRow } from './csv.ts';
export type { CsvCell } from './csv.ts';

/** The exports server.yaml switches on one by one (`exports.<name>`). */
export type ExportName = 'siem' | 'cmdb';
