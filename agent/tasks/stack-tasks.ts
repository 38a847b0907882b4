/**
 * Named tasks from the published stacks (tasks.vgo), as the bundle carries them (docs/bundle-format.md
 * "tasks"): parsed from the bundle the agent holds, and run as command tasks — the command or script
 * under /bin/sh — with each parameter in the environment as VIGO_PARAM_<NAME>, never in the command
 * text. The server binds the parameters before it dispatches; the agent checks them again against the
 * definition in its own signed bundle, so a dispatch can never widen what the definition allows.
 */
import { isTaskParamFormat, taskParamFormats } from '../../protocol/index.ts';
import type { TaskParamFormat } from '../../protocol/index.ts';

export type StackTaskParamType = 'string' | 'integer' | 'boolean' | 'enum';

export interface StackTaskParam {
  readonly type: StackTaskParamType;
  readonly default?: string | number | boolean;
  readonly values?: readonly string[];
  readonly format?: TaskParamFormat;
  readonly max_length?: number;
  readonly min?: number;
  readonly max?: number;
}

export interface StackTask {
  readonly name: string;
  /** The command line or the script: what /bin/sh runs. */
  readonly text: string;
  readonly params: Readonly<Record<string, StackTaskParam>>;
  readonly timeoutSeconds: number;
  readonly nice: number;
}

const paramTypes: ReadonlySet<string> = new Set(['string', 'integer', 'boolean', 'enum']);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The bundle's `tasks` member, or the first problem with it. */
export function parseStackTasks(raw: unknown): { tasks: Map<string, StackTask> } | { problem: string } {
  const tasks = new Map<string, StackTask>();
  if (raw === undefined) return { tasks };
  if (!isObject(raw)) return { problem: 'tasks: must be an object' };
  for (const [name, body] of Object.entries(raw)) {
    const at = `tasks.${name}`;
    if (!isObject(body)) return { problem: `${at}: must be an object` };
    const text = typeof body.command === 'string' ? body.command : body.script;
    if (typeof text !== 'string' || text === '') return { problem: `${at}: has neither command nor script` };
    const timeout = body.timeout_seconds;
    const nice = body.nice;
    if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 1)
      return { problem: `${at}.timeout_seconds: must be a whole number of seconds` };
    if (typeof nice !== 'number' || !Number.isSafeInteger(nice) || nice < -20 || nice > 19)
      return { problem: `${at}.nice: must be -20..19` };
    if (!isObject(body.params)) return { problem: `${at}.params: must be an object` };
    const params: Record<string, StackTaskParam> = {};
    for (const [key, spec] of Object.entries(body.params)) {
      if (!/^[a-z][a-z0-9_]{0,63}$/.test(key))
        return { problem: `${at}.params: ${JSON.stringify(key)} is no parameter name` };
      if (!isObject(spec) || typeof spec.type !== 'string' || !paramTypes.has(spec.type))
        return { problem: `${at}.params.${key}: has no valid type` };
      if (spec.format !== undefined && !isTaskParamFormat(spec.format))
        return { problem: `${at}.params.${key}.format: unknown` };
      params[key] = spec as unknown as StackTaskParam;
    }
    tasks.set(name, { name, text, params, timeoutSeconds: timeout, nice });
  }
  return { tasks };
}

function valueProblem(spec: StackTaskParam, text: string): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return text === 'true' || text === 'false' ? undefined : 'is not true or false';
    case 'integer': {
      if (!/^-?\d{1,16}$/.test(text)) return 'is not a whole number';
      const n = Number(text);
      if (spec.min !== undefined && n < spec.min) return `is below ${spec.min}`;
      if (spec.max !== undefined && n > spec.max) return `is above ${spec.max}`;
      return undefined;
    }
    case 'enum':
      return spec.values?.includes(text) === true ? undefined : 'is not one of its values';
    case 'string':
      if (text.length > (spec.max_length ?? 4096)) return 'is too long';
      if (text.includes('\0')) return 'contains a NUL character';
      if (spec.format !== undefined && !taskParamFormats[spec.format].test(text))
        return `is not a ${spec.format}`;
      return undefined;
  }
}

/**
 * The task's environment additions for the dispatched params (defaults filled in), or why the params
 * do not fit the definition.
 */
export function stackTaskEnvironment(
  task: StackTask,
  given: ReadonlyMap<string, string>,
): { env: Record<string, string> } | { problem: string } {
  for (const key of given.keys())
    if (!Object.hasOwn(task.params, key))
      return { problem: `task ${task.name} has no parameter ${JSON.stringify(key.slice(0, 64))}` };
  const env: Record<string, string> = {};
  for (const [key, spec] of Object.entries(task.params)) {
    const value = given.get(key) ?? (spec.default === undefined ? undefined : String(spec.default));
    if (value === undefined) return { problem: `task ${task.name} needs the parameter ${key}` };
    const problem = valueProblem(spec, value);
    if (problem !== undefined) return { problem: `task ${task.name}: parameter ${key} ${problem}` };
    env[`VIGO_PARAM_${key.toUpperCase()}`] = value;
  }
  return { env };
}
