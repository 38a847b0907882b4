/**
 * Check-ins per minute over the last hour, for the dashboard: a ring of 60 one-minute buckets counted in
 * memory by the check-in path (an array slot increment: no allocation, no I/O). Counts start with the
 * process; minutes before it are zero.
 */
import type { CheckinStatus } from './metrics.ts';

export const checkinRateMinutes = 60;
const minuteMs = 60_000;

export interface CheckinMinute {
  /** Start of the minute (ms since the epoch). */
  readonly startMs: number;
  readonly noChange: number;
  readonly bundle: number;
  readonly refused: number;
}

export interface CheckinRate {
  record(status: CheckinStatus, nowMs: number): void;
  /** The last `minutes` whole or current minutes (at most 60), oldest first; the last is the current one. */
  perMinute(nowMs: number, minutes: number): CheckinMinute[];
}

export function createCheckinRate(): CheckinRate {
  const minuteOf = new Float64Array(checkinRateMinutes).fill(-1);
  const counts = {
    no_change: new Uint32Array(checkinRateMinutes),
    bundle: new Uint32Array(checkinRateMinutes),
    refused: new Uint32Array(checkinRateMinutes),
  } as const;
  return {
    record(status, nowMs) {
      const minute = Math.floor(nowMs / minuteMs);
      const slot = minute % checkinRateMinutes;
      if (minuteOf[slot] !== minute) {
        minuteOf[slot] = minute;
        counts.no_change[slot] = 0;
        counts.bundle[slot] = 0;
        counts.refused[slot] = 0;
      }
      counts[status][slot] = (counts[status][slot] ?? 0) + 1;
    },
    perMinute(nowMs, minutes) {
      const shown = Math.max(1, Math.min(checkinRateMinutes, Math.floor(minutes)));
      const current = Math.floor(nowMs / minuteMs);
      const out: CheckinMinute[] = [];
      for (let minute = current - shown + 1; minute <= current; minute++) {
        const slot = minute % checkinRateMinutes;
        const known = minuteOf[slot] === minute;
        out.push({
          startMs: minute * minuteMs,
          noChange: known ? (counts.no_change[slot] ?? 0) : 0,
          bundle: known ? (counts.bundle[slot] ?? 0) : 0,
          refused: known ? (counts.refused[slot] ?? 0) : 0,
        });
      }
      return out;
    },
  };
}
