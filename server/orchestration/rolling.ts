/**
 * Rolling execution arithmetic: how a task's targets are split into batches, and when failures are too
 * many. Pure functions over counts, so the plan a dry run shows is the plan a real run follows.
 *
 *   batch size  N or P% of all targets (at least 1); absent: every target in one batch
 *   canary      N targets first, alone in batch 1; the rest follow in batches of the batch size
 *   max failures N or P% of all targets (rounded down); the run aborts once failures exceed it;
 *               absent: no limit
 */
import { VigoError } from '../core/index.ts';

/** A count or a percentage of the run's targets. */
export type Amount =
  { readonly kind: 'count'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

export const rollingLimits = { maxCount: 1_000_000 } as const;

function invalid(field: string, message: string): VigoError {
  return new VigoError('task.invalid', `${field}: ${message}`, { field });
}

/**
 * Reads "10", "25%" or 10 (a whole number, or a percentage 1..100). `minCount` is the smallest count
 * allowed (1 for a batch size; 0 for max failures, where 0 means "abort at the first failure").
 */
export function parseAmount(field: string, value: unknown, minCount: number): Amount {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < minCount || value > rollingLimits.maxCount)
      throw invalid(
        field,
        `must be a whole number from ${minCount} to ${rollingLimits.maxCount}, or "P%"; got ${value}`,
      );
    return { kind: 'count', value };
  }
  if (typeof value !== 'string')
    throw invalid(
      field,
      `must be a whole number or a string like "10" or "25%", got ${value === null ? 'null' : typeof value}`,
    );
  const match = /^\s*(\d{1,7})\s*(%?)\s*$/.exec(value);
  if (match === null)
    throw invalid(
      field,
      `must be a count like "10" or a percentage like "25%", got ${JSON.stringify(value.slice(0, 32))}`,
    );
  const number = Number(match[1]);
  if (match[2] === '%') {
    if (number < 1 || number > 100) throw invalid(field, `a percentage is 1% to 100%, got ${number}%`);
    return { kind: 'percent', value: number };
  }
  return parseAmount(field, number, minCount);
}

export function formatAmount(amount: Amount): string {
  return amount.kind === 'percent' ? `${amount.value}%` : String(amount.value);
}

/** The batch size in targets: a percentage of `total` rounded up, never below 1. */
export function batchSizeOf(amount: Amount | undefined, total: number): number {
  if (amount === undefined) return Math.max(total, 1);
  if (amount.kind === 'count') return amount.value;
  return Math.max(1, Math.ceil((total * amount.value) / 100));
}

/** How many targets are in each batch, in order; they add up to `total`. */
export function planBatches(total: number, options: { batchSize?: Amount; canary?: number }): number[] {
  if (total <= 0) return [];
  const sizes: number[] = [];
  let left = total;
  if (options.canary !== undefined && options.canary > 0) {
    const first = Math.min(options.canary, left);
    sizes.push(first);
    left -= first;
  }
  const size = batchSizeOf(options.batchSize, total);
  while (left > 0) {
    const next = Math.min(size, left);
    sizes.push(next);
    left -= next;
  }
  return sizes;
}

/** The most failures a run of `total` targets tolerates; undefined: no limit. */
export function failureAllowance(amount: Amount | undefined, total: number): number | undefined {
  if (amount === undefined) return undefined;
  if (amount.kind === 'count') return amount.value;
  return Math.floor((total * amount.value) / 100);
}

/** Whether `failures` exceed what the run tolerates, so the rest of it must be aborted. */
export function tooManyFailures(failures: number, allowance: number | undefined): boolean {
  return allowance !== undefined && failures > allowance;
}
