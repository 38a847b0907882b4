/** Human output: aligned tables and short relative times. Scripts use -o json or -o yaml instead. */

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** "in 23h 59m", "3m ago": the two largest units only. */
export function relativeTime(targetMs: number, nowMs: number): string {
  const deltaMs = targetMs - nowMs;
  let seconds = Math.round(Math.abs(deltaMs) / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (seconds >= size && parts.length < 2) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  const text = parts.length === 0 ? '0s' : parts.join(' ');
  return deltaMs >= 0 ? `in ${text}` : `${text} ago`;
}

/** ISO time without milliseconds, which nobody reading a table needs. */
export function shortIso(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}

/** Longest value `flattenForDisplay` prints inline; longer arrays and objects are summarised. */
const maxInlineValueLength = 80;
/** A nested object with more keys than this (a package or mount list) is one summary row. */
const maxExpandedKeys = 24;
/** Key names a summary row lists before "…". */
const summaryKeyNames = 5;

/** The summary rows `flattenForDisplay` writes start like this, so a caller can say that -o json has more. */
export function isSummarised(value: string): boolean {
  return /^\[\d+ items\]$|^\{\d+ keys: /.test(value) || value.endsWith('…');
}

/**
 * A nested object as [dotted.path, value] rows for a two-column table: scalars as they are, short
 * arrays inline as JSON, long ones as "[N items]", a nested object with many keys as one "{N keys: a, b,
 * …}" row (the -o json output has them whole).
 */
export function flattenForDisplay(value: Readonly<Record<string, unknown>>, prefix = ''): string[][] {
  const rows: string[][] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = `${prefix}${key}`;
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      const keys = Object.keys(child);
      if (keys.length > maxExpandedKeys) {
        const names = keys.slice(0, summaryKeyNames).join(', ');
        rows.push([path, `{${keys.length} keys: ${names}, …}`]);
        continue;
      }
      rows.push(...flattenForDisplay(child as Record<string, unknown>, `${path}.`));
      continue;
    }
    const text = typeof child === 'string' ? child : (JSON.stringify(child) ?? String(child));
    const summary = Array.isArray(child)
      ? `[${child.length} items]`
      : `${text.slice(0, maxInlineValueLength)}…`;
    rows.push([path, text.length <= maxInlineValueLength ? text : summary]);
  }
  return rows;
}

export interface ProgressLine {
  update(text: string): void;
  /** Clears the line, so what follows starts on a clean one. */
  done(): void;
}

/** One status line on stderr rewritten in place; silent unless `enabled` (a person is watching a terminal). */
export function progressLine(io: { err(text: string): void }, enabled: boolean): ProgressLine {
  let width = 0;
  return {
    update: (text) => {
      if (!enabled) return;
      io.err(`\r${text.padEnd(width)}`);
      width = Math.max(width, text.length);
    },
    done: () => {
      if (enabled && width > 0) io.err(`\r${' '.repeat(width)}\r`);
    },
  };
}
