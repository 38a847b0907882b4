import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import {
  CheckInPayloadSchema,
  SignedEnvelopeSchema,
  agentRpcs,
  createEnvelopeClock,
  decodePayload,
  envelopeProblem,
  protocolLimits,
  signEnvelope,
  signRequest,
  signedBytes,
  verifyEnvelopeSignature,
} from './index.ts';
import type { AgentRpc, SignedEnvelope } from './index.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const envoyId = '5f0c2a8e-6a4b-4f1e-9a53-3b1f0d2c7e91';
const tsMs = 1_700_000_000_123n;
const body = toBinary(
  CheckInPayloadSchema,
  create(CheckInPayloadSchema, { agentVersion: '0.1.0', hostname: 'web-01', policyVersion: 7n }),
);

function withEnvelope(envelope: SignedEnvelope, change: Partial<SignedEnvelope>): SignedEnvelope {
  return create(SignedEnvelopeSchema, { ...envelope, ...change });
}

function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

function vigoCode(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

describe('signedBytes', () => {
  it('matches the byte layout documented in agent.proto', () => {
    const exampleBody = toBinary(CheckInPayloadSchema, create(CheckInPayloadSchema, { agentVersion: '1.0' }));
    assert.equal(Buffer.from(exampleBody).toString('hex'), '0a03312e30');
    const expected =
      '7669676f2f76312f436865636b496e00' + // "vigo/v1/CheckIn\0"
      '0002' +
      '6531' + // id_len = 2, "e1"
      '0000018bcfe56800' + // ts_ms = 1700000000000
      '0a03312e30';
    assert.equal(signedBytes('CheckIn', 'e1', 1_700_000_000_000n, exampleBody).toString('hex'), expected);
    assert.equal(signedBytes('CheckIn', 'e1', 1_700_000_000_000, exampleBody).toString('hex'), expected);
  });

  it('counts the envoy id in UTF-8 bytes and encodes negative timestamps in two’s complement', () => {
    const bytes = signedBytes('AgentStream', 'é', -1n, new Uint8Array(0));
    assert.equal(
      bytes.toString('hex'),
      Buffer.from('vigo/v1/AgentStream\0').toString('hex') + '0002c3a9' + 'ff'.repeat(8),
    );
  });

  it('refuses what cannot be encoded', () => {
    assert.throws(
      () => signedBytes('Bogus' as AgentRpc, envoyId, tsMs, body),
      (e) => vigoCode(e) === 'request.invalid',
    );
    assert.throws(
      () => signedBytes('CheckIn', 'x'.repeat(65_536), tsMs, body),
      (e) => vigoCode(e) === 'request.invalid',
    );
    assert.throws(
      () => signedBytes('CheckIn', envoyId, 2n ** 63n, body),
      (e) => vigoCode(e) === 'request.invalid',
    );
    assert.throws(
      () => signedBytes('CheckIn', envoyId, 1.5, body),
      (e) => vigoCode(e) === 'request.invalid',
    );
  });
});

describe('signEnvelope / verifyEnvelopeSignature', () => {
  const envelope = signEnvelope(privateKey, 'CheckIn', envoyId, tsMs, body);

  it('round-trips: a fresh envelope verifies and carries what was signed', () => {
    assert.equal(envelope.envoyId, envoyId);
    assert.equal(envelope.tsMs, tsMs);
    assert.deepEqual(Uint8Array.from(envelope.body), body);
    assert.equal(envelope.signature.length, 64);
    assert.equal(verifyEnvelopeSignature(publicKey, 'CheckIn', envelope), true);
    const fromNumber = signEnvelope(privateKey, 'CheckIn', envoyId, Number(tsMs), body);
    assert.equal(verifyEnvelopeSignature(publicKey, 'CheckIn', fromNumber), true);
  });

  it('fails when any single byte of the envoy id, timestamp, body or signature changes', () => {
    const idBytes = Buffer.from(envoyId, 'utf8');
    for (let i = 0; i < idBytes.length; i++) {
      const changed = Buffer.from(flipByte(idBytes, i)).toString('utf8');
      assert.equal(
        verifyEnvelopeSignature(publicKey, 'CheckIn', withEnvelope(envelope, { envoyId: changed })),
        false,
      );
    }
    const tsBytes = Buffer.alloc(8);
    tsBytes.writeBigInt64BE(tsMs);
    for (let i = 0; i < 8; i++) {
      const changed = Buffer.from(flipByte(tsBytes, i)).readBigInt64BE();
      assert.equal(
        verifyEnvelopeSignature(publicKey, 'CheckIn', withEnvelope(envelope, { tsMs: changed })),
        false,
      );
    }
    for (let i = 0; i < body.length; i++) {
      const changed = withEnvelope(envelope, { body: flipByte(body, i) });
      assert.equal(verifyEnvelopeSignature(publicKey, 'CheckIn', changed), false);
    }
    for (let i = 0; i < envelope.signature.length; i++) {
      const changed = withEnvelope(envelope, { signature: flipByte(envelope.signature, i) });
      assert.equal(verifyEnvelopeSignature(publicKey, 'CheckIn', changed), false);
    }
  });

  it('binds the signature to one RPC (domain separation)', () => {
    for (const rpc of agentRpcs) {
      const signed = signEnvelope(privateKey, rpc, envoyId, tsMs, body);
      for (const asRpc of agentRpcs) {
        assert.equal(verifyEnvelopeSignature(publicKey, asRpc, signed), asRpc === rpc, `${rpc} as ${asRpc}`);
      }
    }
  });

  it('fails under another envoy’s key', () => {
    assert.equal(verifyEnvelopeSignature(other.publicKey, 'CheckIn', envelope), false);
  });

  it('returns false, never throws, on garbage', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const x25519 = generateKeyPairSync('x25519');
    const garbage: [string, SignedEnvelope | undefined, AgentRpc][] = [
      ['no envelope', undefined, 'CheckIn'],
      ['empty envelope', create(SignedEnvelopeSchema), 'CheckIn'],
      [
        'short signature',
        withEnvelope(envelope, { signature: envelope.signature.subarray(0, 63) }),
        'CheckIn',
      ],
      ['long signature', withEnvelope(envelope, { signature: new Uint8Array(65) }), 'CheckIn'],
      ['empty envoy id', withEnvelope(envelope, { envoyId: '' }), 'CheckIn'],
      ['envoy id over 64 bytes', withEnvelope(envelope, { envoyId: 'é'.repeat(33) }), 'CheckIn'],
      ['zero timestamp', withEnvelope(envelope, { tsMs: 0n }), 'CheckIn'],
      ['negative timestamp', withEnvelope(envelope, { tsMs: -5n }), 'CheckIn'],
      [
        'oversized body',
        withEnvelope(envelope, { body: new Uint8Array(protocolLimits.bodyMaxBytes + 1) }),
        'CheckIn',
      ],
      ['unknown rpc', envelope, 'Bogus' as AgentRpc],
    ];
    for (const [name, candidate, rpc] of garbage) {
      assert.equal(verifyEnvelopeSignature(publicKey, rpc, candidate), false, name);
    }
    assert.equal(verifyEnvelopeSignature(rsa.publicKey, 'CheckIn', envelope), false, 'rsa key');
    assert.equal(verifyEnvelopeSignature(x25519.publicKey, 'CheckIn', envelope), false, 'x25519 key');
  });

  it('explains structural problems for the server’s first check', () => {
    assert.equal(envelopeProblem(envelope), undefined);
    assert.match(envelopeProblem(undefined) ?? '', /no envelope/);
    assert.match(
      envelopeProblem(withEnvelope(envelope, { signature: new Uint8Array(3) })) ?? '',
      /signature is 3 bytes/,
    );
    assert.match(
      envelopeProblem(withEnvelope(envelope, { envoyId: 'x'.repeat(65) })) ?? '',
      /envoy_id is 65 bytes/,
    );
  });

  it('refuses to sign what the server would refuse, or with a key that is not Ed25519', () => {
    assert.throws(
      () => signEnvelope(privateKey, 'CheckIn', '', tsMs, body),
      (e) => vigoCode(e) === 'request.invalid',
    );
    assert.throws(
      () => signEnvelope(privateKey, 'CheckIn', envoyId, 0, body),
      (e) => vigoCode(e) === 'request.invalid',
    );
    assert.throws(
      () =>
        signEnvelope(privateKey, 'CheckIn', envoyId, tsMs, new Uint8Array(protocolLimits.bodyMaxBytes + 1)),
      (e) => vigoCode(e) === 'request.invalid',
    );
    assert.throws(
      () => signEnvelope(publicKey, 'CheckIn', envoyId, tsMs, body),
      (e) => vigoCode(e) === 'pki.key_invalid',
    );
  });

  it('verifies for any envoy id, timestamp and body, and not after the body changes', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 16, unit: 'grapheme' }),
        fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }),
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.constantFrom(...agentRpcs),
        (id, ts, data, rpc) => {
          fc.pre(Buffer.byteLength(id) <= protocolLimits.envoyIdMaxBytes);
          const signed = signEnvelope(privateKey, rpc, id, ts, data);
          assert.equal(verifyEnvelopeSignature(publicKey, rpc, signed), true);
          const tampered = withEnvelope(signed, { body: flipByte(data, data.length - 1) });
          assert.equal(verifyEnvelopeSignature(publicKey, rpc, tampered), false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('signRequest / decodePayload', () => {
  it('builds a signed request whose body decodes back to the payload', () => {
    const request = signRequest('CheckIn', privateKey, envoyId, tsMs, {
      agentVersion: '0.1.0',
      policyVersion: 3n,
      traitsHash: 'ab'.repeat(32),
    });
    assert.equal(request.$typeName, 'vigo.agent.v1.CheckInRequest');
    assert.equal(verifyEnvelopeSignature(publicKey, 'CheckIn', request.envelope), true);
    const payload = decodePayload('CheckIn', request.envelope!.body);
    assert.equal(payload.agentVersion, '0.1.0');
    assert.equal(payload.policyVersion, 3n);
    assert.equal(payload.traitsHash, 'ab'.repeat(32));
  });

  it('signs stream messages with their oneof payload', () => {
    const request = signRequest('AgentStream', privateKey, envoyId, tsMs, {
      kind: { case: 'hello', value: { agentVersion: '0.1.0', policyVersion: 1n } },
    });
    assert.equal(request.$typeName, 'vigo.agent.v1.AgentStreamRequest');
    assert.equal(verifyEnvelopeSignature(publicKey, 'AgentStream', request.envelope), true);
    const payload = decodePayload('AgentStream', request.envelope!.body);
    assert.equal(payload.kind.case, 'hello');
  });

  it('refuses a body that is not the payload message', () => {
    assert.throws(
      () => decodePayload('ReportResults', Uint8Array.of(0x0a, 0x05, 0x01)),
      (e) => vigoCode(e) === 'request.invalid' && /ReportResultsPayload/.test((e as Error).message),
    );
  });
});

describe('createEnvelopeClock', () => {
  it('yields strictly increasing timestamps even when the clock stands still or steps back', () => {
    const readings = [1000, 1000, 900, 1500, 1500];
    let i = 0;
    const next = createEnvelopeClock(0n, () => readings[i++]!);
    assert.deepEqual([next(), next(), next(), next(), next()], [1000n, 1001n, 1002n, 1500n, 1501n]);
  });

  it('resumes after a persisted timestamp', () => {
    const next = createEnvelopeClock(5000n, () => 10);
    assert.equal(next(), 5001n);
  });
});
