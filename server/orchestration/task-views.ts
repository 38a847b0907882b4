/**
 * What the API answers about task runs: a summary per run (lists), the run with every target's outcome
 * (one run), and the plan a dry run would follow. Output is text (UTF-8, invalid bytes replaced).
 */
import type { EnvoyEntry } from '../fleet/index.ts';
import type { StoredRollout } from './active-run.ts';
import { formatAmount } from './rolling.ts';
import type { TaskRequest } from './task-request.ts';
import type { RunRow, RunStatus, TargetRow, TargetState } from './tasks-store.ts';

export interface RolloutView {
  batchSize: string | null;
  maxFailures: string | null;
  canary: number | null;
  healthCheck: { url: string } | { command: string } | null;
  pauseSeconds: number;
}

export interface RunSummaryView {
  id: string;
  kind: 'command' | 'named';
  command: string | null;
  taskName: string | null;
  actor: string;
  status: RunStatus;
  message: string;
  createdAt: string;
  expiresAt: string;
  finishedAt: string | null;
  timeoutSeconds: number;
  nice: number;
  batches: number;
  currentBatch: number;
  targets: number;
  counts: Partial<Record<TargetState, number>>;
}

export interface TargetView {
  taskId: string;
  envoyId: string;
  hostname: string;
  batch: number;
  state: TargetState;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  sentAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  message: string;
}

export interface RunDetailView extends RunSummaryView {
  params: Record<string, string>;
  selection: { targets: string[]; where: string[] };
  rollout: RolloutView;
  /** Targets in batch order, one page of them. */
  items: TargetView[];
  /** The offset of the next page of targets, null on the last. */
  nextOffset: number | null;
}

export interface DryRunView {
  dryRun: true;
  targets: { envoyId: string; hostname: string; online: boolean }[];
  batches: { batch: number; hostnames: string[] }[];
  rollout: RolloutView;
}

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

function rolloutView(rollout: Omit<StoredRollout, 'targets' | 'where'>): RolloutView {
  const check = rollout.healthCheck;
  return {
    batchSize: rollout.batchSize === undefined ? null : formatAmount(rollout.batchSize),
    maxFailures: rollout.maxFailures === undefined ? null : formatAmount(rollout.maxFailures),
    canary: rollout.canary ?? null,
    healthCheck:
      check === undefined ? null : check.kind === 'url' ? { url: check.url } : { command: check.command },
    pauseSeconds: rollout.pauseSeconds,
  };
}

export function runSummary(row: RunRow, counts: Partial<Record<TargetState, number>>): RunSummaryView {
  const targets = Object.values(counts).reduce<number>((sum, n) => sum + (n ?? 0), 0);
  return {
    id: row.id,
    kind: row.kind,
    command: row.command,
    taskName: row.task_name,
    actor: row.actor,
    status: row.status,
    message: row.message,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
    finishedAt: iso(row.finished_at),
    timeoutSeconds: row.timeout_seconds,
    nice: row.nice,
    batches: row.batches,
    currentBatch: row.current_batch,
    targets,
    counts,
  };
}

export function runDetail(
  row: RunRow,
  counts: Partial<Record<TargetState, number>>,
  targets: readonly TargetRow[],
  nextOffset: number | null,
): RunDetailView {
  let rollout: StoredRollout;
  try {
    rollout = JSON.parse(row.rollout) as StoredRollout;
  } catch {
    rollout = { pauseSeconds: 0, targets: [], where: [] };
  }
  return {
    ...runSummary(row, counts),
    params: JSON.parse(row.params) as Record<string, string>,
    selection: { targets: [...(rollout.targets ?? [])], where: [...(rollout.where ?? [])] },
    rollout: rolloutView(rollout),
    items: targets.map((t) => ({
      taskId: t.task_id,
      envoyId: t.envoy_id,
      hostname: t.hostname,
      batch: t.batch,
      state: t.state,
      exitCode: t.exit_code,
      stdout: t.stdout === null ? '' : t.stdout.toString('utf8'),
      stderr: t.stderr === null ? '' : t.stderr.toString('utf8'),
      truncated: t.truncated === 1,
      sentAt: iso(t.sent_at),
      startedAt: iso(t.started_at),
      finishedAt: iso(t.finished_at),
      message: t.message,
    })),
    nextOffset,
  };
}

export function dryRunView(
  chosen: readonly EnvoyEntry[],
  plan: readonly number[],
  request: TaskRequest,
  online: (envoyId: string) => boolean,
): DryRunView {
  const batches: DryRunView['batches'] = [];
  let index = 0;
  plan.forEach((size, b) => {
    batches.push({ batch: b + 1, hostnames: chosen.slice(index, index + size).map((e) => e.hostname) });
    index += size;
  });
  return {
    dryRun: true,
    targets: chosen.map((e) => ({ envoyId: e.id, hostname: e.hostname, online: online(e.id) })),
    batches,
    rollout: rolloutView(request.rollout),
  };
}
