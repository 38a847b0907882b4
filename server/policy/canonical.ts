/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined` members
 * dropped, numbers as JSON.stringify writes them. Equal values always encode to equal bytes, which
 * is what content hashes and Merkle roots need (docs/bundle-format.md).
 */
import { hash } from 'node:crypto';

// Object keys repeat endlessly (name, type, params…); quoting each once is measurably faster.
const quotedKeys = new Map<string, string>();

function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 100_000) quotedKeys.set(k, q);
  }
  return q;
}

/** The object's own keys in sorted order (most objects here already have them so: no sort then). */
function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
}

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
      break;
    default:
      return 'null';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(record);
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    out += (first ? '' : ',') + quoteKey(k) + ':' + canonicalJson(v);
    first = false;
  }
  return out + '}';
}

export function sha256Hex(data: string | Buffer): string {
  return hash('sha256', data, 'hex');
}

const innerPrefix = Buffer.from([1]);

function sha256(data: Buffer | string): Buffer {
  // One-shot hashing is several times faster than createHash() for inputs this small.
  return hash('sha256', data, 'buffer');
}

/** Leaf hash: SHA-256(0x00 || label || 0x00 || canonical JSON). */
export function leafHash(label: string, value: unknown): Buffer {
  // NUL is one byte in UTF-8: the string below encodes to exactly those bytes.
  return sha256(`\0${label}\0${canonicalJson(value)}`);
}

/** Children per inner node: wide enough that a typical entry's root is a single hash. */
export const merkleFanout = 16;

/**
 * Root of a Merkle tree with fanout 16: inner node = SHA-256(0x01 || child 1 || … || child n) over up
 * to 16 consecutive nodes of the level below; a level of one node is the root.
 */
export function merkleRoot(leaves: Buffer[]): string {
  if (leaves.length === 0) return sha256Hex('');
  let level = leaves;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += merkleFanout)
      next.push(sha256(Buffer.concat([innerPrefix, ...level.slice(i, i + merkleFanout)])));
    level = next;
  }
  return level[0]!.toString('hex');
}

/**
 * Deep copy of JSON-like data with every object's keys in sorted order, so that `JSON.stringify`
 * of the copy (native, fast) equals its canonical encoding.
 */
export function sortedClone<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => sortedClone(v) as unknown) as T;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of sortedKeys(record)) out[k] = sortedClone(record[k]);
  return out as T;
}

/** Same object with its own keys re-inserted in sorted order (values untouched). */
export function sortKeys<T extends Record<string, unknown>>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const k of sortedKeys(record)) out[k] = record[k];
  return out as T;
}

/** Deep copy of JSON-like data (faster than structuredClone for small objects). */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => cloneJson(v) as unknown) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = cloneJson(v);
  return out as T;
}
