import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import {
  SignedBundleSchema,
  bundleKeyId,
  rawFromPublicKey,
  signBundle,
  signEnvelope,
  verifyBundle,
} from './index.ts';
import type { SignedBundle } from './index.ts';

const server = generateKeyPairSync('ed25519');
const payload = new TextEncoder().encode('{"policy_version":4,"resources":[]}');

function withBundle(bundle: SignedBundle, change: Partial<SignedBundle>): SignedBundle {
  return create(SignedBundleSchema, { ...bundle, ...change });
}

function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] = copy[index]! ^ 0x80;
  return copy;
}

describe('signBundle / verifyBundle', () => {
  const bundle = signBundle(server.privateKey, payload);

  it('signs, names the key, and verifies', () => {
    assert.equal(bundle.keyId, bundleKeyId(rawFromPublicKey(server.publicKey)));
    assert.equal(bundle.signature.length, 64);
    assert.deepEqual(Uint8Array.from(bundle.payload), payload);
    assert.equal(verifyBundle(server.publicKey, bundle), true);
  });

  it('fails when any byte of the payload or signature changes, or the key id differs', () => {
    for (let i = 0; i < payload.length; i++) {
      assert.equal(
        verifyBundle(server.publicKey, withBundle(bundle, { payload: flipByte(payload, i) })),
        false,
      );
    }
    for (let i = 0; i < bundle.signature.length; i++) {
      const changed = withBundle(bundle, { signature: flipByte(bundle.signature, i) });
      assert.equal(verifyBundle(server.publicKey, changed), false);
    }
    assert.equal(verifyBundle(server.publicKey, withBundle(bundle, { keyId: '0000000000000000' })), false);
    assert.equal(verifyBundle(server.publicKey, withBundle(bundle, { payload: payload.subarray(1) })), false);
  });

  it('fails under another key, even when the key id is forged to match', () => {
    const other = generateKeyPairSync('ed25519');
    assert.equal(verifyBundle(other.publicKey, bundle), false);
    const forged = withBundle(bundle, { keyId: bundleKeyId(rawFromPublicKey(other.publicKey)) });
    assert.equal(verifyBundle(other.publicKey, forged), false);
  });

  it('does not accept an agent envelope signature as a bundle signature (domain separation)', () => {
    const envelope = signEnvelope(server.privateKey, 'CheckIn', 'e1', 1n, payload);
    const lookalike = withBundle(bundle, { signature: envelope.signature });
    assert.equal(verifyBundle(server.publicKey, lookalike), false);
  });

  it('returns false, never throws, on garbage', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.equal(verifyBundle(server.publicKey, undefined), false);
    assert.equal(verifyBundle(server.publicKey, create(SignedBundleSchema)), false);
    assert.equal(
      verifyBundle(server.publicKey, withBundle(bundle, { signature: new Uint8Array(63) })),
      false,
    );
    assert.equal(verifyBundle(rsa.publicKey, bundle), false);
  });

  it('refuses to sign with a key that is not an Ed25519 private key', () => {
    assert.throws(
      () => signBundle(server.publicKey, payload),
      (e) => (e as { code?: string }).code === 'pki.key_invalid',
    );
  });
});
