/**
 * Value parsers shared by every option. server.yaml gives typed YAML values (a duration must be a
 * string, a flag a boolean); environment variables and flags give text, which each parser reads with
 * its own, documented spelling (booleans accept true/false/1/0/yes/no/on/off, lists are comma-separated).
 */
import net from 'node:net';
import { formatDurationMs, parseDurationMs } from '../core/index.ts';

/** A bad value. The message finishes the sentence "<key>: …" and says what was expected and what was given. */
export class InvalidValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidValueError';
  }
}

/** How a value reached the parser: as a YAML value from server.yaml, or as text from the environment or a flag. */
export type ValueOrigin = 'file' | 'text';

/** A listen address: host '' means every interface, port 0 an ephemeral port. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** A short, quoted rendering of any raw value for error messages. */
export function describeRaw(raw: unknown): string {
  if (raw === null || raw === undefined) return 'nothing (an empty value)';
  if (typeof raw === 'string') return `${JSON.stringify(raw)} (a string)`;
  if (typeof raw === 'number') return `${String(raw)} (a number)`;
  if (typeof raw === 'boolean') return `${String(raw)} (a boolean)`;
  if (Array.isArray(raw)) return 'a list';
  return 'a mapping';
}

export function fail(expected: string, raw: unknown, why?: string): never {
  const reason = why === undefined ? '' : ` (${why})`;
  throw new InvalidValueError(`expected ${expected}, got ${describeRaw(raw)}${reason}`);
}

const hostnamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function isHostname(text: string): boolean {
  return hostnamePattern.test(text);
}

/** An http(s) URL a server may POST to; credentials in it are allowed, a fragment is not. */
export function isWebhookUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' && url.hash === '';
}

/** A DNS name (optionally a leading "*." wildcard) or an IP address, as a certificate SAN may hold. */
export function isSubjectAltName(text: string): boolean {
  if (net.isIP(text) !== 0) return true;
  return isHostname(text.startsWith('*.') ? text.slice(2) : text);
}

export const listenExpected = 'a listen address host:port such as ":1530", "127.0.0.1:8443" or "[::1]:8443"';
const listenPattern = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/;

export function parseListenAddress(raw: unknown): ListenAddress {
  if (typeof raw === 'number')
    fail(listenExpected, raw, `write ":${String(raw)}" to listen on every interface`);
  if (typeof raw !== 'string') fail(listenExpected, raw);
  const match = listenPattern.exec(raw.trim());
  if (match === null) fail(listenExpected, raw);
  const [, bracketed, plain, portText] = match;
  const port = Number(portText);
  if (port > 65535) fail(listenExpected, raw, `port ${String(port)} is outside 0-65535`);
  if (bracketed !== undefined) {
    if (net.isIPv6(bracketed)) return { host: bracketed, port };
    fail(listenExpected, raw, `"${bracketed}" in brackets is not an IPv6 address`);
  }
  const host = plain ?? '';
  if (host !== '' && !isHostname(host) && net.isIPv4(host) === false) {
    fail(listenExpected, raw, `"${host}" is not a host name or IP address`);
  }
  return { host, port };
}

