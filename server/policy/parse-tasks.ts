/**
 * tasks.vgo at the root of the stacks: named tasks operators run on envoys on demand (docs/stacks.md
 * "Named tasks"). Each task is a command or a script, typed parameters the agent hands it as
 * environment variables (never spliced into the shell text), a timeout, a niceness, and the envoy roles
 * whose bundles carry it (none: every envoy's).
 */
import { taskParamFormats } from '../../protocol/index.ts';
import type { TaskParamFormat } from '../../protocol/index.ts';
import type { Pos } from './diagnostics.ts';
import type { Ref } from './model.ts';
import { isRecord } from './yaml-source.ts';
import { parseNamedDefs, secondsOf } from './named-defs.ts';
import type { NamedDefsContext } from './named-defs.ts';

export const namedTaskLimits = {
  tasks: 256,
  paramsPerTask: 64,
  /** The agent protocol's bound on a command, and so on a script. */
  commandBytes: 64 * 1024,
  descriptionBytes: 1024,
  stringMaxLength: 64 * 1024,
  timeoutMaxSeconds: 24 * 3600,
  defaultTimeoutSeconds: 60,
} as const;

export type TaskParamType = 'string' | 'integer' | 'boolean' | 'enum';

/** A parameter as the snapshot, the bundle and the dispatcher see it (only the keys that apply). */
export interface TaskParamSpec {
  type: TaskParamType;
  description?: string;
  /** Absent: the parameter is required. */
  default?: string | number | boolean;
  values?: string[];
  format?: TaskParamFormat;
  max_length?: number;
  min?: number;
  max?: number;
}

/** A named task, compiled: what the snapshot stores and a bundle carries. */
export interface CompiledTask {
  description: string;
  /** Exactly one of command and script is a string. */
  command: string | null;
  script: string | null;
  /** Key-sorted. */
  params: Record<string, TaskParamSpec>;
  timeout_seconds: number;
  nice: number;
  /** Envoy roles whose bundles carry the task, sorted; empty: every envoy's. */
  roles: string[];
}

export interface TaskDef {
  name: string;
  file: string;
  at: Pos;
  task: CompiledTask;
  roleRefs: Ref[];
}

const paramName = '^[a-z][a-z0-9_]{0,63}$';

export const paramSchema = {
  type: 'object',
  properties: {
    type: { enum: ['string', 'integer', 'boolean', 'enum'] },
    description: { type: 'string', maxLength: namedTaskLimits.descriptionBytes },
    default: { type: ['string', 'integer', 'boolean'] },
    values: { type: 'array', items: { type: 'string', maxLength: 1024 }, minItems: 1, maxItems: 256 },
    format: { enum: Object.keys(taskParamFormats) },
    max_length: { type: 'integer', minimum: 1, maximum: namedTaskLimits.stringMaxLength },
    min: { type: 'integer' },
    max: { type: 'integer' },
  },
  required: ['type'],
  additionalProperties: false,
};

