/**
 * The `integrations:` list of server.yaml: event sinks, each `{name, type, events, min_severity, …}` with
 * the options of its type. Parsed once at load; every problem of every target is reported together, naming
 * the target and key. Credentials are `secret:<path>` references into the server's vault, resolved at each
 * delivery (so a rotated secret applies without a restart); a plaintext credential is refused.
 */
import net from 'node:net';
import path from 'node:path';
import { closestName, parseDurationMs } from '../core/index.ts';
import { secretPathProblem } from '../secrets/index.ts';
import { eventPatternProblem, severities } from './severity.ts';
import type { Severity } from './severity.ts';
import { readTargetOptions } from './target-options.ts';
import type { TypeOptions } from './target-options.ts';

export const targetTypes = ['webhook', 'email', 'syslog', 'splunk_hec', 'loki', 'elastic'] as const;
export type TargetType = (typeof targetTypes)[number];

export interface SecretRef {
  readonly secretPath: string;
}

export interface TargetBase {
  readonly name: string;
  readonly events: readonly string[];
  readonly minSeverity: Severity;
  /** Tries before a delivery is dead. */
  readonly maxAttempts: number;
  /** Pending deliveries kept at most; the oldest is dropped (dead) beyond it. */
  readonly maxQueue: number;
  /** Requests (batches) in flight at once. */
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Events sent in one request at most (1 for webhooks and syslog). */
  readonly batchSize: number;
}

export type IntegrationTarget = TargetBase & TypeOptions;

export const integrationLimits = {
  maxTargets: 32,
  maxPatterns: 64,
  maxUrlLength: 2048,
  maxAttempts: 100,
  maxQueue: 1_000_000,
  maxConcurrency: 16,
  maxBatch: 1000,
} as const;

const namePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Reads one target's mapping, recording problems instead of stopping at the first. */
export class FieldReader {
  readonly used = new Set<string>();

  constructor(
    private readonly raw: Readonly<Record<string, unknown>>,
    readonly where: string,
    private readonly problems: string[],
    private readonly baseDir: string,
  ) {}

