/**
 * Signed checkpoints: the external anchor of the audit chain. A checkpoint states "at this time the chain's
 * entry `seq` had hash `headHash`", signed with the server's ed25519 bundle-signing key under its own
 * signature domain (so no checkpoint can ever pass as a bundle signature, nor a bundle as a checkpoint).
 * Kept outside the server, a checkpoint exposes any later rewrite or truncation of the entries up to `seq`,
 * even one that recomputed every hash and the recorded head: `verifyAudit` with the checkpoint as an anchor
 * finds that the chain no longer holds that entry.
 *
 * Signed bytes: `"vigo/audit-checkpoint/v1\0" || canonicalJson({at, format, headHash, keyId, seq})`.
 */
import { createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { bundleKeyId, rawFromPublicKey } from '../../protocol/keys.ts';
import { VigoError } from '../core/index.ts';
import type { Db } from '../store/index.ts';
import { canonicalJson } from './canonical-json.ts';
import { chainBrokenError } from './chain.ts';
import { inspectAuditHead } from './head.ts';
import { auditGenesisHash } from './hash.ts';

export const auditCheckpointFormat = 'vigo-audit-checkpoint/1';
export const auditCheckpointSignatureDomain = 'vigo/audit-checkpoint/v1\0';
/** A checkpoints file holds one checkpoint per line; more than this is not a checkpoints file. */
export const maxCheckpointsPerFile = 100_000;
const maxLineLength = 4096;
const signatureBytes = 64;

export interface AuditCheckpoint {
  readonly format: typeof auditCheckpointFormat;
  /** The newest entry's seq (the chain is contiguous from 1, so also the number of entries). */
  readonly seq: number;
  /** That entry's hash (the genesis hash for an empty chain). */
  readonly headHash: string;
  /** When it was taken, RFC 3339 UTC with milliseconds. */
  readonly at: string;
  /** First 16 hex of SHA-256 over the raw public key, as bundles name their key. */
  readonly keyId: string;
  /** Base64 ed25519 signature over the signed bytes. */
  readonly signature: string;
}

const fields = ['at', 'format', 'headHash', 'keyId', 'seq', 'signature'] as const;
const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function signedBytes(checkpoint: Omit<AuditCheckpoint, 'signature'>): Buffer {
  const { at, format, headHash, keyId, seq } = checkpoint;
  return Buffer.concat([
    Buffer.from(auditCheckpointSignatureDomain, 'latin1'),
    Buffer.from(canonicalJson({ at, format, headHash, keyId, seq }), 'utf8'),
  ]);
}

/** The key id of an ed25519 key (private or public), as checkpoints and bundles name it. */
export function checkpointKeyId(key: KeyObject): string {
  return bundleKeyId(rawFromPublicKey(key.type === 'private' ? createPublicKey(key) : key));
}

/**
 * Signs the current head. Refuses with `audit.chain_broken` when the head does not match its newest entry:
 * a checkpoint must never vouch for a chain the server itself knows to be damaged.
 */
export function createAuditCheckpoint(db: Db, signingKey: KeyObject, nowMs = Date.now()): AuditCheckpoint {
  const inspection = db.transaction(() => inspectAuditHead(db)).deferred();
  if (!inspection.intact) throw chainBrokenError(inspection.damage, 'audit.checkpoint');
  const { head } = inspection;
  const unsigned = {
    format: auditCheckpointFormat,
    seq: head?.seq ?? 0,
    headHash: head?.hash ?? auditGenesisHash,
    at: new Date(nowMs).toISOString(),
    keyId: checkpointKeyId(signingKey),
  } as const;
  const signature = sign(null, signedBytes(unsigned), signingKey).toString('base64');
  return { ...unsigned, signature };
}

/** Why the checkpoint's signature does not hold under `publicKey`, or undefined when it does. */
export function checkpointSignatureProblem(
  checkpoint: AuditCheckpoint,
  publicKey: KeyObject,
): string | undefined {
  const keyId = checkpointKeyId(publicKey);
  if (checkpoint.keyId !== keyId)
    return `it names signing key ${checkpoint.keyId}, but the verifying key is ${keyId}`;
  const ok = verify(null, signedBytes(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  return ok ? undefined : 'its signature does not verify: it was altered, or not signed by this key';
}

function invalid(where: string, problem: string): VigoError {
  return new VigoError('audit.checkpoint_invalid', `${where}: ${problem}`, { where });
}

function checkSignatureText(text: string, where: string): void {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== signatureBytes || bytes.toString('base64') !== text)
    throw invalid(where, `signature must be the base64 of ${signatureBytes} bytes`);
}

/** Checks that `value` is exactly a checkpoint (no missing, extra or mistyped field); throws audit.checkpoint_invalid. */
export function parseAuditCheckpoint(value: unknown, where = 'checkpoint'): AuditCheckpoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(where, 'a checkpoint is a JSON object');
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).find((key) => !(fields as readonly string[]).includes(key));
  if (extra !== undefined) throw invalid(where, `unknown field "${extra}"`);
  const missing = fields.find((key) => record[key] === undefined);
  if (missing !== undefined) throw invalid(where, `field "${missing}" is missing`);
  const { format, seq, headHash, at, keyId, signature } = record;
  if (format !== auditCheckpointFormat)
    throw invalid(where, `format must be "${auditCheckpointFormat}", not ${JSON.stringify(format)}`);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    throw invalid(where, 'seq must be a whole number, 0 or more');
  if (typeof headHash !== 'string' || !/^[0-9a-f]{64}$/.test(headHash))
    throw invalid(where, 'headHash must be 64 lower-case hex digits');
  if (typeof at !== 'string' || !isoPattern.test(at) || Number.isNaN(Date.parse(at)))
    throw invalid(where, 'at must be a UTC time like 2026-01-31T12:00:00.000Z');
  if (typeof keyId !== 'string' || !/^[0-9a-f]{16}$/.test(keyId))
    throw invalid(where, 'keyId must be 16 lower-case hex digits');
  if (typeof signature !== 'string') throw invalid(where, 'signature must be a base64 string');
  checkSignatureText(signature, where);
  return { format, seq, headHash, at, keyId, signature };
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid(where, `not JSON (${(err as Error).message})`);
  }
}

/** The text as one JSON document, or undefined when it is not one (several lines of JSON, say). */
function wholeDocument(text: string): unknown {
  if (text.length > maxLineLength * 4) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The checkpoints in a file: one JSON object per line (as `audit.checkpoint_file` is written), or one
 * JSON document (as `vigocli audit checkpoint --json` prints). `source` names the file in errors.
 */
export function parseAuditCheckpoints(text: string, source: string): AuditCheckpoint[] {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid(source, 'holds no checkpoint');
  const whole = wholeDocument(trimmed);
  if (whole !== undefined) return [parseAuditCheckpoint(whole, source)];
  const lines = text.split('\n');
  const checkpoints: AuditCheckpoint[] = [];
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const where = `${source}:${index + 1}`;
    if (line.length > maxLineLength) throw invalid(where, `line is longer than ${maxLineLength} characters`);
    if (checkpoints.length === maxCheckpointsPerFile)
      throw invalid(source, `holds more than ${maxCheckpointsPerFile} checkpoints`);
    checkpoints.push(parseAuditCheckpoint(parseJson(line, where), where));
  }
  return checkpoints;
}
