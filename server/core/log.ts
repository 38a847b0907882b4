/**
 * Structured JSON logs, one object a line. Bound fields (request id, component) ride along on child
 * loggers so every line of a request can be correlated.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  write(line: string): void;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export function isLogLevel(value: string): value is LogLevel {
  return value in levelRank;
}

function serializeError(err: Error): LogFields {
  return { name: err.name, message: err.message, stack: err.stack };
}

function encode(value: unknown): unknown {
  return value instanceof Error ? serializeError(value) : value;
}

/** A level shared by a logger and all its children, so a config reload changes it everywhere at once. */
export interface LogLevelRef {
  value: LogLevel;
}

export function createLogger(options: {
  level: LogLevel | LogLevelRef;
  sink?: LogSink;
  fields?: LogFields;
}): Logger {
  const sink = options.sink ?? process.stderr;
  const levelRef = typeof options.level === 'string' ? { value: options.level } : options.level;
  const bound = options.fields ?? {};

  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (levelRank[level] < levelRank[levelRef.value]) return;
    const record: LogFields = { time: new Date().toISOString(), level, msg, ...bound };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = encode(v);
    sink.write(`${JSON.stringify(record)}\n`);
  };

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger({ level: levelRef, sink, fields: { ...bound, ...fields } }),
    enabled: (level) => levelRank[level] >= levelRank[levelRef.value],
  };
}

/** A logger that drops everything: for unit tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ level: 'error', sink: { write: () => {} } });