const taskBodySchema = {
  $id: 'https://vigo.invalid/schemas/task.json',
  type: 'object',
  properties: {
    description: { type: 'string', maxLength: namedTaskLimits.descriptionBytes },
    command: { type: 'string', minLength: 1 },
    script: { type: 'string', minLength: 1 },
    params: {
      type: 'object',
      maxProperties: namedTaskLimits.paramsPerTask,
      propertyNames: { pattern: paramName },
      additionalProperties: paramSchema,
    },
    timeout: { type: ['string', 'integer'] },
    nice: { type: 'integer', minimum: 0, maximum: 19 },
    roles: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
  additionalProperties: false,
};

export const tasksFileSchema = {
  $id: 'https://vigo.invalid/schemas/tasks.json',
  type: 'object',
  properties: { tasks: { type: 'object', maxProperties: namedTaskLimits.tasks } },
  required: ['tasks'],
  additionalProperties: false,
};

export function parseTasksFile(file: string, value: unknown, ctx: NamedDefsContext): TaskDef[] {
  return parseNamedDefs(file, value, ctx, {
    kind: 'task',
    member: 'tasks',
    fileSchema: tasksFileSchema,
    bodySchema: taskBodySchema,
    compile: (name, body, at) => compileTask(name, body, file, at, ctx),
  });
}

function compileTask(
  name: string,
  body: Record<string, unknown>,
  file: string,
  at: Pos,
  ctx: NamedDefsContext,
): TaskDef | undefined {
  const where = (key: string): Pos => {
    const pos = ctx.map.keyPos(body, key);
    return pos.line === 0 ? at : pos;
  };
  const error = (code: string, key: string, message: string, hint = ''): undefined => {
    ctx.sink.error(code, where(key), `task ${name}: ${message}`, hint);
    return undefined;
  };
  const { command, script } = body as { command?: string; script?: string };
  if ((command === undefined) === (script === undefined))
    return error(
      'task.command_missing',
      command === undefined ? 'description' : 'script',
      'give exactly one of command: (a command line) or script: (a shell script)',
    );
  const text = command ?? script!;
  if (Buffer.byteLength(text) > namedTaskLimits.commandBytes)
    return error(
      'task.command_too_large',
      command === undefined ? 'script' : 'command',
      `the ${command === undefined ? 'script' : 'command'} is ${Buffer.byteLength(text)} bytes; at most ${namedTaskLimits.commandBytes}`,
      'ship a long script as a file resource and run that file',
    );
  const timeoutSeconds = timeoutOf(body.timeout);
  if (timeoutSeconds === undefined)
    return error(
      'task.timeout_invalid',
      'timeout',
      `timeout ${JSON.stringify(body.timeout)} is not a duration from 1s to 24h`,
      'write a duration such as 30s, 5m or 1h, or a number of seconds',
    );
  const params: Record<string, TaskParamSpec> = {};
  const rawParams = isRecord(body.params) ? body.params : {};
  for (const paramName of Object.keys(rawParams).sort()) {
    const spec = rawParams[paramName] as TaskParamSpec;
    const problem = paramProblem(spec);
    if (problem !== undefined)
      return error('task.param_invalid', 'params', `parameter ${paramName}: ${problem}`);
    params[paramName] = spec;
  }
  const roleRefs: Ref[] = Array.isArray(body.roles)
    ? (body.roles as string[]).map((role, i) => ({ text: role, at: ctx.map.keyPos(body.roles as object, i) }))
    : [];
  const roles = [...new Set(roleRefs.map((r) => r.text))].sort();
  return {
    name,
    file,
    at,
    roleRefs,
    task: {
      description: typeof body.description === 'string' ? body.description : '',
      command: command ?? null,
      script: script ?? null,
      params,
      timeout_seconds: timeoutSeconds,
      nice: typeof body.nice === 'number' ? body.nice : 0,
      roles,
    },
  };
}

export function timeoutOf(value: unknown): number | undefined {
  if (value === undefined) return namedTaskLimits.defaultTimeoutSeconds;
  return secondsOf(value, 1, namedTaskLimits.timeoutMaxSeconds);
}

/** What is wrong with a parameter beyond its schema: keys that do not apply to its type, a bad default. */
export function paramProblem(spec: TaskParamSpec): string | undefined {
  const allowed: Record<TaskParamType, readonly string[]> = {
    string: ['format', 'max_length'],
    integer: ['min', 'max'],
    boolean: [],
    enum: ['values'],
  };
  for (const key of ['values', 'format', 'max_length', 'min', 'max'] as const)
    if (spec[key] !== undefined && !allowed[spec.type].includes(key))
      return `${key} does not apply to a parameter of type ${spec.type}`;
  if (spec.type === 'enum' && spec.values === undefined) return 'an enum parameter lists its values:';
  if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) return 'min is above max';
  if (spec.default !== undefined) {
    const problem = valueProblem(spec, spec.default);
    if (problem !== undefined) return `its default ${problem}`;
  }
  return undefined;
}

/** Why `value` is not a valid value of the parameter, or undefined. */
export function valueProblem(spec: TaskParamSpec, value: string | number | boolean): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'is not true or false';
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'is not a whole number';
      if (spec.min !== undefined && value < spec.min) return `is below the minimum ${spec.min}`;
      if (spec.max !== undefined && value > spec.max) return `is above the maximum ${spec.max}`;
      return undefined;
    case 'enum':
      return typeof value === 'string' && spec.values!.includes(value)
        ? undefined
        : `is not one of ${spec.values!.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'string': {
      if (typeof value !== 'string') return 'is not a string';
      const max = spec.max_length ?? 4096;
      if (value.length > max) return `is ${value.length} characters; at most ${max}`;
      if (value.includes('\0')) return 'contains a NUL character';
      if (spec.format !== undefined && !taskParamFormats[spec.format].test(value))
        return `is not a ${spec.format}`;
      return undefined;
    }
  }
}
