/**
 * Structured logs, one record a line: a JSON object (the default), or for people reading a terminal a
 * text line `time LEVEL msg key=value …`. Bound fields (request id, component) ride along on child
 * loggers so every line of a request can be correlated.
 *
 * Logging never takes the server down: a line that cannot be written (full disk, stderr on /dev/full, a
 * closed pipe) or cannot be encoded is dropped and counted (`droppedLogLines`), never thrown at the caller
 * nor left as an unhandled stream 'error' that would end the process.
 */
import type { Writable } from 'node:stream';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const logFormats = ['json', 'text'] as const;
export type LogFormat = (typeof logFormats)[number];
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

let dropped = 0;

/** Log lines lost since start because they could not be encoded or written. */
export function droppedLogLines(): number {
  return dropped;
}

const guardedStreams = new WeakSet<Writable>();

/**
 * Gives `stream` an 'error' listener, once: without one, a failed write to stdout or stderr (ENOSPC, EIO,
 * EPIPE) is re-thrown as an uncaught exception and ends the process.
 */
export function guardStream(stream: Writable): void {
  if (guardedStreams.has(stream)) return;
  guardedStreams.add(stream);
  stream.on('error', () => {
    // Counted per line by the write callback below; nothing else to do with a broken stream.
  });
}

/** Wraps stdout and stderr so that nothing written to them can crash the process (call first thing). */
export function guardStandardStreams(): void {
  guardStream(process.stdout);
  guardStream(process.stderr);
}

/** A sink over `stream` that drops (and counts) what the stream refuses instead of throwing. */
export function streamSink(stream: Writable): LogSink {
  guardStream(stream);
  return {
    write(line) {
      if (stream.destroyed || stream.writableEnded) {
        dropped += 1;
        return;
      }
      try {
        stream.write(line, (err) => {
          if (err) dropped += 1;
        });
      } catch {
        dropped += 1;
      }
    },
  };
}

/** A value as text: bare when it reads unambiguously, else JSON-quoted (so no value can start a new line). */
function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\\p{C}]+$/u.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'bigint') return value.toString();
  // Objects and arrays as JSON; JSON.stringify throws on a cycle, which drops the line like the JSON format.
  return JSON.stringify(value) ?? 'undefined';
}

const namedControls: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(c: string): string {
  return namedControls[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `time LEVEL msg key=value …`; the message's control characters are escaped, so a record is one line. */
function textLine(record: LogFields): string {
  const { time, level, msg, ...fields } = record;
  const message = String(msg).replace(/[\p{Cc}\u2028\u2029]/gu, escapeControl);
  const parts = [String(time), String(level).toUpperCase().padEnd(5), message];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(`${/^[\w.-]+$/.test(key) ? key : JSON.stringify(key)}=${textValue(value)}`);
  }
  return `${parts.join(' ')}\n`;
}

const formatters: Record<LogFormat, (record: LogFields) => string> = {
  json: (record) => `${JSON.stringify(record)}\n`,
  text: textLine,
};

let stderrSink: LogSink | undefined;

export function createLogger(options: {
  level: LogLevel | LogLevelRef;
  sink?: LogSink;
  fields?: LogFields;
  /** json (default) or text. */
  format?: LogFormat;
}): Logger {
  const format = options.format ?? 'json';
  const line = formatters[format];
  const sink = options.sink ?? (stderrSink ??= streamSink(process.stderr));
  const levelRef = typeof options.level === 'string' ? { value: options.level } : options.level;
  const bound = options.fields ?? {};

  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (levelRank[level] < levelRank[levelRef.value]) return;
    try {
      const record: LogFields = { time: new Date().toISOString(), level, msg, ...bound };
      if (fields) for (const [k, v] of Object.entries(fields)) record[k] = encode(v);
      sink.write(line(record));
    } catch {
      // A field JSON cannot encode (a BigInt, a cycle) or a sink that throws: the line is lost, not the request.
      dropped += 1;
    }
  };

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger({ level: levelRef, sink, format, fields: { ...bound, ...fields } }),
    enabled: (level) => levelRank[level] >= levelRank[levelRef.value],
  };
}

/** A logger that drops everything: for unit tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ level: 'error', sink: { write: () => {} } });
