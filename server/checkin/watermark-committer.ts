/**
 * Group commit for the replay watermark. verify.ts raises an envoy's last accepted ts_ms in memory at once
 * (so replay protection stays exact between requests); this writer makes it durable before the request is
 * answered, so a request the server answered can never be accepted again, not even after kill -9. Raises
 * from many requests are queued, written together in one SQLite transaction every few milliseconds (one
 * row per envoy, its highest ts_ms), and each caller is released only once its batch has committed. No
 * check-in does database work of its own: it only waits for the next batch.
 */
import type { Logger } from '../core/index.ts';
import type { EnvoyEntry } from '../fleet/index.ts';
import type { Store } from '../store/index.ts';

export class WatermarkNotDurableError extends Error {
  constructor(options?: ErrorOptions) {
    super("the request's timestamp could not be stored; resend it with a fresh timestamp", options);
    this.name = 'WatermarkNotDurableError';
  }
}

export interface WatermarkCommitterOptions {
  store: Store;
  log: Logger;
  /** Longest a raise waits for companions before its batch is written. */
  maxDelayMs: number;
}

export interface WatermarkCommitter {
  /**
   * Resolves once `entry`'s watermark, as raised by the request just verified, is durable; rejects with
   * WatermarkNotDurableError when its batch could not be written (the request must not be answered).
   */
  durable(entry: EnvoyEntry): Promise<void>;
  /** Writes whatever is queued now (the drain calls this). */
  drain(): void;
}

interface Raise {
  tsMs: number;
  /** The certificate the request was verified against: a re-enrollment in between must not be overwritten. */
  certFingerprint: string;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createWatermarkCommitter(options: WatermarkCommitterOptions): WatermarkCommitter {
  // Only ever raises: the flusher writes the same column with max() too, and a re-enrolled envoy's row
  // (new certificate, watermark reset) is left alone.
  const update = options.store.db.prepare<[number, string, number, string]>(
    'UPDATE envoys SET last_ts_ms = ? WHERE id = ? AND last_ts_ms < ? AND cert_fingerprint = ?',
  );
  let raises = new Map<string, Raise>();
  let waiters: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;

  const commit = (): void => {
    timer = undefined;
    const batch = raises;
    const released = waiters;
    raises = new Map();
    waiters = [];
    if (released.length === 0) return;
    try {
      options.store.tx(() => {
        for (const [id, raise] of batch) update.run(raise.tsMs, id, raise.tsMs, raise.certFingerprint);
      });
    } catch (err) {
      options.log.error('replay watermarks could not be written; the requests are refused', {
        err,
        envoys: batch.size,
      });
      const refusal = new WatermarkNotDurableError({ cause: err });
      for (const waiter of released) waiter.reject(refusal);
      return;
    }
    for (const waiter of released) waiter.resolve();
  };

  return {
    durable: (entry) => {
      const queued = raises.get(entry.id);
      if (
        queued === undefined ||
        queued.tsMs < entry.lastTsMs ||
        queued.certFingerprint !== entry.certFingerprint
      )
        raises.set(entry.id, { tsMs: entry.lastTsMs, certFingerprint: entry.certFingerprint });
      timer ??= setTimeout(commit, options.maxDelayMs);
      const done = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      // A request refused after verification no longer waits for it; its failure must not go unhandled.
      done.catch(() => undefined);
      return done;
    },
    drain: () => {
      if (timer !== undefined) clearTimeout(timer);
      commit();
    },
  };
}
