/**
 * What an operator asks for when starting a task, checked before anything is resolved or dispatched.
 * Two request shapes reach it: the native `POST /api/v1/tasks` body and Vigo's `POST /api/v1/task` body
 * (`target` a single string, `healthCheck` a command string, `operator` a label), so scripts written for
 * Vigo keep working. Both become one TaskRequest; every refusal is task.invalid naming the field.
 */
import { VigoError, parseDurationMs } from '../core/index.ts';
import type { Amount } from './rolling.ts';
import { parseAmount } from './rolling.ts';
import { targetLimits } from './targets.ts';

export const taskLimits = {
  maxCommandBytes: 64 * 1024,
  maxTaskNameBytes: 256,
  maxParams: 256,
  maxParamKeyBytes: 256,
  maxParamValueBytes: 64 * 1024,
  defaultTimeoutSeconds: 60,
  maxTimeoutSeconds: 86_400,
  maxNice: 19,
  maxPauseSeconds: 3_600,
  defaultExpiresMs: 3_600_000,
  minExpiresMs: 10_000,
  maxExpiresMs: 7 * 86_400_000,
  maxHealthCheckTimeoutSeconds: 300,
  defaultHealthCheckTimeoutSeconds: 10,
  maxUrlLength: 2048,
  maxOperatorLength: 128,
} as const;

export type HealthCheck =
  | { readonly kind: 'url'; readonly url: string; readonly timeoutSeconds: number }
  | { readonly kind: 'command'; readonly command: string; readonly timeoutSeconds: number };

export type TaskAction =
  | { readonly kind: 'command'; readonly command: string }
  | {
      readonly kind: 'named';
      readonly taskName: string;
      /** As given; bound to the task's definition (and written as text) before dispatch. */
      readonly params: Readonly<Record<string, string | number | boolean>>;
    };

export interface Rollout {
  readonly batchSize?: Amount;
  readonly maxFailures?: Amount;
  readonly canary?: number;
  readonly healthCheck?: HealthCheck;
  readonly pauseSeconds: number;
}

export interface TaskRequest {
  readonly action: TaskAction;
  readonly targets: readonly string[];
  readonly where: readonly string[];
  /** Absent: the named task's own, or taskLimits.defaultTimeoutSeconds for a command. */
  readonly timeoutSeconds?: number;
  /** Absent: the named task's own, or 0. */
  readonly nice?: number;
  readonly expiresMs: number;
  readonly rollout: Rollout;
  readonly dryRun: boolean;
  readonly force: boolean;
  /** Vigo's free-text `operator` label, kept in the audit entry beside the authenticated actor. */
  readonly operatorLabel?: string;
  /** The W3C traceparent of the request that started the run, sent with every TaskDispatch of it. */
  readonly traceparent?: string;
}

function invalid(field: string, message: string): VigoError {
  return new VigoError('task.invalid', `${field}: ${message}`, { field });
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function str(field: string, value: unknown, maxBytes: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(field, `must be a string, got ${typeName(value)}`);
  if (Buffer.byteLength(value) > maxBytes) throw invalid(field, `is longer than ${maxBytes} bytes`);
  return value;
}

function int(field: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw invalid(field, `must be a whole number, got ${typeName(value)}`);
  if (value < min || value > max) throw invalid(field, `must be from ${min} to ${max}, got ${value}`);
  return value;
}

function bool(field: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(field, `must be true or false, got ${typeName(value)}`);
  return value;
}

function stringList(field: string, value: unknown, maxItems: number): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(field, `must be an array of strings, got ${typeName(value)}`);
  if (value.length > maxItems) throw invalid(field, `holds more than ${maxItems} items`);
  return value.map((item: unknown, i) => {
    if (typeof item !== 'string') throw invalid(`${field}[${i}]`, `must be a string, got ${typeName(item)}`);
    return item;
  });
}

const taskNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;

function params(value: unknown): Record<string, string | number | boolean> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('params', `must be an object of name: value, got ${typeName(value)}`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > taskLimits.maxParams)
    throw invalid('params', `holds more than ${taskLimits.maxParams} entries`);
  const out: Record<string, string | number | boolean> = {};
  for (const [key, raw] of entries) {
    if (key.length === 0 || Buffer.byteLength(key) > taskLimits.maxParamKeyBytes)
      throw invalid('params', `a parameter name is 1 to ${taskLimits.maxParamKeyBytes} bytes`);
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')
      throw invalid(`params.${key}`, `must be a string, number or boolean, got ${typeName(raw)}`);
    if (Buffer.byteLength(String(raw)) > taskLimits.maxParamValueBytes)
      throw invalid(`params.${key}`, `is longer than ${taskLimits.maxParamValueBytes} bytes`);
    out[key] = raw;
  }
  return out;
}

function action(body: Readonly<Record<string, unknown>>): TaskAction {
  const command = str('command', body['command'], taskLimits.maxCommandBytes);
  // Vigo sends taskName "" beside a command; an empty name is no name.
  const taskName = str('taskName', body['taskName'], taskLimits.maxTaskNameBytes) || undefined;
  if (command !== undefined && command !== '' && taskName !== undefined)
    throw invalid('command', 'give either a command or a taskName, not both');
  if (taskName !== undefined) {
    if (!taskNamePattern.test(taskName))
      throw invalid(
        'taskName',
        `${JSON.stringify(taskName.slice(0, 64))} is not a task name (letters, digits, _ . : / -)`,
      );
    return { kind: 'named', taskName, params: params(body['params']) };
  }
  if (command === undefined || command.trim() === '')
    throw invalid('command', 'give a command to run, or a taskName');
  if (body['params'] !== undefined && Object.keys(params(body['params'])).length > 0)
    throw invalid('params', 'parameters belong to a named task (taskName), not to a command');
  return { kind: 'command', command };
}

