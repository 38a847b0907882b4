import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { bundleKeyId, publicKeyFromRaw, rawFromPublicKey } from './index.ts';

// RFC 8032 section 7.1, test 1: proves the raw-key parsing interoperates with other Ed25519 implementations.
const rfc8032PublicKey = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const rfc8032Signature =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

function vigoCode(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

describe('publicKeyFromRaw / rawFromPublicKey', () => {
  it('parses a raw RFC 8032 key that verifies the RFC’s signature', () => {
    const key = publicKeyFromRaw(Buffer.from(rfc8032PublicKey, 'hex'));
    assert.equal(key.asymmetricKeyType, 'ed25519');
    assert.equal(verify(null, Buffer.alloc(0), key, Buffer.from(rfc8032Signature, 'hex')), true);
    assert.equal(verify(null, Buffer.from('x'), key, Buffer.from(rfc8032Signature, 'hex')), false);
  });

  it('round-trips the raw 32 bytes of a generated key', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = rawFromPublicKey(publicKey);
    assert.equal(raw.length, 32);
    assert.equal(raw.toString('base64url'), publicKey.export({ format: 'jwk' }).x);
    assert.deepEqual(rawFromPublicKey(publicKeyFromRaw(raw)), raw);
  });

  it('parses a key that verifies its own private key’s signature and no other key’s', () => {
    const ours = generateKeyPairSync('ed25519');
    const theirs = generateKeyPairSync('ed25519');
    const key = publicKeyFromRaw(rawFromPublicKey(ours.publicKey));
    const message = Buffer.from('CheckIn envelope bytes');
    assert.equal(verify(null, message, key, sign(null, message, ours.privateKey)), true);
    assert.equal(verify(null, message, key, sign(null, message, theirs.privateKey)), false);
    assert.equal(verify(null, Buffer.from('other bytes'), key, sign(null, message, ours.privateKey)), false);
  });

  it('parses a raw key held in a view into a larger buffer', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = rawFromPublicKey(publicKey);
    const padded = new Uint8Array(48);
    padded.set(raw, 8);
    const key = publicKeyFromRaw(padded.subarray(8, 40));
    assert.deepEqual(rawFromPublicKey(key), raw);
  });

  it('refuses raw keys of the wrong length and keys of the wrong kind', () => {
    for (const length of [0, 31, 33, 44]) {
      assert.throws(
        () => publicKeyFromRaw(new Uint8Array(length)),
        (e) => vigoCode(e) === 'pki.key_invalid',
      );
    }
    const ed = generateKeyPairSync('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(
      () => rawFromPublicKey(ed.privateKey),
      (e) => vigoCode(e) === 'pki.key_invalid',
    );
    assert.throws(
      () => rawFromPublicKey(rsa.publicKey),
      (e) => vigoCode(e) === 'pki.key_invalid',
    );
  });
});

describe('bundleKeyId', () => {
  it('is the first 16 hex characters of SHA-256 over the raw key', () => {
    const raw = Buffer.from(rfc8032PublicKey, 'hex');
    const id = bundleKeyId(raw);
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(id, createHash('sha256').update(raw).digest('hex').slice(0, 16));
  });

  it('refuses anything but 32 bytes', () => {
    assert.throws(
      () => bundleKeyId(new Uint8Array(31)),
      (e) => vigoCode(e) === 'pki.key_invalid',
    );
  });
});
