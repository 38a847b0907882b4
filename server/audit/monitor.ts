/**
 * The alarm for a broken chain head. It is raised wherever the break is first seen: at start-up, on a
 * refused append, or at the periodic inspection of the head (every `checkIntervalMs`, so an alert fires
 * even on a server where nothing is being audited). Raising it logs at error level and calls `onBroken`
 * once per break; the server keeps serving throughout. The gauges report what the last look found: a
 * scrape never reads the database.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { watchAuditRefusals } from './chain.ts';
import type { AuditRecord } from './chain.ts';
import { inspectAuditHead } from './head.ts';
import type { AuditChainBreak } from './head.ts';

export interface AuditAlarmHandlers {
  /** A new break was found (once per distinct break, until the head is intact again). */
  onBroken(damage: AuditChainBreak): void;
  /** A re-anchoring committed. */
  onReanchored(record: AuditRecord): void;
}

export interface AuditMonitorOptions {
  readonly db: Db;
  readonly log: Logger;
  readonly registry: Registry;
  readonly handlers: AuditAlarmHandlers;
  /** How often the head is inspected; 15 s by default. */
  readonly checkIntervalMs?: number;
}

const defaultCheckIntervalMs = 15_000;

export interface AuditMonitor {
  /** Inspects the head now, raising the alarm on a new break; returns the damage, or undefined when intact. */
  check(): AuditChainBreak | undefined;
  /** Called after a re-anchoring committed: records it in the log and the handlers, then re-checks. */
  reanchored(record: AuditRecord): void;
  /** The break last seen, if the head was broken at the last look. */
  readonly broken: AuditChainBreak | undefined;
  /** Stops listening for refusals and stops the periodic inspection. */
  close(): void;
}

function damageFields(damage: AuditChainBreak): Record<string, unknown> {
  return { problem: damage.problem, recordedHead: damage.recordedHead, lastEntry: damage.lastEntry };
}

export function createAuditMonitor(options: AuditMonitorOptions): AuditMonitor {
  const { db, log, handlers } = options;
  let current: AuditChainBreak | undefined;

  const observe = (damage: AuditChainBreak | undefined): void => {
    if (damage === undefined) {
      if (current !== undefined) log.warn('the audit chain head matches its newest entry again');
      current = undefined;
      return;
    }
    if (current?.problem === damage.problem) return;
    current = damage;
    log.error(
      'the audit chain is broken: privileged actions are refused until an admin runs "vigocli audit reanchor"',
      damageFields(damage),
    );
    handlers.onBroken(damage);
  };

  let chainLength = 0;
  const check = (): AuditChainBreak | undefined => {
    const inspection = db.transaction(() => inspectAuditHead(db)).deferred();
    chainLength = inspection.intact ? (inspection.head?.seq ?? 0) : (inspection.damage.lastEntry?.seq ?? 0);
    observe(inspection.intact ? undefined : inspection.damage);
    return current;
  };

  const refused = new Counter({
    name: 'vigo_audit_appends_refused_total',
    help: 'Audited actions refused because the audit chain head did not match its newest entry.',
    registers: [options.registry],
  });
  new Gauge({
    name: 'vigo_audit_chain_broken',
    help: 'Whether the audit chain head fails to match its newest entry (1) or holds (0), as last inspected.',
    registers: [options.registry],
    collect() {
      this.set(current === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'vigo_audit_chain_length',
    help: 'Entries in the audit chain (the sequence number of its newest entry), as last inspected.',
    registers: [options.registry],
    collect() {
      this.set(chainLength);
    },
  });
  const inspector = setInterval(() => {
    try {
      check();
    } catch (err) {
      log.error('the audit chain head could not be inspected', { err });
    }
  }, options.checkIntervalMs ?? defaultCheckIntervalMs);
  inspector.unref();
  const stopWatching = watchAuditRefusals(db, (damage, action) => {
    refused.inc();
    log.error('audited action refused: the audit chain is broken', { action, problem: damage.problem });
    observe(damage);
  });

  return {
    check,
    reanchored(record) {
      log.warn('the audit chain was re-anchored; the break stays recorded in the chain', {
        seq: record.seq,
        actor: record.actor,
        details: record.details,
      });
      handlers.onReanchored(record);
      current = undefined;
      check();
    },
    get broken() {
      return current;
    },
    close: () => {
      clearInterval(inspector);
      stopWatching();
    },
  };
}
