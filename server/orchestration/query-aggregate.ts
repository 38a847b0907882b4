/**
 * What a live query collects while agents answer, in bounded memory: a count per distinct value (values
 * compared by their canonical JSON text, so {"a":1,"b":2} and {"b":2,"a":1} are one value), the first raw
 * rows and the first errors. Every list has a cap and every kept character counts against a budget; what does not
 * fit is counted, never silently dropped: `otherValues` answers carried a value beyond the distinct-value
 * budget, `errorCount` and the row count say how many there were in all.
 */
import { canonicalJson } from '../audit/index.ts';
import { VigoError, nestedDeeperThan } from '../core/index.ts';
import { protocolLimits } from '../../protocol/index.ts';
import type { CompiledQuery } from '../policy/index.ts';

export const liveQueryLimits = {
  deadlineDefaultSeconds: 10,
  deadlineMinSeconds: 1,
  deadlineMaxSeconds: 60,
  rawLimitDefault: 100,
  rawLimitMax: 1000,
  traitPathMaxBytes: protocolLimits.traitPathMaxBytes,
  /** Objects and arrays nested in one answer's value. */
  valueMaxDepth: 64,
  /** Distinct values counted one by one; answers with further values count in `otherValues`. */
  distinctValuesMax: 1000,
  /** Characters of canonical JSON kept for the distinct values of one query. */
  distinctValueTextMax: 4 * 1024 * 1024,
  /** Characters of value text repeated in the raw rows of one query. */
  rowTextMax: 4 * 1024 * 1024,
  /** Not-answered envoys listed by name (all of them are counted). */
  notAnsweredListed: 10_000,
} as const;

const segment = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/**
 * A trait path as LiveQuery carries it: 1..256 bytes of dotted segments, each letters, digits, `_` and `-`
 * (not starting with `-`), e.g. `os.version` or `host_self.fs_root_pct`.
 */
export function parseTraitPath(text: string): string {
  const bytes = Buffer.byteLength(text);
  if (bytes === 0 || bytes > liveQueryLimits.traitPathMaxBytes)
    throw new VigoError(
      'query.trait_path_invalid',
      `a trait path is 1 to ${liveQueryLimits.traitPathMaxBytes} bytes; got ${bytes}`,
      { field: 'traitPath' },
    );
  const bad = text.split('.').find((part) => !segment.test(part));
  if (bad !== undefined)
    throw new VigoError(
      'query.trait_path_invalid',
      `trait path ${JSON.stringify(text.slice(0, 80))} is not dotted names such as os.version: ` +
        `${bad === '' ? 'it has an empty segment' : `segment ${JSON.stringify(bad.slice(0, 40))} holds other characters than letters, digits, _ and -`}`,
      { field: 'traitPath' },
    );
  return text;
}

/** The canonical JSON text of an agent's value_json, or why it is not a usable value. */
export function canonicalValue(valueJson: Uint8Array): { text: string } | { problem: string } {
  if (valueJson.length === 0) return { problem: 'the agent sent neither a value nor an error' };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(valueJson.buffer, valueJson.byteOffset, valueJson.byteLength).toString());
  } catch (err) {
    return { problem: `the agent's value is not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (nestedDeeperThan(value, liveQueryLimits.valueMaxDepth))
    return { problem: `the agent's value nests deeper than ${liveQueryLimits.valueMaxDepth} levels` };
  try {
    return { text: canonicalJson(value) };
  } catch (err) {
    return { problem: `the agent's value cannot be compared: ${(err as Error).message}` };
  }
}

export interface Answerer {
  readonly envoyId: string;
  readonly hostname: string;
}

export interface ValueCount {
  /** Canonical JSON text of the value. */
  readonly text: string;
  readonly count: number;
}

export interface RawRow extends Answerer {
  /** Canonical JSON text of the value. */
  readonly text: string;
}

export interface ErrorRow extends Answerer {
  readonly error: string;
}

export class QueryAggregate {
  readonly #counts = new Map<string, number>();
  readonly #rows: RawRow[] = [];
  readonly #errors: ErrorRow[] = [];
  #valueText = 0;
  #rowText = 0;
  #otherValues = 0;
  #errorCount = 0;
  #valueCount = 0;

  /** `rawLimit` bounds both the raw rows and the errors listed. */
  constructor(private readonly rawLimit: number) {}

  addValue(who: Answerer, text: string): void {
    this.#valueCount += 1;
    const known = this.#counts.get(text);
    let kept: string | undefined;
    if (known !== undefined) {
      this.#counts.set(text, known + 1);
      kept = text;
    } else if (
      this.#counts.size < liveQueryLimits.distinctValuesMax &&
      this.#valueText + text.length <= liveQueryLimits.distinctValueTextMax
    ) {
      this.#counts.set(text, 1);
      this.#valueText += text.length;
      kept = text;
    } else {
      this.#otherValues += 1;
    }
    if (
      kept !== undefined &&
      this.#rows.length < this.rawLimit &&
      this.#rowText + kept.length <= liveQueryLimits.rowTextMax
    ) {
      this.#rows.push({ envoyId: who.envoyId, hostname: who.hostname, text: kept });
      this.#rowText += kept.length;
    }
  }

  addError(who: Answerer, error: string): void {
    this.#errorCount += 1;
    if (this.#errors.length < this.rawLimit)
      this.#errors.push({ envoyId: who.envoyId, hostname: who.hostname, error });
  }

  /** Distinct values, most frequent first (ties by their text, so the order is stable). */
  values(): ValueCount[] {
    return [...this.#counts]
      .map(([text, count]) => ({ text, count }))
      .sort((a, b) => b.count - a.count || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  }

  rows(): readonly RawRow[] {
    return this.#rows;
  }

  errors(): readonly ErrorRow[] {
    return this.#errors;
  }

  /** Answers that carried a value, counted or not. */
  get valueCount(): number {
    return this.#valueCount;
  }

  /** Answers whose value was beyond the distinct-value budget (counted here instead of in values()). */
  get otherValues(): number {
    return this.#otherValues;
  }

  get errorCount(): number {
    return this.#errorCount;
  }
}

const queryNamePattern = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** The trait path a query reads, and the named query it asks when it names one (checked here). */
export function whatToAsk(
  input: { readonly traitPath?: string; readonly name?: string },
  named: Readonly<Record<string, CompiledQuery>>,
): { traitPath: string; queryName: string | undefined } {
  const hasName = input.name !== undefined && input.name !== '';
  const hasPath = input.traitPath !== undefined && input.traitPath !== '';
  if (hasName === hasPath)
    throw new VigoError(
      'query.invalid',
      'give exactly one of traitPath (a trait to read) and name (a named query of the stacks)',
      { field: hasName ? 'name' : 'traitPath' },
    );
  if (!hasName) return { traitPath: parseTraitPath(input.traitPath!), queryName: undefined };
  const name = input.name;
  const query = queryNamePattern.test(name) && Object.hasOwn(named, name) ? named[name] : undefined;
  if (query === undefined) {
    const known = Object.keys(named);
    throw new VigoError(
      'query.unknown',
      `the active configuration defines no query ${JSON.stringify(name.slice(0, 64))}; ${
        known.length === 0
          ? 'it defines none (queries.vgo)'
          : `it defines ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`
      }`,
      { field: 'name' },
    );
  }
  return { traitPath: query.trait ?? '', queryName: name };
}
