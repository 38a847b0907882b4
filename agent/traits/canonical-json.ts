/**
 * The traits hash the agent sends at check-in (traits_hash in agent.proto). The canonical JSON here is
 * byte-for-byte server/policy/canonical.ts's (a test holds them equal); it is repeated because the
 * agent may not import the server's policy code.
 *
 * Volatile values (uptime, load, free memory, filesystem use) change at every run. If they were
 * hashed, every check-in would carry a new hash and the server would ask for the full traits each
 * time; so the server gets hashableTraits() — the traits without them — and caches per that hash.
 * Server-side templates and when: conditions therefore never see volatile values.
 */
import { createHash } from 'node:crypto';
import { VigoError } from '../../server/core/index.ts';
import type { Traits } from './types.ts';

/** Object keys sorted by UTF-16 code units at every level, no whitespace, undefined members dropped. */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number in canonical JSON');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      // Array.from, not map: a hole must encode as null, as it does in the server's encoder.
      if (Array.isArray(value))
        return `[${Array.from(value as unknown[], (v) => canonicalJson(v)).join(',')}]`;
      return `{${Object.keys(value)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
        .join(',')}}`;
    default:
      return 'null';
  }
}

/**
 * Trait paths left out of the hash and of what the server stores. `a[].b` means field b of every
 * element of array a.
 */
export const volatileTraitPaths: readonly string[] = [
  'uptime_seconds',
  'load',
  'host_self',
  'memory.free_mb',
  'memory.available_mb',
  'swap.free_mb',
  'mounts[].used_mb',
  'time',
  'cert_expiry.certificates[].days_left',
];

function withoutPath(value: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0 || typeof value !== 'object' || value === null || Array.isArray(value))
    return value;
  const [head, ...rest] = segments as [string, ...string[]];
  const record = value as Record<string, unknown>;
  const isArrayStep = head.endsWith('[]');
  const key = isArrayStep ? head.slice(0, -2) : head;
  if (!Object.hasOwn(record, key)) return value;
  const copy = { ...record };
  if (rest.length === 0 && !isArrayStep) delete copy[key];
  else if (isArrayStep && Array.isArray(copy[key]))
    copy[key] = copy[key].map((v: unknown) => withoutPath(v, rest));
  else if (!isArrayStep) copy[key] = withoutPath(copy[key], rest);
  return copy;
}

/** The traits without their volatile values (volatileTraitPaths): what is hashed and sent to the server. */
export function hashableTraits(traits: Traits): Traits {
  let out: unknown = traits;
  for (const path of volatileTraitPaths) out = withoutPath(out, path.split('.'));
  return out as Traits;
}

/** SHA-256, lowercase hex, of canonicalJson(traits): hashes exactly what it is given. */
export function traitsHash(traits: Traits): string {
  return createHash('sha256').update(canonicalJson(traits)).digest('hex');
}

/** traits_json is at most 1 MiB (agent.proto). */
export const maxTraitsJsonBytes = 1024 * 1024;

export interface TraitsPayload {
  /** canonicalJson of the hashable traits: the CheckInPayload's traits_json. */
  readonly json: string;
  /** SHA-256 hex of json: the CheckInPayload's traits_hash. */
  readonly hash: string;
  /** Top-level traits dropped to stay within maxTraitsJsonBytes, largest first; also listed as traits_omitted. */
  readonly omitted: readonly string[];
}

/**
 * What the agent sends at check-in: the hashable traits as canonical JSON and its hash. A tree over
 * 1 MiB (say a host with tens of thousands of packages) loses its largest top-level traits, one at a
 * time, until it fits; their names are reported in `traits_omitted` so the server can tell why.
 */
export function traitsPayload(traits: Traits, maxBytes = maxTraitsJsonBytes): TraitsPayload {
  const kept: Traits = { ...hashableTraits(traits) };
  const omitted: string[] = [];
  let json = canonicalJson(kept);
  while (Buffer.byteLength(json) > maxBytes) {
    const sizes = Object.keys(kept)
      .filter((k) => k !== 'traits_omitted')
      .map((k) => [k, canonicalJson(kept[k]).length] as const);
    if (sizes.length === 0)
      throw new VigoError(
        'request.too_large',
        `the traits do not fit in ${maxBytes} bytes even with every trait omitted`,
      );
    const largest = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
    delete kept[largest[0]];
    omitted.push(largest[0]);
    kept.traits_omitted = [...omitted];
    json = canonicalJson(kept);
  }
  return { json, hash: createHash('sha256').update(json).digest('hex'), omitted };
}
