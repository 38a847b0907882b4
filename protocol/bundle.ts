/**
 * Policy bundle signatures (agent.proto, SignedBundle): Ed25519 over `"vigo/v1/Bundle\0" || payload` with the
 * server's bundle-signing key. The server signs; the agent verifies before caching and again before applying
 * a cached copy offline.
 */
import { createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { SignedBundleSchema } from '../gen/vigo/agent/v1/agent_pb.ts';
import type { SignedBundle } from '../gen/vigo/agent/v1/agent_pb.ts';
import { bundleSignatureDomain, protocolLimits } from './constants.ts';
import { assertEd25519, bundleKeyId, rawFromPublicKey } from './keys.ts';

const domain = Buffer.from(bundleSignatureDomain, 'latin1');

// Deriving a key id costs a DER export and a hash; keys live for the whole process, so do it once per key.
const keyIds = new WeakMap<KeyObject, string>();

function keyIdOf(key: KeyObject): string {
  let id = keyIds.get(key);
  if (id === undefined) {
    const publicKey = key.type === 'private' ? createPublicKey(key) : key;
    id = bundleKeyId(rawFromPublicKey(publicKey));
    keyIds.set(key, id);
  }
  return id;
}

function bundleSignedBytes(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(domain.length + payload.length);
  domain.copy(out, 0);
  out.set(payload, domain.length);
  return out;
}

/**
 * Signs a bundle document (UTF-8 JSON) with the server's bundle-signing key and names the key.
 * Throws `pki.key_invalid` when `privateKey` is not an Ed25519 private key.
 */
export function signBundle(privateKey: KeyObject, payload: Uint8Array): SignedBundle {
  assertEd25519(privateKey, 'private');
  return create(SignedBundleSchema, {
    payload,
    signature: sign(null, bundleSignedBytes(payload), privateKey),
    keyId: keyIdOf(privateKey),
  });
}

/**
 * True only when the bundle names `publicKey` (key_id) and its signature verifies under it.
 * Never throws: a malformed bundle or a key of the wrong kind is simply false.
 */
export function verifyBundle(publicKey: KeyObject, bundle: SignedBundle | undefined): boolean {
  try {
    if (bundle === undefined || bundle.signature.length !== protocolLimits.signatureBytes) return false;
    if (bundle.keyId !== keyIdOf(publicKey)) return false;
    return verify(null, bundleSignedBytes(bundle.payload), publicKey, bundle.signature);
  } catch {
    return false;
  }
}
