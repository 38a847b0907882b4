import { templateLimits } from '../limits.ts';
import type { TemplateLimits } from '../limits.ts';
import { isMap } from './values.ts';

/**
 * What a render may cost (server/policy/limits.ts): `range` iterations, characters written, and the
 * work functions and `range` set-ups do on large values. One budget is shared by every template of a
 * resource (at publish) or of a bundle (at check-in), so splitting a bomb over fields does not help.
 */

export type BudgetKind = 'iterations' | 'output' | 'work';

/** Thrown when a render goes over its budget; the evaluator locates it at the action that did. */
export class BudgetExceeded extends Error {
  constructor(
    readonly kind: BudgetKind,
    message: string,
  ) {
    super(message);
    this.name = 'BudgetExceeded';
  }
}

export function outputLimitError(chars: number, limit = templateLimits.maxOutputChars): BudgetExceeded {
  return new BudgetExceeded(
    'output',
    `this would produce ${chars} characters; templates may produce at most ${limit} (template output limit)`,
  );
}

/** Size a function call or range pays for a value: characters of a string, items of a list or map. */
export function costOf(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.length;
  if (isMap(value)) return Object.keys(value).length;
  return 1;
}

export class RenderBudget {
  /** Set once any limit was hit: later renders sharing this budget are pointless. */
  exhausted = false;
  private iterations = 0;
  private output = 0;
  private work = 0;

  constructor(readonly limits: TemplateLimits = templateLimits) {}

  iterate(): void {
    if (++this.iterations > this.limits.maxIterations)
      throw this.over(
        'iterations',
        `range loops ran more than ${this.limits.maxIterations} iterations (template iteration limit)`,
      );
  }

  write(chars: number): void {
    this.output += chars;
    if (this.output > this.limits.maxOutputChars)
      throw this.over(
        'output',
        `templates wrote more than ${this.limits.maxOutputChars} characters (template output limit)`,
      );
  }

  spend(units: number): void {
    this.work += units;
    if (this.work > this.limits.maxWork)
      throw this.over(
        'work',
        `functions and range processed more than ${this.limits.maxWork} characters and items (template work limit)`,
      );
  }

  /** A single value longer than the output limit is refused even before it is printed. */
  checkValue(value: unknown): void {
    if (typeof value === 'string' && value.length > this.limits.maxOutputChars) {
      this.exhausted = true;
      throw outputLimitError(value.length, this.limits.maxOutputChars);
    }
  }

  private over(kind: BudgetKind, message: string): BudgetExceeded {
    this.exhausted = true;
    return new BudgetExceeded(kind, message);
  }
}
