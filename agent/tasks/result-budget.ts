/**
 * A named task's per-resource results must fit in one AgentStream message (its envelope body is at most
 * 4 MiB). Results are kept in apply order; when they do not fit, the messages of results that did not fail
 * go first, then trailing results, and the task's message says how many were left out.
 */
import { protocolLimits } from '../../protocol/index.ts';
import type { ResourceResult } from '../engine/index.ts';

/** Room for the rest of the TaskResult and the envelope around it. */
const resultsBudgetBytes = protocolLimits.bodyMaxBytes - 256 * 1024;
/** Tags, lengths and the two numbers of one encoded ResourceResult, at most. */
const perResultOverheadBytes = 32;

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

function sizeOf(r: ResourceResult): number {
  return (
    bytes(r.resourceId) +
    bytes(r.resourceType) +
    bytes(r.configcrate) +
    bytes(r.message) +
    perResultOverheadBytes
  );
}

export interface BudgetedResults {
  readonly results: readonly ResourceResult[];
  /** Why some results or their messages were left out; undefined when all fit. */
  readonly note: string | undefined;
}

export function fitResults(
  all: readonly ResourceResult[],
  budgetBytes = resultsBudgetBytes,
): BudgetedResults {
  const capped = all.slice(0, protocolLimits.resultsPerRunMax);
  let total = capped.reduce((sum, r) => sum + sizeOf(r), 0);
  if (total <= budgetBytes && capped.length === all.length) return { results: capped, note: undefined };
  let results = capped;
  let trimmedMessages = false;
  if (total > budgetBytes) {
    results = capped.map((r) => (r.outcome === 'failed' || r.message === '' ? r : { ...r, message: '' }));
    trimmedMessages = true;
    total = results.reduce((sum, r) => sum + sizeOf(r), 0);
  }
  let kept = results.length;
  while (total > budgetBytes && kept > 0) {
    kept -= 1;
    total -= sizeOf(results[kept]!);
  }
  results = results.slice(0, kept);
  const parts = [
    ...(kept < all.length ? [`${all.length - kept} of ${all.length} resource results left out`] : []),
    ...(trimmedMessages ? ['messages of results that did not fail left out'] : []),
  ];
  return { results, note: `${parts.join('; ')}: they do not fit in one stream message` };
}
