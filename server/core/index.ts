export { VigoError, errorCatalog, isVigoError, toPublicError } from './errors.ts';
export type { ErrorCode, ErrorKind } from './errors.ts';
export {
  createLogger,
  droppedLogLines,
  guardStandardStreams,
  guardStream,
  isLogLevel,
  logFormats,
  silentLogger,
  streamSink,
} from './log.ts';
export type { LogFields, LogFormat, LogLevel, LogLevelRef, LogSink, Logger } from './log.ts';
export { actorName, newRequestId, systemCtx } from './ctx.ts';
export type { Actor, Ctx, Role } from './ctx.ts';
export { formatDurationMs, parseDurationMs } from './duration.ts';
export { ensurePrivateDir, writePrivateFile } from './fs-secure.ts';
export { exitCodes } from './exit-codes.ts';
export type { ExitCodeName } from './exit-codes.ts';
export { closestName, editDistance, listNames } from './suggest.ts';
export { parseBody, parseJsonBody } from './body-rules.ts';
export type { BodyOf, BodyRules, FieldRule, UploadedFile } from './body-rules.ts';
export { startModuleWorker } from './worker.ts';
export { nestedDeeperThan } from './json-depth.ts';
export { newTraceparent, parseTraceparent, traceDetails, traceIdOf } from './traceparent.ts';
