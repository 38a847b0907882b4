/**
 * The compliance tables (migrations/0007_compliance.sql): the last outcome of each claiming resource per
 * envoy, and the waivers whose expiry was announced.
 */
import type { Db } from '../store/index.ts';
import type { ResourceOutcome, StoredOutcome } from './model.ts';
import { outcomeKey } from './model.ts';

interface OutcomeRow {
  envoy_id: string;
  configcrate: string;
  resource_id: string;
  outcome: ResourceOutcome;
  run_id: string;
  run_started_at: number;
}

/** Every stored outcome, by envoy (once, at boot). */
export function loadOutcomes(db: Db): Map<string, Map<string, StoredOutcome>> {
  const out = new Map<string, Map<string, StoredOutcome>>();
  const rows = db
    .prepare<[], OutcomeRow>(
      'SELECT envoy_id, configcrate, resource_id, outcome, run_id, run_started_at FROM compliance_outcomes',
    )
    .iterate();
  for (const row of rows) {
    let map = out.get(row.envoy_id);
    if (map === undefined) out.set(row.envoy_id, (map = new Map<string, StoredOutcome>()));
    map.set(outcomeKey(row.configcrate, row.resource_id), {
      outcome: row.outcome,
      runId: row.run_id,
      runStartedAtMs: row.run_started_at,
    });
  }
  return out;
}

export interface OutcomeWriter {
  write(
    envoyId: string,
    configcrate: string,
    resourceId: string,
    outcome: ResourceOutcome,
    runId: string,
    runStartedAtMs: number,
  ): void;
}

export function prepareOutcomeWriter(db: Db): OutcomeWriter {
  const upsert = db.prepare(
    `INSERT INTO compliance_outcomes (envoy_id, configcrate, resource_id, outcome, run_id, run_started_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (envoy_id, configcrate, resource_id) DO UPDATE SET outcome = excluded.outcome,
       run_id = excluded.run_id, run_started_at = excluded.run_started_at
     WHERE excluded.run_started_at >= compliance_outcomes.run_started_at`,
  );
  return {
    write: (envoyId, configcrate, resourceId, outcome, runId, runStartedAtMs) =>
      void upsert.run(envoyId, configcrate, resourceId, outcome, runId, runStartedAtMs),
  };
}

export interface ExpiryLedger {
  /** Records that `waiverId`'s expiry is announced; true the first time only. */
  announce(
    waiver: { id: string; framework: string; control: string; expiresAtMs: number },
    atMs: number,
  ): boolean;
  announced(waiverId: string): boolean;
}

export function prepareExpiryLedger(db: Db): ExpiryLedger {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO compliance_waiver_expiries (waiver_id, framework, control, expires_at, announced_at)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const exists = db
    .prepare<[string], number>('SELECT 1 FROM compliance_waiver_expiries WHERE waiver_id = ?')
    .pluck();
  return {
    announce: (w, atMs) => insert.run(w.id, w.framework, w.control, w.expiresAtMs, atMs).changes === 1,
    announced: (waiverId) => exists.get(waiverId) === 1,
  };
}