function healthCheck(value: unknown): HealthCheck | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  // Vigo's form: a command string.
  if (typeof value === 'string')
    return healthCheckCommand(value, taskLimits.defaultHealthCheckTimeoutSeconds);
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('healthCheck', `must be {url} or {command}, got ${typeName(value)}`);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).find((k) => !['url', 'command', 'timeoutSeconds'].includes(k));
  if (extra !== undefined)
    throw invalid(
      'healthCheck',
      `unknown field "${extra}"; it accepts "url" or "command", and "timeoutSeconds"`,
    );
  const timeoutSeconds =
    int('healthCheck.timeoutSeconds', record['timeoutSeconds'], 1, taskLimits.maxHealthCheckTimeoutSeconds) ??
    taskLimits.defaultHealthCheckTimeoutSeconds;
  const url = str('healthCheck.url', record['url'], taskLimits.maxUrlLength);
  const command = str('healthCheck.command', record['command'], taskLimits.maxCommandBytes);
  if ((url === undefined) === (command === undefined))
    throw invalid('healthCheck', 'give exactly one of "url" and "command"');
  if (command !== undefined) return healthCheckCommand(command, timeoutSeconds);
  let parsed: URL;
  try {
    parsed = new URL(url ?? '');
  } catch {
    throw invalid('healthCheck.url', `${JSON.stringify((url ?? '').slice(0, 80))} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalid('healthCheck.url', `must be http or https, got ${parsed.protocol}`);
  return { kind: 'url', url: parsed.toString(), timeoutSeconds };
}

function healthCheckCommand(command: string, timeoutSeconds: number): HealthCheck {
  if (command.trim() === '') throw invalid('healthCheck.command', 'is empty');
  if (Buffer.byteLength(command) > taskLimits.maxCommandBytes)
    throw invalid('healthCheck.command', `is longer than ${taskLimits.maxCommandBytes} bytes`);
  return { kind: 'command', command, timeoutSeconds };
}

function expires(value: unknown): number {
  if (value === undefined) return taskLimits.defaultExpiresMs;
  const text = str('expires', value, 32) ?? '';
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw invalid('expires', `${JSON.stringify(text)} is not a duration like "30m" or "1h"`);
  if (ms < taskLimits.minExpiresMs || ms > taskLimits.maxExpiresMs)
    throw invalid('expires', 'must be from 10s to 7d');
  return ms;
}

function rollout(body: Readonly<Record<string, unknown>>): Rollout {
  const batchSize = emptyToUndefined(body['batchSize']);
  const maxFailures = emptyToUndefined(body['maxFailures']);
  return {
    ...(batchSize === undefined ? {} : { batchSize: parseAmount('batchSize', batchSize, 1) }),
    ...(maxFailures === undefined ? {} : { maxFailures: parseAmount('maxFailures', maxFailures, 0) }),
    ...(body['canary'] === undefined ? {} : { canary: int('canary', body['canary'], 1, 1_000_000) }),
    ...healthCheckOrNone(body['healthCheck']),
    pauseSeconds: int('pauseSeconds', body['pauseSeconds'], 0, taskLimits.maxPauseSeconds) ?? 0,
  };
}

function healthCheckOrNone(value: unknown): { healthCheck?: HealthCheck } {
  const check = healthCheck(value);
  return check === undefined ? {} : { healthCheck: check };
}

/** Vigo sends "" for "not set". */
function emptyToUndefined(value: unknown): unknown {
  return value === '' || value === null ? undefined : value;
}

/**
 * The native body of POST /api/v1/tasks, already known to hold only declared fields. `ctx` gives the
 * request's traceparent; the body cannot set it.
 */
export function parseTaskRequest(
  body: Readonly<Record<string, unknown>>,
  ctx?: { readonly traceparent?: string },
): TaskRequest {
  const targets = stringList('targets', body['targets'], targetLimits.maxTargets);
  const single = str('target', body['target'], targetLimits.maxTargetBytes);
  if (single !== undefined && single !== '') targets.push(single);
  if (targets.length === 0) throw invalid('targets', 'name at least one target (targets or target)');
  return {
    action: action(body),
    targets,
    where: stringList('where', body['where'], targetLimits.maxWhere),
    ...optionalInt('timeoutSeconds', int('timeout', body['timeout'], 1, taskLimits.maxTimeoutSeconds)),
    ...optionalInt('nice', int('nice', body['nice'], 0, taskLimits.maxNice)),
    expiresMs: expires(body['expires']),
    rollout: rollout(body),
    dryRun: bool('dryRun', body['dryRun']),
    force: bool('force', body['force']),
    ...operatorLabel(body['operator']),
    ...(ctx?.traceparent === undefined ? {} : { traceparent: ctx.traceparent }),
  };
}

function optionalInt<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

function operatorLabel(value: unknown): { operatorLabel?: string } {
  const label = str('operator', value, taskLimits.maxOperatorLength);
  return label === undefined || label === '' ? {} : { operatorLabel: label };
}
