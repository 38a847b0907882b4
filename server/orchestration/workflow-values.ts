/**
 * The values a workflow run works with: its parameters, bound once at start to the workflow's
 * definition (unknown, missing or ill-typed ones refused), and the references in its steps, filled in
 * from those parameters and the outputs earlier steps left when each step starts.
 */
import { VigoError } from '../core/index.ts';
import { coerceParam, splitRefs, valueProblem } from '../policy/index.ts';
import type { CompiledWorkflow, GivenParam } from '../policy/index.ts';

/** What a finished step leaves for later steps: text, or a list of hostnames. */
export type StepOutput = Record<string, string | string[]>;

export const workflowValueLimits = {
  maxParams: 64,
  maxValueBytes: 64 * 1024,
  maxExpandedItems: 10_000,
} as const;

export function bindWorkflowParams(
  name: string,
  workflow: CompiledWorkflow,
  given: Readonly<Record<string, GivenParam>>,
): Record<string, string> {
  for (const key of Object.keys(given))
    if (!Object.hasOwn(workflow.params, key)) {
      const known = Object.keys(workflow.params);
      throw new VigoError(
        'workflow.param_unknown',
        `workflow ${name} has no parameter ${JSON.stringify(key.slice(0, 64))}; ` +
          (known.length === 0 ? 'it takes none' : `it takes ${known.join(', ')}`),
        { field: 'params' },
      );
    }
  const bound: Record<string, string> = {};
  for (const [key, spec] of Object.entries(workflow.params)) {
    const raw = Object.hasOwn(given, key) ? given[key] : spec.default;
    if (raw === undefined)
      throw new VigoError(
        'workflow.param_missing',
        `workflow ${name} needs the parameter ${key} (${spec.type})`,
        {
          field: 'params',
        },
      );
    const value = coerceParam(spec, raw);
    const problem = valueProblem(spec, value);
    if (problem !== undefined)
      throw new VigoError('workflow.param_invalid', `workflow ${name}: parameter ${key} ${problem}`, {
        field: 'params',
      });
    bound[key] = String(value);
  }
  return bound;
}

export interface RefValues {
  readonly params: Readonly<Record<string, string>>;
  /** The outputs of the steps that ran, by step id (the latest run of a step reached twice). */
  readonly steps: Readonly<Record<string, StepOutput>>;
}

function lookup(
  values: RefValues,
  part: Exclude<ReturnType<typeof splitRefs>, string>[number],
): string | string[] {
  if (typeof part === 'string') return part;
  if (part.kind === 'param') return values.params[part.name] ?? '';
  // A step a branch skipped left nothing: its outputs read as empty.
  return values.steps[part.step]?.[part.field] ?? '';
}

/** Fills in one text; a list output inside other text is joined with commas. */
export function fillText(text: string, values: RefValues): string {
  const parts = splitRefs(text);
  if (typeof parts === 'string') throw new VigoError('task.invalid', parts);
  return parts
    .map((part) => {
      const value = lookup(values, part);
      return Array.isArray(value) ? value.join(',') : value;
    })
    .join('');
}

/**
 * Fills in a list (targets, where): an item that is exactly one list reference becomes that list's
 * items; an item that fills in to nothing is dropped.
 */
export function fillList(items: readonly string[], values: RefValues): string[] {
  const out: string[] = [];
  for (const item of items) {
    const parts = splitRefs(item);
    if (typeof parts === 'string') throw new VigoError('task.invalid', parts);
    const only = parts.length === 1 ? parts[0] : undefined;
    const value =
      only !== undefined && typeof only !== 'string' ? lookup(values, only) : fillText(item, values);
    for (const v of Array.isArray(value) ? value : [value]) if (v !== '') out.push(v);
    if (out.length > workflowValueLimits.maxExpandedItems)
      throw new VigoError(
        'orchestration.target_invalid',
        `the step's targets fill in to more than ${workflowValueLimits.maxExpandedItems} items`,
      );
  }
  return out;
}
