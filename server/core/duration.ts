/**
 * Go-style durations ("90s", "5m", "24h", "1h30m", "250ms"), the form Vigo's server.yaml uses.
 * "0" and "0s" are zero.
 */

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const partPattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Parses a duration into milliseconds, or returns undefined when the text is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (trimmed === '') return undefined;
  partPattern.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = partPattern.exec(trimmed); m !== null; m = partPattern.exec(trimmed)) {
    const [whole, amount, unit] = m;
    total += Number(amount) * (unitMs[unit as string] ?? 0);
    consumed += whole.length;
  }
  return consumed === trimmed.length ? Math.round(total) : undefined;
}

export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