  problem(key: string, message: string): void {
    this.problems.push(`${this.where}.${key}: ${message}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  #take(key: string): unknown {
    this.used.add(key);
    const value = this.raw[key];
    return value === null ? undefined : value;
  }

  string(key: string, fallback?: string): string | undefined {
    const value = this.#take(key);
    if (value === undefined) {
      if (fallback === undefined) this.problem(key, 'is required');
      return fallback;
    }
    if (typeof value !== 'string' || value.trim() === '' || value.length > 4096) {
      this.problem(key, 'expected a non-empty string of at most 4096 characters');
      return undefined;
    }
    return value.trim();
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : (this.#take(key), undefined);
  }

  /** A file path, resolved against the directory of server.yaml. */
  optionalPath(key: string): string | undefined {
    const text = this.optionalString(key);
    if (text === undefined) return undefined;
    if (text.includes('\0')) {
      this.problem(key, 'expected a file path');
      return undefined;
    }
    return path.resolve(this.baseDir, text);
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const value = this.#take(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.problem(key, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.#take(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.problem(key, `expected true or false, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  duration(key: string, fallback: string, minMs: number): number {
    const value = this.#take(key) ?? fallback;
    const ms = typeof value === 'string' ? parseDurationMs(value) : undefined;
    if (ms === undefined || ms < minMs || ms > 86_400_000) {
      this.problem(
        key,
        `expected a duration such as "10s" or "5m" (at most 24h), got ${JSON.stringify(value)}`,
      );
      return parseDurationMs(fallback) ?? minMs;
    }
    return ms;
  }

  choice<const V extends string>(key: string, values: readonly V[], fallback: V): V {
    const value = this.#take(key);
    if (value === undefined) return fallback;
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as V;
    this.problem(key, `expected one of ${values.join(', ')}, got ${JSON.stringify(value)}`);
    return fallback;
  }

  stringList(key: string, fallback: readonly string[] | undefined, max: number): readonly string[] {
    const value = this.#take(key);
    if (value === undefined) {
      if (fallback === undefined) this.problem(key, 'is required');
      return fallback ?? [];
    }
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      value.length > max ||
      !value.every((item) => typeof item === 'string')
    ) {
      this.problem(key, `expected a list of 1 to ${max} strings`);
      return fallback ?? [];
    }
    return value.map((item: string) => item.trim());
  }

  /** An http(s) URL without credentials or fragment; credentials go in their own secret: options. */
  url(key: string): string | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    if (text.length > integrationLimits.maxUrlLength || !URL.canParse(text)) {
      this.problem(key, `expected an http:// or https:// URL, got ${JSON.stringify(text.slice(0, 100))}`);
      return undefined;
    }
    const url = new URL(text);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '' || url.hash !== '') {
      this.problem(
        key,
        `expected an http:// or https:// URL without a #fragment, got ${JSON.stringify(text)}`,
      );
      return undefined;
    }
    if (url.username !== '' || url.password !== '') {
      this.problem(
        key,
        'credentials in the URL are refused; give them as secret: references in their own keys',
      );
      return undefined;
    }
    return url.toString();
  }

  host(key: string): string | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    const ok = net.isIP(text) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text);
    if (!ok) this.problem(key, `expected a host name or IP address, got ${JSON.stringify(text)}`);
    return ok ? text : undefined;
  }

  /** A credential: only `secret:<path>`; anything else would keep a plaintext secret in server.yaml. */
  secret(key: string, required: boolean): SecretRef | undefined {
    if (!this.has(key)) {
      this.#take(key);
      if (required) this.problem(key, 'is required (a secret: reference such as "secret:integrations/key")');
      return undefined;
    }
    const value = this.#take(key);
    if (typeof value !== 'string' || !value.startsWith('secret:')) {
      this.problem(
        key,
        'plaintext credentials are refused in server.yaml; store the value with ' +
          '"vigocli secrets set PATH" and write "secret:PATH" here',
      );
      return undefined;
    }
    const secretPath = value.slice('secret:'.length);
    const problem = secretPathProblem(secretPath);
    if (problem !== undefined) {
      this.problem(key, `the secret path ${JSON.stringify(secretPath.slice(0, 80))} is invalid: ${problem}`);
      return undefined;
    }
    return { secretPath };
  }

  /** Reports every key that no reader asked for, with the nearest known key. */
  finishUnknown(kind: string): void {
    for (const key of Object.keys(this.raw)) {
      if (this.used.has(key)) continue;
      const hint = closestName(key, [...this.used]);
      this.problem(
        key,
        `unknown key for a ${kind} target${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
      );
    }
  }
}

function readTarget(
  raw: unknown,
  index: number,
  problems: string[],
  names: Set<string>,
  baseDir: string,
): IntegrationTarget | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`integrations[${index}]: expected a mapping with name, type and the type's options`);
    return undefined;
  }
  const record = raw as Record<string, unknown>;
  const shownName = typeof record.name === 'string' ? ` (${JSON.stringify(record.name.slice(0, 64))})` : '';
  const r = new FieldReader(record, `integrations[${index}]${shownName}`, problems, baseDir);
  const name = r.string('name');
  if (name !== undefined && !namePattern.test(name))
    r.problem('name', 'expected lower-case letters, digits, "_" and "-", starting with a letter or digit');
  else if (name !== undefined && names.has(name)) r.problem('name', `duplicate target name "${name}"`);
  if (name !== undefined) names.add(name);
  const typeText = r.string('type');
  const type = targetTypes.find((t) => t === typeText);
  if (typeText !== undefined && type === undefined) {
    const hint = closestName(typeText, targetTypes);
    r.problem(
      'type',
      `unknown type ${JSON.stringify(typeText.slice(0, 64))}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}; ` +
        `expected one of ${targetTypes.join(', ')}`,
    );
  }
  const events = r.stringList('events', ['*'], integrationLimits.maxPatterns);
  for (const pattern of events) {
    const problem = eventPatternProblem(pattern);
    if (problem !== undefined) r.problem('events', `${JSON.stringify(pattern.slice(0, 64))}: ${problem}`);
  }
  const base = {
    name: name ?? '',
    events,
    minSeverity: r.choice('min_severity', severities, 'info'),
    maxAttempts: r.integer('max_attempts', 8, 1, integrationLimits.maxAttempts),
    maxQueue: r.integer('max_queue', 10_000, 1, integrationLimits.maxQueue),
    concurrency: r.integer('concurrency', 2, 1, integrationLimits.maxConcurrency),
    timeoutMs: r.duration('timeout', '10s', 1),
    backoffInitialMs: r.duration('backoff_initial', '5s', 1),
    backoffMaxMs: r.duration('backoff_max', '1h', 1),
  };
  // A ceiling below the first wait would silently shorten every wait to the ceiling.
  if (base.backoffMaxMs < base.backoffInitialMs)
    r.problem('backoff_max', 'must not be shorter than backoff_initial');
  if (type === undefined) return undefined;
  const options = readTargetOptions(type, r);
  r.finishUnknown(type);
  if (options === undefined) return undefined;
  return { ...base, ...options };
}

/** The configured targets, or the list of every problem found (each naming its target and key). */
export function parseIntegrationTargets(
  raw: unknown,
  baseDir: string,
): { targets: readonly IntegrationTarget[]; problems: readonly string[] } {
  if (raw === undefined || raw === null) return { targets: [], problems: [] };
  if (!Array.isArray(raw)) return { targets: [], problems: ['expected a list of targets'] };
  if (raw.length > integrationLimits.maxTargets)
    return { targets: [], problems: [`at most ${integrationLimits.maxTargets} targets, got ${raw.length}`] };
  const problems: string[] = [];
  const names = new Set<string>();
  const targets: IntegrationTarget[] = [];
  raw.forEach((item: unknown, index) => {
    const target = readTarget(item, index, problems, names, baseDir);
    if (target !== undefined) targets.push(target);
  });
  return problems.length > 0 ? { targets: [], problems } : { targets, problems };
}
