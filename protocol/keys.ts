/**
 * Ed25519 public keys travel and rest as their raw 32 bytes; node:crypto wants KeyObjects. Parsing a key is
 * far slower than verifying with it, so callers parse once and keep the KeyObject.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { VigoError } from '../server/core/index.ts';
import { protocolLimits } from './constants.ts';

// SubjectPublicKeyInfo DER for Ed25519 (RFC 8410) is this fixed 12-byte header followed by the raw key.
const ed25519SpkiHeader = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Parses a raw 32-byte Ed25519 public key. Throws `pki.key_invalid` on any other length; a key node:crypto
 * refuses throws node's own error.
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
