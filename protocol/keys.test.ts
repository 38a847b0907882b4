import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  addPoints,
  decodePoint,
  encodePoint,
  fieldPrime,
  isIdentity,
  timesCofactor,
  torsionPoints,
} from './ed25519-point.ts';
import {
  bundleKeyId,
  ed25519KeyProblem,
  publicKeyFromRaw,
  rawFromPublicKey,
  weakEd25519KeyProblem,
} from './index.ts';

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

describe('weak Ed25519 keys', () => {
  // libsodium's small-order blocklist (ed25519_ref10.c), as an independent check of the computed points.
  const libsodiumOrderEight = [
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  ];
  const torsion = torsionPoints().map((point) => Buffer.from(encodePoint(point)));
  const forgedSignature = Buffer.concat([Buffer.from([1]), Buffer.alloc(63)]);

  function rawOf(bigY: bigint, sign = 0): Buffer {
    const out = Buffer.alloc(32);
    let y = bigY;
    for (let i = 0; i < 32; i++) {
      out[i] = Number(y & 0xffn);
      y >>= 8n;
    }
    out[31]! |= sign << 7;
    return out;
  }

  it('knows the eight points of small order: distinct, each with [8]P = identity', () => {
    assert.equal(new Set(torsion.map((t) => t.toString('hex'))).size, 8);
    for (const encoded of torsion) {
      const point = decodePoint(encoded);
      assert.ok(typeof point !== 'string', `${encoded.toString('hex')} decodes`);
      assert.ok(isIdentity(timesCofactor(point)));
    }
    const hex = torsion.map((t) => t.toString('hex'));
    for (const known of libsodiumOrderEight) assert.ok(hex.includes(known), `${known} is a torsion point`);
    assert.ok(hex.includes(`01${'00'.repeat(31)}`), 'the identity');
    assert.ok(hex.includes('00'.repeat(32)), 'the order-4 point with y = 0');
    assert.ok(hex.includes(`ec${'ff'.repeat(30)}7f`), 'the order-2 point, y = p - 1');
  });

  it('refuses every small-order point and every non-canonical encoding, cheaply and in full', () => {
    const nonCanonical = [
      rawOf(fieldPrime), // y = p, i.e. 0
      rawOf(fieldPrime + 1n), // y = p + 1, i.e. 1
      rawOf(fieldPrime + 1n, 1),
      rawOf(2n ** 255n - 1n),
      rawOf(1n, 1), // x = 0 with the sign bit set
    ];
    for (const raw of [...torsion, ...nonCanonical]) {
      const hex = raw.toString('hex');
      assert.notEqual(weakEd25519KeyProblem(raw), undefined, `${hex} is weak`);
      assert.notEqual(ed25519KeyProblem(raw), undefined, `${hex} is unfit to enroll`);
      assert.throws(
        () => publicKeyFromRaw(raw),
        (e) => vigoCode(e) === 'pki.key_invalid',
        `${hex} is never parsed into a key`,
      );
    }
  });

  it('accepts real keys, including one with a torsion component', () => {
    for (let i = 0; i < 20; i++) {
      const raw = rawFromPublicKey(generateKeyPairSync('ed25519').publicKey);
      assert.equal(weakEd25519KeyProblem(raw), undefined);
      assert.equal(ed25519KeyProblem(raw), undefined);
    }
    const real = decodePoint(Buffer.from(rfc8032PublicKey, 'hex'));
    const tor = decodePoint(Buffer.from(libsodiumOrderEight[0]!, 'hex'));
    assert.ok(typeof real !== 'string' && typeof tor !== 'string');
    assert.equal(ed25519KeyProblem(encodePoint(addPoints(real, tor))), undefined, 'mixed order is not small');
  });

  it('refuses, in full, bytes that are no point on the curve', () => {
    const offCurve = rawOf(2n);
    assert.equal(decodePoint(offCurve), 'not_on_curve');
    assert.match(ed25519KeyProblem(offCurve) ?? '', /not a point/);
  });

  it('shows why: under the identity key a constant signature verifies for any message', () => {
    const identity = Buffer.from(`01${'00'.repeat(31)}`, 'hex');
    const raw = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: identity.toString('base64url') },
      format: 'jwk',
    });
    assert.equal(verify(null, Buffer.from('any request'), raw, forgedSignature), true);
    assert.throws(
      () => publicKeyFromRaw(identity),
      (e) => vigoCode(e) === 'pki.key_invalid',
    );
  });
});
