import { VigoError } from '../../core/index.ts';
import type { ErrorCode } from '../../core/index.ts';

export interface WhenSource {
  file: string;
  line: number;
  col: number;
}

/** A problem at an offset in the expression; turned into a located VigoError by the caller. */
export class WhenFault extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'WhenFault';
  }
}

/**
 * Builds errors that point into the file: `file:line:col: reason` followed by the expression line
 * and a caret under the offending token. Later lines of a multi-line value keep the start column's
 * indentation, matching YAML block scalars.
 */
export function whenError(
  code: Extract<ErrorCode, 'policy.when_syntax' | 'policy.when_eval'>,
  text: string,
  source: WhenSource,
  offset: number,
  reason: string,
): VigoError {
  const clamped = Math.max(0, Math.min(offset, text.length));
  const lineStart = text.lastIndexOf('\n', clamped - 1) + 1;
  const lineEndAt = text.indexOf('\n', clamped);
  const lineText = text.slice(lineStart, lineEndAt < 0 ? text.length : lineEndAt);
  const linesBefore = text.slice(0, lineStart).split('\n').length - 1;
  const line = source.line + linesBefore;
  const col = source.col + (clamped - lineStart);
  const caret = `${' '.repeat(clamped - lineStart)}^`;
  const message = `${source.file}:${line}:${col}: ${reason}\n  ${lineText}\n  ${caret}`;
  return new VigoError(code, message, { file: source.file, line, col, reason });
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  // Short names are too close to everything: only a different letter case counts for them.
  let bestDistance = name.length < 3 ? 0 : Math.min(3, Math.floor(name.length / 3));
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= bestDistance && candidate !== name) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("nmae" → "name" is 1). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (rows[i - 1]?.[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (rows[i - 1]?.[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

export function listNames(names: readonly string[], max = 20): string {
  const sorted = [...names].sort();
  if (sorted.length <= max) return sorted.join(', ');
  return `${sorted.slice(0, max).join(', ')}, … (${sorted.length - max} more)`;
}
