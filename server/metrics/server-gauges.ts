/**
 * Gauges of the server's own machinery, each read from memory (or one file stat) when scraped: which build
 * runs, how large the database files are, how full the results queue is, and how far the fleet flusher is
 * behind.
 */
import { statSync } from 'node:fs';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export interface ServerGaugeSources {
  readonly version: string;
  /** The SQLite database file; its `-wal` file is counted with it. */
  readonly databaseFile: string;
  /** Resource results queued for the next group commit, and how many the queue holds at most. */
  readonly resultsQueued: () => number;
  readonly resultsCapacity: number;
  /** Envoys changed in memory and not yet written by the flusher. */
  readonly flushPending: () => number;
  /** When the flusher last finished writing everything it had taken (epoch ms; 0: not yet). */
  readonly lastFlushAtMs: () => number;
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function registerServerGauges(registry: Registry, sources: ServerGaugeSources): void {
  const registers = [registry];
  new Gauge({
    name: 'vigo_build_info',
    help: 'Always 1; the labels say which vigosrv version runs on which Node.js.',
    labelNames: ['version', 'node_version'],
    registers,
  }).set({ version: sources.version, node_version: process.version }, 1);
  new Gauge({
    name: 'vigo_database_size_bytes',
    help: 'Size of the SQLite database on disk: the database file plus its write-ahead log.',
    registers,
    collect() {
      this.set(fileBytes(sources.databaseFile) + fileBytes(`${sources.databaseFile}-wal`));
    },
  });
  new Gauge({
    name: 'vigo_results_queue_depth',
    help: 'Resource results from run reports waiting for their group commit.',
    registers,
    collect() {
      this.set(sources.resultsQueued());
    },
  });
  new Gauge({
    name: 'vigo_results_queue_capacity',
    help: 'Resource results the queue holds before ReportResults is refused with results.queue_full.',
    registers,
  }).set(sources.resultsCapacity);
  new Gauge({
    name: 'vigo_fleet_flush_pending_envoys',
    help: 'Envoys whose check-in state changed in memory and is not yet written to the database.',
    registers,
    collect() {
      this.set(sources.flushPending());
    },
  });
  new Gauge({
    name: 'vigo_fleet_last_flush_timestamp_seconds',
    help: 'When the fleet flusher last finished writing what it had taken (Unix time; 0 before the first flush).',
    registers,
    collect() {
      this.set(sources.lastFlushAtMs() / 1000);
    },
  });
}
