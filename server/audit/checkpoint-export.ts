/**
 * Periodic checkpoints: one at start, then one every interval, each appended as a JSON line to a file and/or
 * POSTed to a webhook. Either destination failing is logged and counted, never fatal: the next checkpoint
 * supersedes a lost one. Nothing is retried, and a slow webhook never stacks up exports (a tick that finds
 * the previous export still running is skipped).
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { isVigoError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { createAuditCheckpoint } from './checkpoint.ts';

export interface CheckpointExportOptions {
  readonly db: Db;
  readonly signingKey: KeyObject;
  /** 0 turns periodic checkpoints off. */
  readonly intervalMs: number;
  /** Absolute path of the JSON-lines file, or undefined for none. */
  readonly file: string | undefined;
  readonly webhook: URL | undefined;
  readonly webhookTimeoutMs: number;
  readonly userAgent: string;
  readonly log: Logger;
  readonly registry: Registry;
}

export interface CheckpointExporter {
  /** Takes a checkpoint and delivers it to every destination; never rejects. */
  exportNow(): Promise<void>;
  /** The first export now, then one every interval (nothing when the interval is 0 or no destination is set). */
  start(): void;
  /** Stops the timer and waits for an export in flight. */
  stop(): Promise<void>;
}

type Destination = 'file' | 'webhook';
type Outcome = 'ok' | 'failed' | 'refused';

function appendLine(file: string, line: string): void {
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The webhook as logs may show it: never its credentials or query string. */
function webhookName(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function post(url: URL, body: string, options: CheckpointExportOptions): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': options.userAgent },
    body,
    redirect: 'error',
    signal: AbortSignal.timeout(options.webhookTimeoutMs),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the receiver answered HTTP ${response.status}`);
}

export function createCheckpointExporter(options: CheckpointExportOptions): CheckpointExporter {
  const { log } = options;
  const exported = new Counter({
    name: 'vigo_audit_checkpoints_total',
    help: 'Periodic audit checkpoints by destination and outcome (ok, failed, or refused: the chain was broken).',
    labelNames: ['destination', 'outcome'],
    registers: [options.registry],
  });
  const destinations: Destination[] = [
    ...(options.file === undefined ? [] : (['file'] as const)),
    ...(options.webhook === undefined ? [] : (['webhook'] as const)),
  ];
  // Every outcome of every configured destination starts at zero, so an alert on failures works at once.
  for (const destination of destinations)
    for (const outcome of ['ok', 'failed', 'refused'] as const) exported.inc({ destination, outcome }, 0);
  const count = (destination: Destination, outcome: Outcome): void => {
    exported.inc({ destination, outcome });
  };

  const deliver = async (destination: Destination, line: string, seq: number): Promise<void> => {
    try {
      if (destination === 'file' && options.file !== undefined) appendLine(options.file, line);
      if (destination === 'webhook' && options.webhook !== undefined)
        await post(options.webhook, line, options);
      count(destination, 'ok');
      log.debug('audit checkpoint exported', { destination, seq });
    } catch (err) {
      count(destination, 'failed');
      const where = destination === 'file' ? options.file : options.webhook && webhookName(options.webhook);
      log.warn('audit checkpoint could not be exported', {
        destination,
        to: where,
        seq,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  };

  const exportNow = async (): Promise<void> => {
    let line: string;
    let seq: number;
    try {
      const checkpoint = createAuditCheckpoint(options.db, options.signingKey);
      line = `${JSON.stringify(checkpoint)}\n`;
      seq = checkpoint.seq;
    } catch (err) {
      for (const destination of destinations) count(destination, 'refused');
      if (isVigoError(err) && err.code === 'audit.chain_broken')
        log.warn('audit checkpoint not taken: the audit chain head is damaged', {
          problem: err.details['problem'],
        });
      else log.error('audit checkpoint failed', { error: err instanceof Error ? err.message : String(err) });
      return;
    }
    await Promise.all(destinations.map((destination) => deliver(destination, line, seq)));
  };

  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  const tick = (): void => {
    if (inFlight !== undefined) {
      log.debug('previous audit checkpoint still being exported; skipping this one');
      return;
    }
    inFlight = exportNow().finally(() => (inFlight = undefined));
  };

  return {
    exportNow,
    start() {
      if (options.intervalMs === 0 || destinations.length === 0 || timer !== undefined) return;
      tick();
      timer = setInterval(tick, options.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
