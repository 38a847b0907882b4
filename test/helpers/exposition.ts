/** Reads the Prometheus text exposition format, for tests that check what /metrics exports. */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  /** Metric family name → its declared type (counter, gauge, histogram, …). */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** The family a sample name belongs to (`x_bucket` → `x` for a histogram), or undefined. */
  familyOf(sampleName: string): string | undefined;
  /** Samples of one family's own name with exactly these labels (a subset match). */
  find(name: string, labels?: Record<string, string>): Sample[];
}

const samplePattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = samplePattern.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(labelPattern))
      labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  const familyOf = (sampleName: string): string | undefined => {
    if (types.has(sampleName)) return sampleName;
    const base = sampleName.replace(/_(bucket|sum|count)$/, '');
    return base !== sampleName && (types.get(base) === 'histogram' || types.get(base) === 'summary')
      ? base
      : undefined;
  };
  return {
    types,
    samples,
    familyOf,
    find: (name, labels = {}) =>
      samples.filter(
        (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
      ),
  };
}
