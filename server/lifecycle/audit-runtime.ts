/**
 * The audit chain as the running server holds it: the alarm (an event on the bus, an error log line and the
 * `vigo_audit_chain_broken` gauge) and the server's own entries. A broken chain never stops the server:
 * start-up checks the head (two indexed reads, not a walk of the whole chain, which would grow with history
 * and delay readiness by seconds per million entries), reports a break, and keeps serving check-ins, reads
 * and /healthz. The server's own entries (start, stop, reloads) are then left out and logged instead, while
 * everything a person asks for is refused with `audit.chain_broken` until an admin re-anchors the chain.
 */
import type { KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Registry } from 'prom-client';
import { appendAudit, createAuditMonitor, createCheckpointExporter } from '../audit/index.ts';
import type { AuditChainBreak, AuditEntry, AuditMonitor, AuditRecord } from '../audit/index.ts';
import type { ResolvedPaths, ServerConfig } from '../config/index.ts';
import { isVigoError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { EventBus, EventData } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import { StartupError } from './startup-error.ts';

/** A receiver gets this long to take a checkpoint; the next one supersedes a lost one anyway. */
const webhookTimeoutMs = 10_000;

export interface CheckpointSettings {
  /** The bundle-signing key: checkpoints are signed with it under their own signature domain. */
  readonly signingKey: KeyObject;
  readonly intervalMs: number;
  readonly file: string;
  /** '' for none. */
  readonly webhook: string;
  readonly userAgent: string;
}

export interface AuditRuntime {
  readonly monitor: AuditMonitor;
  /**
   * Appends one of the server's own entries. Returns false, after logging what went unrecorded, when the
   * chain is broken: start, drain and reloads must not fail over it (the alarm is already raised).
   */
  appendSystem(entry: Omit<AuditEntry, 'actor'>): boolean;
  /**
   * Runs a start-up step that audits itself (minting the admin bootstrap secret); on a broken chain it is
   * skipped with an error log naming `what`, and undefined returned.
   */
  unlessChainBroken<T>(what: string, step: () => T): T | undefined;
  /** The first periodic checkpoint now (after server.start is recorded), then one every interval. */
  startCheckpoints(): void;
  /** Stops periodic checkpoints, waiting for one in flight. */
  stopCheckpoints(): Promise<void>;
  close(): void;
}

/** The audit.checkpoint_* options as the runtime needs them. */
export function checkpointSettings(
  config: ServerConfig,
  paths: ResolvedPaths,
  signingKey: KeyObject,
  version: string,
): CheckpointSettings {
  return {
    signingKey,
    intervalMs: config['audit.checkpoint_interval'],
    file: paths.auditCheckpointFile,
    webhook: config['audit.checkpoint_webhook'],
    userAgent: `vigosrv/${version}`,
  };
}

/** A checkpoint file in a directory that does not exist is a mistake in the configuration: refuse to start. */
function checkCheckpointFile(file: string): void {
  const dir = dirname(file);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) {
    throw new StartupError(
      'config',
      `audit.checkpoint_file ${file}: the directory ${dir} does not exist; create it, or set another file`,
    );
  }
}

function isChainBroken(err: unknown): boolean {
  return isVigoError(err) && err.code === 'audit.chain_broken';
}

function headData(head: { seq: number; hash: string } | null): EventData[string] {
  return head === null ? null : { seq: head.seq, hash: head.hash };
}

function brokenEvent(damage: AuditChainBreak): EventData {
  return {
    problem: damage.problem,
    recordedHead: headData(damage.recordedHead),
    lastEntry: headData(damage.lastEntry),
  };
}

function reanchoredEvent(record: AuditRecord): EventData {
  const { reason, problem } = record.details;
  return {
    seq: record.seq,
    by: record.actor,
    reason: typeof reason === 'string' ? reason : '',
    problem: typeof problem === 'string' ? problem : '',
  };
}

export function createAuditRuntime(deps: {
  store: Store;
  log: Logger;
  registry: Registry;
  bus: EventBus;
  checkpoints: CheckpointSettings;
}): AuditRuntime {
  const log = deps.log.child({ component: 'audit' });
  const settings = deps.checkpoints;
  if (settings.intervalMs > 0) checkCheckpointFile(settings.file);
  const exporter = createCheckpointExporter({
    db: deps.store.db,
    signingKey: settings.signingKey,
    intervalMs: settings.intervalMs,
    file: settings.file,
    webhook: settings.webhook === '' ? undefined : new URL(settings.webhook),
    webhookTimeoutMs,
    userAgent: settings.userAgent,
    log,
    registry: deps.registry,
  });
  const monitor = createAuditMonitor({
    db: deps.store.db,
    log,
    registry: deps.registry,
    handlers: {
      onBroken: (damage) => deps.bus.publish('audit.chain_broken', brokenEvent(damage), 'audit'),
      onReanchored: (record) => deps.bus.publish('audit.reanchored', reanchoredEvent(record), 'audit'),
    },
  });
  monitor.check();
  return {
    monitor,
    appendSystem(entry) {
      try {
        deps.store.tx((db) => appendAudit(db, { ...entry, actor: 'system' }));
        return true;
      } catch (err) {
        if (!isChainBroken(err)) throw err;
        log.error('server event not recorded in the audit log: the chain is broken', {
          action: entry.action,
          details: entry.details,
        });
        return false;
      }
    },
    unlessChainBroken(what, step) {
      try {
        return step();
      } catch (err) {
        if (!isChainBroken(err)) throw err;
        log.error(`${what} skipped: it cannot be audited while the audit chain is broken`);
        return undefined;
      }
    },
    startCheckpoints: () => exporter.start(),
    stopCheckpoints: () => exporter.stop(),
    close: () => {
      void exporter.stop();
      monitor.close();
    },
  };
}
