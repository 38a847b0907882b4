/**
 * ReportResults takes runs one by one (agent.proto): a run that breaks its schema is rejected alone, by its
 * run_id, and the sound runs of the same call are stored. Only a call that is wrong as a whole (no runs, or
 * more than 100) is refused outright.
 */
import { ResourceOutcome } from '../../protocol/index.ts';
import type { PayloadOf, RunReport } from '../../protocol/index.ts';
import { reportProblem, runProblem } from './payload-limits.ts';
import type { RunOutcome, RunRecord } from './results-committer.ts';
import { EnvelopeRejection } from './verify.ts';

export interface SortedRuns {
  /** Sound runs, each run_id once, in the order sent. */
  readonly records: RunRecord[];
  /** run_ids of the runs that break the schema (as sent), for rejected_run_ids. */
  readonly rejected: string[];
  /** Why the first rejected run was rejected, for the log. */
  readonly firstProblem: string | undefined;
}

const outcomeNames: Record<ResourceOutcome, RunOutcome | undefined> = {
  [ResourceOutcome.UNSPECIFIED]: undefined,
  [ResourceOutcome.NONE]: 'none',
  [ResourceOutcome.CREATED]: 'created',
  [ResourceOutcome.UPDATED]: 'updated',
  [ResourceOutcome.DELETED]: 'deleted',
  [ResourceOutcome.SKIPPED]: 'skipped',
  [ResourceOutcome.BLOCKED]: 'blocked',
  [ResourceOutcome.FAILED]: 'failed',
};

const traceIdPattern = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A run `runProblem` found sound, as the committer stores it. */
function toRunRecord(envoyId: string, run: RunReport): RunRecord {
  return {
    runId: run.runId,
    envoyId,
    policyVersion: Number(run.policyVersion),
    startedAtMs: Number(run.startedAtMs),
    finishedAtMs: Number(run.finishedAtMs),
    dryRun: run.dryRun,
    traceId: traceIdPattern.exec(run.traceparent)?.[1] ?? '',
    results: run.results.map((r) => ({
      resourceId: r.resourceId,
      resourceType: r.resourceType,
      configcrate: r.configcrate,
      outcome: outcomeNames[r.outcome] ?? 'failed',
      message: r.message,
      durationMs: r.durationMs,
    })),
  };
}

/** Sorts a ReportResults payload into runs to store and run_ids to reject; throws checkin.payload_invalid. */
export function sortRunReports(envoyId: string, payload: PayloadOf<'ReportResults'>): SortedRuns {
  const problem = reportProblem(payload);
  if (problem !== undefined) throw new EnvelopeRejection('checkin.payload_invalid', problem);
  const records: RunRecord[] = [];
  const stored = new Set<string>();
  const rejected = new Set<string>();
  let firstProblem: string | undefined;
  for (const run of payload.runs) {
    const found = runProblem(run);
    if (found === undefined) {
      // A run sent twice in one call is stored once; both copies are acknowledged by the one id.
      if (!stored.has(run.runId)) records.push(toRunRecord(envoyId, run));
      stored.add(run.runId);
    } else {
      rejected.add(run.runId);
      firstProblem ??= `run ${JSON.stringify(run.runId.slice(0, 64))}: ${found}`;
    }
  }
  return { records, rejected: [...rejected].filter((id) => !stored.has(id)), firstProblem };
}
