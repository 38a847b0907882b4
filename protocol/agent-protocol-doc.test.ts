/**
 * docs/agent-protocol.md promises that its worked example is real bytes an implementer can check their code
 * against. This recomputes every value of the example with the protocol's own code and compares.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  CheckInPayloadSchema,
  CheckInRequestSchema,
  SignedEnvelopeSchema,
  ed25519KeyProblem,
  rawFromPublicKey,
  signedBytes,
  verifyEnvelopeSignature,
} from './index.ts';
import { canonicalJson } from '../agent/traits/index.ts';

const doc = readFileSync(new URL('../docs/agent-protocol.md', import.meta.url), 'utf8');
const example = doc.slice(doc.indexOf('## Worked example'));

/** The fenced blocks of the worked example, in order. */
const blocks = [...example.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

/** The bytes a block spells: each line's leading run of two-digit hex tokens, annotations ignored. */
function blockBytes(block: string): string {
  return block
    .split('\n')
    .map((line) => /^(?:[0-9a-f]{2} )*[0-9a-f]{2}(?= |$)/.exec(line.trimStart())?.[0] ?? '')
    .join('')
    .replaceAll(' ', '');
}

function labelled(label: string): string {
  const value = new RegExp(`^${label}\\s+(\\S+)`, 'm').exec(example)?.[1];
  assert.ok(value !== undefined, `the example names its ${label}`);
  return value;
}

const seed = Buffer.from(labelled('private seed'), 'hex');
const privateKey = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
  format: 'der',
  type: 'pkcs8',
});
const publicRaw = rawFromPublicKey(createPublicKey(privateKey));
const envoyId = /`envoyId` `([0-9a-f-]{36})`/.exec(example)?.[1] ?? '';
const tsMs = BigInt(/at\s+`ts_ms` (\d+)/.exec(example)?.[1] ?? '0');
const traitsText = blocks[1]?.split('\n')[0] ?? '';

describe('the worked example of docs/agent-protocol.md', () => {
  it('derives its public key from its seed, in both encodings, and the key is fit to enroll', () => {
    assert.equal(labelled('public key'), publicRaw.toString('hex'));
    assert.equal(labelled('publicKey'), publicRaw.toString('base64'));
    assert.equal(ed25519KeyProblem(publicRaw), undefined);
  });

  it('shows canonical traits and their SHA-256', () => {
    assert.equal(canonicalJson(JSON.parse(traitsText) as Record<string, unknown>), traitsText);
    assert.equal(labelled('traits_hash'), createHash('sha256').update(traitsText).digest('hex'));
  });

  it('spells the payload, signed bytes, signature and request exactly as the protocol code makes them', () => {
    const traitsHash = labelled('traits_hash');
    const body = toBinary(
      CheckInPayloadSchema,
      create(CheckInPayloadSchema, { agentVersion: '0.1.0', hostname: 'web-01', traitsHash }),
    );
    const bytes = signedBytes('CheckIn', envoyId, tsMs, body);
    const signature = sign(null, bytes, privateKey);
    const request = toBinary(
      CheckInRequestSchema,
      create(CheckInRequestSchema, {
        envelope: create(SignedEnvelopeSchema, { envoyId, tsMs, body, signature }),
      }),
    );
    assert.equal(blockBytes(blocks[2] ?? ''), Buffer.from(body).toString('hex'));
    assert.equal(blockBytes(blocks[3] ?? ''), bytes.toString('hex'));
    assert.equal(blockBytes(blocks[4] ?? ''), signature.toString('hex'));
    assert.equal(blockBytes(blocks[5] ?? ''), Buffer.from(request).toString('hex'));
    const decoded = fromBinary(CheckInRequestSchema, Buffer.from(blockBytes(blocks[5] ?? ''), 'hex'));
    assert.ok(decoded.envelope);
    assert.equal(verifyEnvelopeSignature(createPublicKey(privateKey), 'CheckIn', decoded.envelope), true);
  });
});
