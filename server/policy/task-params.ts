/**
 * Binds the parameters an operator gives a named task to its definition, before anything is dispatched:
 * every given name must be a parameter, every value must fit its type (text from a CLI flag is read as
 * the type says), required ones must be given, defaults fill the rest. The result is what TaskDispatch
 * carries: each value as text (booleans as true/false), which the agent hands the task as environment
 * variables.
 */
import { VigoError } from '../core/index.ts';
import type { CompiledTask, TaskParamSpec } from './parse-tasks.ts';
import { valueProblem } from './parse-tasks.ts';

/** A value as the caller gave it: JSON types from REST, text from `--param k=v`. */
export type GivenParam = string | number | boolean;

/** Reads text given for a parameter (a CLI flag) as the parameter's type says. */
export function coerceParam(spec: TaskParamSpec, value: GivenParam): GivenParam {
  if (typeof value !== 'string') return value;
  if (spec.type === 'integer' && /^-?\d{1,16}$/.test(value)) return Number(value);
  if (spec.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

export function bindTaskParams(
  name: string,
  task: CompiledTask,
  given: Readonly<Record<string, GivenParam>>,
): Record<string, string> {
  const bound: Record<string, string> = {};
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(task.params, key)) {
      const known = Object.keys(task.params);
      throw new VigoError(
        'task.param_unknown',
        `task ${name} has no parameter ${JSON.stringify(key.slice(0, 64))}; ` +
          (known.length === 0 ? 'it takes none' : `it takes ${known.join(', ')}`),
        { field: 'params' },
      );
    }
  }
  for (const [key, spec] of Object.entries(task.params)) {
    const raw = Object.hasOwn(given, key) ? given[key] : spec.default;
    if (raw === undefined)
      throw new VigoError('task.param_missing', `task ${name} needs the parameter ${key} (${spec.type})`, {
        field: 'params',
      });
    const value = coerceParam(spec, raw);
    const problem = valueProblem(spec, value);
    if (problem !== undefined)
      throw new VigoError('task.param_invalid', `task ${name}: parameter ${key} ${problem}`, {
        field: 'params',
      });
    bound[key] = String(value);
  }
  return bound;
}
