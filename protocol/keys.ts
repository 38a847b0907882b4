/**
 * Ed25519 public keys travel and rest as their raw 32 bytes; node:crypto wants KeyObjects. Parsing a key is
 * far slower than verifying with it, so callers parse once and keep the KeyObject.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { VigoError } from '../server/core/index.ts';
import { protocolLimits } from './constants.ts';
import { decodePoint, encodePoint, isIdentity, timesCofactor, torsionPoints } from './ed25519-point.ts';

// SubjectPublicKeyInfo DER for Ed25519 (RFC 8410) is this fixed 12-byte header followed by the raw key.
const ed25519SpkiHeader = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * The y coordinates (sign bit cleared, 32 little-endian bytes) of the eight points of small order. Two
 * points share each y but for sign, so these five cover the whole torsion subgroup.
 */
const smallOrderYs: readonly Uint8Array[] = [
  ...new Set(
    torsionPoints().map((point) => {
      const encoded = encodePoint(point);
      encoded[31]! &= 0x7f;
      return Buffer.from(encoded).toString('hex');
    }),
  ),
].map((hex) => Buffer.from(hex, 'hex'));

function sameY(raw: Uint8Array, y: Uint8Array): boolean {
  if (raw[0] !== y[0] || (raw[31]! & 0x7f) !== y[31]) return false;
  for (let i = 1; i < 31; i++) if (raw[i] !== y[i]) return false;
  return true;
}

/** y >= 2^255 - 19, read from the bytes: y's top 250 bits all set and its low byte at least 0xed. */
function yOutOfField(raw: Uint8Array): boolean {
  if ((raw[31]! & 0x7f) !== 0x7f || raw[0]! < 0xed) return false;
  for (let i = 1; i < 31; i++) if (raw[i] !== 0xff) return false;
  return true;
}

/**
 * Why a raw Ed25519 public key must never be trusted, or undefined: a non-canonical encoding (y >= p), or
 * a point of small order, under which a signature made without any private key verifies. A few byte
 * compares per key, so it runs wherever a stored key is loaded. It does not prove the bytes are a point at
 * all (such bytes verify nothing); `ed25519KeyProblem` does, at enrollment.
 */
export function weakEd25519KeyProblem(raw: Uint8Array): string | undefined {
  if (raw.length !== protocolLimits.publicKeyBytes)
    return `it is ${raw.length} bytes, not ${protocolLimits.publicKeyBytes}`;
  if (yOutOfField(raw)) return 'it is not a canonical point encoding (y is not below 2^255 - 19)';
  if (smallOrderYs.some((y) => sameY(raw, y)))
    return 'it is a point of small order, which any forged signature matches';
  return undefined;
}

/**
 * Why a raw Ed25519 public key is unfit to enroll, or undefined: the cheap checks above, then a full
 * decode (the bytes must be a canonical point on the curve) and [8]P != identity. About 0.15 ms of BigInt
 * arithmetic, so for enrollment, not for loading a fleet.
 */
export function ed25519KeyProblem(raw: Uint8Array): string | undefined {
  const weak = weakEd25519KeyProblem(raw);
  if (weak !== undefined) return weak;
  const point = decodePoint(raw);
  if (point === 'non_canonical') return 'it is not a canonical point encoding';
  if (point === 'not_on_curve') return 'it is not a point on the Ed25519 curve';
  if (isIdentity(timesCofactor(point)))
    return 'it is a point of small order, which any forged signature matches';
  return undefined;
}

/**
 * Parses a raw 32-byte Ed25519 public key. Throws `pki.key_invalid` on any other length and on a key
 * `weakEd25519KeyProblem` refuses, so no KeyObject that forged signatures verify under is ever made here;
 * a key node:crypto refuses throws node's own error.
 */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== protocolLimits.publicKeyBytes) {
    throw new VigoError(
      'pki.key_invalid',
      `An Ed25519 public key is ${protocolLimits.publicKeyBytes} raw bytes, got ${raw.length}; ` +
        'pass the key exactly as stored at enrollment (not PEM, not base64).',
      { lengthBytes: raw.length },
    );
  }
  const weak = weakEd25519KeyProblem(raw);
  if (weak !== undefined) {
    throw new VigoError('pki.key_invalid', `This Ed25519 public key is refused: ${weak}.`, {
      lengthBytes: raw.length,
    });
  }
  // A JWK import is several times cheaper than the same key wrapped in SPKI DER (no ASN.1 decoding), which
  // matters when every envoy's key is parsed on its first check-in after a restart.
  return createPublicKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      x: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** The raw 32 bytes of an Ed25519 public key. Throws `pki.key_invalid` for any other kind of key. */
export function rawFromPublicKey(key: KeyObject): Buffer {
  assertEd25519(key, 'public');
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(ed25519SpkiHeader.length);
}

/**
 * Names a bundle-signing key: the first 16 hex characters of SHA-256 over its raw public key.
 * Throws `pki.key_invalid` when `rawPublicKey` is not 32 bytes.
 */
export function bundleKeyId(rawPublicKey: Uint8Array): string {
  if (rawPublicKey.length !== protocolLimits.publicKeyBytes) {
    throw new VigoError(
      'pki.key_invalid',
      `A bundle key id is computed from a raw ${protocolLimits.publicKeyBytes}-byte Ed25519 public key, ` +
        `got ${rawPublicKey.length} bytes.`,
      { lengthBytes: rawPublicKey.length },
    );
  }
  return createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 16);
}

export function assertEd25519(key: KeyObject, type: 'public' | 'private'): void {
  if (key.type !== type || key.asymmetricKeyType !== 'ed25519') {
    throw new VigoError(
      'pki.key_invalid',
      `Expected an Ed25519 ${type} key, got a ${key.asymmetricKeyType ?? 'symmetric'} ${key.type} key; ` +
        `load the ${type === 'private' ? 'enrollment or bundle-signing private key' : 'public key'} instead.`,
      { keyType: key.type, algorithm: key.asymmetricKeyType ?? null },
    );
  }
}
