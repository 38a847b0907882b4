/**
 * Runs waiting to be acknowledged by the server, one file per run, oldest first. A run is removed only
 * after the server acknowledges it (accepted, or rejected for good), so results survive a server
 * outage and an agent restart, and a resend after a lost ack is harmless: the server is idempotent
 * on run ids.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunRecord } from '../engine/index.ts';
import { ensureDir, writeFileAtomic } from './state-dir.ts';

/** Oldest runs are dropped beyond this, so a host cut off for weeks does not fill its disk. */
export const maxQueuedRuns = 2000;

export class ResultsQueue {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    ensureDir(dir);
  }

  #fileOf(run: RunRecord): string {
    return path.join(this.#dir, `${String(run.startedAtMs).padStart(15, '0')}-${run.runId}.json`);
  }

  #files(): string[] {
    return fs
      .readdirSync(this.#dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  }

  add(run: RunRecord): void {
    writeFileAtomic(this.#fileOf(run), JSON.stringify(run));
    const files = this.#files();
    for (const old of files.slice(0, Math.max(0, files.length - maxQueuedRuns)))
      fs.rmSync(path.join(this.#dir, old), { force: true });
  }

  size(): number {
    return this.#files().length;
  }

  /** Up to `limit` runs, oldest first. Unreadable files are removed (they can never be sent). */
  oldest(limit: number): RunRecord[] {
    const runs: RunRecord[] = [];
    for (const file of this.#files()) {
      if (runs.length >= limit) break;
      try {
        runs.push(JSON.parse(fs.readFileSync(path.join(this.#dir, file), 'utf8')) as RunRecord);
      } catch {
        fs.rmSync(path.join(this.#dir, file), { force: true });
      }
    }
    return runs;
  }

  remove(runIds: ReadonlySet<string>): void {
    for (const file of this.#files()) {
      const id = file.slice(16, -'.json'.length);
      if (runIds.has(id)) fs.rmSync(path.join(this.#dir, file), { force: true });
    }
  }
}
