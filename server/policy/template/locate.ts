import { VigoError } from '../../core/index.ts';

export interface TemplateSource {
  file: string;
  line: number;
  col: number;
}

/**
 * Maps offsets inside a template string back to its file. Lines after the first keep the start
 * column's indentation: a YAML block scalar strips the same indentation from every line, so adding
 * it back lands on the right column in the file; template files start at 1:1, where this is a no-op.
 */
export class Locator {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly source: TemplateSource,
    text: string,
  ) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  position(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const col = offset - (this.lineStarts[lo] ?? 0) + this.source.col;
    return { line: this.source.line + lo, col };
  }

  /** The error every template failure becomes: message prefixed with file:line:col, details for tools. */
  error(offset: number, reason: string): VigoError {
    const { line, col } = this.position(offset);
    const file = this.source.file;
    return new VigoError('policy.template', `${file}:${line}:${col}: ${reason}`, {
      file,
      line,
      col,
      reason,
    });
  }
}

/** A failure found before its position is known; the caller that knows the offset converts it. */
export class TemplateFault extends Error {
  constructor(
    message: string,
    readonly offset: number | undefined = undefined,
  ) {
    super(message);
    this.name = 'TemplateFault';
  }
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
      if (distance === 0) break;
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

/** "a, b, c" capped so a map with thousands of keys doesn't flood an error message. */
export function listNames(names: readonly string[], max = 20): string {
  const sorted = [...names].sort();
  if (sorted.length <= max) return sorted.join(', ');
  return `${sorted.slice(0, max).join(', ')}, … (${sorted.length - max} more)`;
}
