export { VigoError, errorCatalog, isVigoError, toPublicError } from './errors.ts';
export type { ErrorCode, ErrorKind } from './errors.ts';
export { createLogger, isLogLevel, silentLogger } from './log.ts';
export type { LogFields, LogLevel, LogSink, Logger } from './log.ts';
export { actorName, newRequestId, systemCtx } from './ctx.ts';
export type { Actor, Ctx, Role } from './ctx.ts';
export { formatDurationMs, parseDurationMs } from './duration.ts';
export { ensurePrivateDir, writePrivateFile } from './fs-secure.ts';