export function formatListenAddress(address: ListenAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${String(address.port)}`;
}

export const durationExpected = 'a duration such as "90s", "5m", "24h" or "1h30m"';

export function parseDuration(raw: unknown, minMs: number): number {
  // A bare 0 is unambiguous; any other bare number lacks its unit.
  if (raw === 0) return checkMin(0, raw, minMs);
  if (typeof raw === 'number') fail(durationExpected, raw, `add a unit, e.g. "${String(raw)}s"`);
  if (typeof raw !== 'string') fail(durationExpected, raw);
  const ms = parseDurationMs(raw);
  if (ms === undefined) fail(durationExpected, raw);
  return checkMin(ms, raw, minMs);
}

function checkMin(ms: number, raw: unknown, minMs: number): number {
  if (ms >= minMs) return ms;
  const bound = minMs <= 1 ? 'greater than 0' : `at least ${formatDurationMs(minMs)}`;
  return fail(`${durationExpected} ${bound}`, raw);
}

export const booleanExpected = 'true or false';
const textBooleans: Record<string, boolean> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

export function parseBoolean(raw: unknown, origin: ValueOrigin): boolean {
  if (typeof raw === 'boolean') return raw;
  if (origin === 'text' && typeof raw === 'string') {
    const value = textBooleans[raw.trim().toLowerCase()];
    if (value !== undefined) return value;
    fail('true, false, 1, 0, yes, no, on or off', raw);
  }
  return fail(booleanExpected, raw);
}

function numberFrom(raw: unknown, origin: ValueOrigin, pattern: RegExp): number | undefined {
  if (typeof raw === 'number') return raw;
  if (origin === 'text' && typeof raw === 'string' && pattern.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

export function parseInteger(
  raw: unknown,
  origin: ValueOrigin,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const expected =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number of at least ${String(min)}`
      : `a whole number from ${String(min)} to ${String(max)}`;
  const value = numberFrom(raw, origin, /^\d+$/);
  if (value === undefined || !Number.isSafeInteger(value) || value < min || value > max) fail(expected, raw);
  return value;
}

export function parseNumberAbove(raw: unknown, origin: ValueOrigin, greaterThan: number): number {
  const expected = `a number greater than ${String(greaterThan)}`;
  const value = numberFrom(raw, origin, /^\d+(?:\.\d+)?$/);
  if (value === undefined || !Number.isFinite(value) || value <= greaterThan) fail(expected, raw);
  return value;
}

export function parseChoice<V extends string>(raw: unknown, values: readonly V[]): V {
  const expected = `one of ${values.join(', ')}`;
  if (typeof raw !== 'string') fail(expected, raw);
  const found = values.find((v) => v === raw.trim());
  if (found === undefined) fail(expected, raw);
  return found;
}

export interface ListItemRule {
  /** What one item must be, e.g. "a DNS name or IP address". */
  readonly item: string;
  /** The same in the plural, e.g. "DNS names or IP addresses". */
  readonly items: string;
  readonly accepts: (item: string) => boolean;
}

/** A YAML sequence of strings, or comma-separated text (empty items dropped, so "" is the empty list). */
export function parseStringList(raw: unknown, origin: ValueOrigin, rule: ListItemRule): readonly string[] {
  const expected = `a list of ${rule.items}${origin === 'text' ? ', comma-separated' : ''}`;
  let items: unknown[];
  if (origin === 'text' && typeof raw === 'string') {
    items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  } else if (Array.isArray(raw)) {
    items = raw;
  } else {
    return fail(expected, raw);
  }
  return items.map((item, index) => {
    if (typeof item === 'string' && rule.accepts(item.trim())) return item.trim();
    return fail(expected, raw, `item ${String(index + 1)} is ${describeRaw(item)}, not ${rule.item}`);
  });
}

export function parseText(raw: unknown, expected: string, accepts: (text: string) => boolean): string {
  if (typeof raw !== 'string' || !accepts(raw.trim())) fail(expected, raw);
  return raw.trim();
}

/** A host to dial, with or without a port: what agents are told at enrollment. */
export interface DialAddress {
  readonly host: string;
  readonly port: number | undefined;
}

const bracketedDialPattern = /^\[([^\]]+)\](?::(\d{1,5}))?$/;
const plainDialPattern = /^([^:[\]]+)(?::(\d{1,5}))?$/;

/**
 * "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address; undefined for anything else, including
 * a host that is neither a DNS name nor an IP address, and a port outside 1-65535.
 */
export function parseDialAddress(text: string): DialAddress | undefined {
  let host: string;
  let portText: string | undefined;
  const bracketed = bracketedDialPattern.exec(text);
  const plain = bracketed === null ? plainDialPattern.exec(text) : null;
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (!net.isIPv6(host)) return undefined;
  } else if (net.isIPv6(text)) {
    return { host: text, port: undefined };
  } else if (plain !== null) {
    host = plain[1] ?? '';
    portText = plain[2];
    if (!isHostname(host) && !net.isIPv4(host)) return undefined;
  } else return undefined;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host, port };
}
