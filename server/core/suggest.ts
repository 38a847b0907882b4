/** "Did you mean" hints for misspelt keys, flags, functions and names, shared by every parser. */

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("nmae" → "name" is 1). */
export function editDistance(a: string, b: string): number {
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

/**
 * The closest candidate within a small edit distance (case-insensitive): at most a third of the name's
 * length and never more than 3 edits. Names shorter than 3 characters only match a different letter case.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = name.length < 3 ? 0 : Math.min(3, Math.floor(name.length / 3));
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= bestDistance) {
      best = candidate;
      bestDistance = distance;
      if (distance === 0) break;
    }
  }
  return best;
}

/** "a, b, c" capped so a map with thousands of keys doesn't flood an error message. */
export function listNames(names: readonly string[], max = 20): string {
  const sorted = [...names].sort();
  if (sorted.length <= max) return sorted.join(', ');
  return `${sorted.slice(0, max).join(', ')}, … (${sorted.length - max} more)`;
}
