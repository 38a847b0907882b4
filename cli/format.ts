/** Human output: aligned tables and short relative times. Scripts use --json instead. */

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
