/** Starts the background history pruner with the retention of server.yaml, and its metrics. */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import { pruneFamilies, startPruner } from '../store/index.ts';
import type { Pruner, Store } from '../store/index.ts';
import type { ConfigView } from './start.ts';

export function startHistoryPruner(deps: {
  store: Store;
  view: ConfigView;
  log: Logger;
  registry: Registry;
  busyTimeoutMs: number;
}): Pruner {
  const registers = [deps.registry];
  const pruned = new Counter({
    name: 'vigo_db_pruned_rows_total',
    help: 'Rows the history pruner deleted past database.retention, by family (cascaded children not counted).',
    labelNames: ['family'],
    registers,
  });
  for (const family of pruneFamilies) pruned.inc({ family }, 0);
  const lastPass = new Gauge({
    name: 'vigo_db_prune_last_success_timestamp_seconds',
    help: 'When the history pruner last completed a pass (Unix time; 0 before the first).',
    registers,
  });
  lastPass.set(0);
  const current = (): ConfigView['current'] => deps.view.current;
  return startPruner(deps.store, {
    log: deps.log,
    busyTimeoutMs: deps.busyTimeoutMs,
    retention: () => ({
      runs: current()['database.retention.runs'],
      tasks: current()['database.retention.tasks'],
      workflows: current()['database.retention.workflows'],
      convergence_history: current()['database.retention.convergence_history'],
      deliveries: current()['database.retention.deliveries'],
    }),
    intervalMs: () => current()['database.prune_interval'],
    // A minute after start, when start-up work is done; sooner when the interval itself is shorter.
    firstPassAfterMs: Math.min(60_000, current()['database.prune_interval']),
    onPass: (report) => {
      for (const family of pruneFamilies) pruned.inc({ family }, report.deleted[family]);
      if (!report.interrupted) lastPass.set(Date.now() / 1000);
    },
  });
}
