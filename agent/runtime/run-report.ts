/**
 * What `vigo run --once` prints, in the manner of `puppet agent -t`: one line per resource that
 * changed (or would change, in a dry run) or failed, then one summary line. Resources already in
 * the desired state, and those skipped by `when:` or not notified, print nothing, so a converged
 * host prints the summary line alone. Changes go to stdout, failures to stderr; `--format json`
 * prints one JSON document on stdout instead of the text lines (failures still go to stderr too).
 */
import type { ResourceOutcome, ResourceResult, RunRecord } from '../engine/index.ts';

export type RunOutputFormat = 'text' | 'json';

export const runOutputFormats: readonly RunOutputFormat[] = ['text', 'json'];

const markers: Partial<Record<ResourceOutcome, string>> = {
  created: '+',
  updated: '~',
  deleted: '-',
  failed: '!',
  blocked: '!',
};

const changes: ReadonlySet<ResourceOutcome> = new Set(['created', 'updated', 'deleted']);

export interface RunCounts {
  readonly total: number;
  /** created + updated + deleted: in a dry run, what would change. */
  readonly changed: number;
  readonly failed: number;
  readonly blocked: number;
  readonly skipped: number;
  readonly unchanged: number;
  readonly byOutcome: Readonly<Record<ResourceOutcome, number>>;
}

export function countOutcomes(results: readonly ResourceResult[]): RunCounts {
  const byOutcome: Record<ResourceOutcome, number> = {
    none: 0,
    created: 0,
    updated: 0,
    deleted: 0,
    skipped: 0,
    blocked: 0,
    failed: 0,
  };
  for (const r of results) byOutcome[r.outcome] += 1;
  return {
    total: results.length,
    changed: byOutcome.created + byOutcome.updated + byOutcome.deleted,
    failed: byOutcome.failed,
    blocked: byOutcome.blocked,
    skipped: byOutcome.skipped,
    unchanged: byOutcome.none,
    byOutcome,
  };
}

/**
 * Messages come from executors and may quote command output: line breaks become spaces and other
 * control characters (terminal escape sequences included) are shown escaped, so one resource is
 * one line and a managed file cannot repaint the operator's terminal.
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
  const control = /[\u0000-\u001f\u007f-\u009f]/g;
  return text
    .replace(/\r\n|[\r\n\t]/g, ' ')
    .replace(control, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .trim();
}

export function resourceLine(result: ResourceResult): string | undefined {
  const marker = markers[result.outcome];
  if (marker === undefined) return undefined;
  const prefix = result.outcome === 'failed' ? 'failed: ' : result.outcome === 'blocked' ? 'blocked: ' : '';
  return `${marker} ${result.resourceType} ${result.resourceId}: ${prefix}${oneLine(result.message)}`;
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(2)} s`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function summaryLine(run: RunRecord): string {
  const counts = countOutcomes(run.results);
  const parts = [
    `${counts.changed} ${run.dryRun ? 'would change' : 'changed'}`,
    `${counts.failed} failed`,
    ...(counts.blocked > 0 ? [`${counts.blocked} blocked`] : []),
    ...(counts.skipped > 0 ? [`${counts.skipped} skipped`] : []),
    `${counts.unchanged} unchanged`,
  ];
  const head = run.dryRun ? 'dry run of policy version' : 'policy version';
  return (
    `${head} ${run.policyVersion}: ${plural(counts.total, 'resource')}, ${parts.join(', ')} ` +
    `in ${seconds(run.finishedAtMs - run.startedAtMs)}`
  );
}

export interface RenderedRun {
  readonly stdout: string;
  readonly stderr: string;
}

/** The text report: change lines and the summary on stdout, failure lines on stderr. */
export function renderRunText(run: RunRecord): RenderedRun {
  const out: string[] = [];
  const err: string[] = [];
  for (const r of run.results) {
    const line = resourceLine(r);
    if (line === undefined) continue;
    (changes.has(r.outcome) ? out : err).push(line);
  }
  out.push(summaryLine(run));
  return { stdout: lines(out), stderr: lines(err) };
}

/** The JSON report: the run record with counts; failure lines are also on stderr for a person watching. */
export function renderRunJson(run: RunRecord, bundleSource: 'server' | 'cache'): RenderedRun {
  const counts = countOutcomes(run.results);
  const document = {
    applied: true,
    runId: run.runId,
    policyVersion: run.policyVersion,
    dryRun: run.dryRun,
    bundleSource,
    startedAt: new Date(run.startedAtMs).toISOString(),
    finishedAt: new Date(run.finishedAtMs).toISOString(),
    durationMs: Math.max(0, run.finishedAtMs - run.startedAtMs),
    counts: {
      total: counts.total,
      changed: counts.changed,
      failed: counts.failed,
      blocked: counts.blocked,
      skipped: counts.skipped,
      unchanged: counts.unchanged,
    },
    resources: run.results.map((r) => ({
      id: r.resourceId,
      type: r.resourceType,
      configcrate: r.configcrate,
      outcome: r.outcome,
      message: r.message,
      durationMs: r.durationMs,
    })),
  };
  const err = run.results
    .filter((r) => r.outcome === 'failed' || r.outcome === 'blocked')
    .map((r) => resourceLine(r) ?? '');
  return { stdout: `${JSON.stringify(document, null, 2)}\n`, stderr: lines(err) };
}

/** When nothing was applied (no bundle, expired or refused bundle). */
export function renderBlocked(reason: string, format: RunOutputFormat): RenderedRun {
  const stderr = `vigo: nothing applied: ${oneLine(reason)}\n`;
  if (format === 'text') return { stdout: '', stderr };
  return { stdout: `${JSON.stringify({ applied: false, reason }, null, 2)}\n`, stderr };
}

export function runFailed(run: RunRecord): boolean {
  return run.results.some((r) => r.outcome === 'failed' || r.outcome === 'blocked');
}

function lines(items: readonly string[]): string {
  return items.length === 0 ? '' : `${items.join('\n')}\n`;
}
