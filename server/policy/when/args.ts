import { ArgError, parseVersion } from './builtins.ts';
import type { ParamKind } from './builtins.ts';

/**
 * Argument checking and normalization for builtins, shared by the parser (literal arguments are
 * checked at publish) and the evaluator (arguments computed from vars). Numbers may also arrive as
 * numeric strings, since YAML vars are often quoted.
 */

const dayNames = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function wholeNumber(value: unknown, min: number, max: number, what: string): number {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ArgError(`${what} must be a whole number from ${min} to ${max}, got ${describe(value)}`);
  }
  return n;
}

function day(token: string): number {
  const word = token.trim().toLowerCase();
  if (/^\d+$/.test(word)) {
    const n = Number(word);
    if (n > 7)
      throw new ArgError(`day ${JSON.stringify(token)} is out of range: use 0-6 (0 = Sunday) or a name`);
    return n % 7;
  }
  const index = dayNames.findIndex((name) => word.length >= 3 && name.startsWith(word));
  if (index < 0)
    throw new ArgError(`unknown day ${JSON.stringify(token)}: use mon, tue, … sun, or 0-6 with 0 = Sunday`);
  return index;
}

/** "mon", "monday", "1", "mon,wed,fri", "mon-fri", "fri-mon" (wraps), or a number 0-6. */
export function parseWeekdays(value: unknown): Set<number> {
  if (typeof value === 'number') return new Set([wholeNumber(value, 0, 7, 'a day of the week') % 7]);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ArgError(`expected a day such as "mon" or "mon-fri", got ${describe(value)}`);
  }
  const days = new Set<number>();
  for (const item of value.split(',')) {
    const [from, to, extra] = item.split('-');
    if (extra !== undefined || from === undefined)
      throw new ArgError(`bad day range ${JSON.stringify(item)}`);
    const start = day(from);
    const end = to === undefined ? start : day(to);
    for (let d = start; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === end) break;
    }
  }
  return days;
}

/** 15, "1,15", "1-7" or a mix; days 1-31. */
export function parseMonthdays(value: unknown): Set<number> {
  if (typeof value === 'number') return new Set([wholeNumber(value, 1, 31, 'a day of the month')]);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ArgError(`expected a day of the month such as 1 or "1,15", got ${describe(value)}`);
  }
  const days = new Set<number>();
  for (const item of value.split(',')) {
    const [from, to, extra] = item.split('-');
    if (extra !== undefined || from === undefined)
      throw new ArgError(`bad day range ${JSON.stringify(item)}`);
    const start = wholeNumber(from, 1, 31, 'a day of the month');
    const end = to === undefined ? start : wholeNumber(to, 1, 31, 'a day of the month');
    if (end < start) throw new ArgError(`day range ${JSON.stringify(item)} runs backwards`);
    for (let d = start; d <= end; d++) days.add(d);
  }
  return days;
}

export function normalizeArg(kind: ParamKind, value: unknown): unknown {
  switch (kind) {
    case 'text':
      if (typeof value !== 'string' || value === '')
        throw new ArgError(`expected a non-empty string, got ${describe(value)}`);
      return value;
    case 'version': {
      if (typeof value === 'number' && !Number.isInteger(value)) {
        throw new ArgError(
          `write the version as a string, e.g. "${value}": as a number 22.10 would read as 22.1`,
        );
      }
      const parsed =
        typeof value === 'string' || typeof value === 'number' ? parseVersion(String(value)) : undefined;
      if (parsed === undefined)
        throw new ArgError(`expected a dotted version such as "22.04", got ${describe(value)}`);
      return parsed;
    }
    case 'megabytes': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
        throw new ArgError(`expected a size in MiB, got ${describe(value)}`);
      }
      return n;
    }
    case 'hour':
      return wholeNumber(value, 0, 23, 'an hour');
    case 'minute':
      return wholeNumber(value, 0, 59, 'a minute');
    case 'weekdays':
      return parseWeekdays(value);
    case 'monthdays':
      return parseMonthdays(value);
  }
}
