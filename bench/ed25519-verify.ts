/**
 * Ed25519 throughput of the check-in hot path: envelope verification (server) and signing (agent) with
 * node:crypto and KeyObjects parsed once, as protocol/ uses them. Also shows what re-parsing the raw public
 * key on every request would cost. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/ed25519-verify.ts
 */
import { generateKeyPairSync, verify } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  CheckInPayloadSchema,
  publicKeyFromRaw,
  rawFromPublicKey,
  signEnvelope,
  signRequest,
  signedBytes,
  verifyEnvelopeSignature,
} from '../protocol/index.ts';

const runMs = 1000;

function measure(name: string, op: () => unknown): void {
  for (let i = 0; i < 200; i++) op(); // warm up
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(runMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 100; i++) op();
    count += 100;
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - start) / 1e9;
  const perSecond = Math.round(count / seconds);
  const micros = ((seconds * 1e6) / count).toFixed(1);
  console.log(`${name.padEnd(44)} ${String(perSecond).padStart(9)} ops/s  ${micros.padStart(7)} µs/op`);
}

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const envoyId = '5f0c2a8e-6a4b-4f1e-9a53-3b1f0d2c7e91';
// A typical steady-state check-in body: identity, versions, fingerprints, no traits.
const body = toBinary(
  CheckInPayloadSchema,
  create(CheckInPayloadSchema, {
    agentVersion: '0.1.0',
    hostname: 'web-01.prod.example.internal',
    policyVersion: 1234n,
    stateFingerprint: 'ab'.repeat(32),
    traitsHash: 'cd'.repeat(32),
    secretsEpoch: 17n,
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  }),
);
const envelope = signEnvelope(privateKey, 'CheckIn', envoyId, Date.now(), body);
const raw = rawFromPublicKey(publicKey);
let ts = Date.now();

console.log(`node ${process.version}, body ${body.length} bytes, ~${runMs} ms per figure`);
// The floor: crypto.verify alone over the same bytes, so the envelope's own overhead is visible.
const data = signedBytes('CheckIn', envoyId, envelope.tsMs, body);
measure('crypto.verify alone (same bytes)', () => verify(null, data, publicKey, envelope.signature));
measure('verify envelope (pre-parsed KeyObject)', () =>
  verifyEnvelopeSignature(publicKey, 'CheckIn', envelope),
);
measure('verify envelope (parse raw key every time)', () =>
  verifyEnvelopeSignature(publicKeyFromRaw(raw), 'CheckIn', envelope),
);
measure('sign envelope', () => signEnvelope(privateKey, 'CheckIn', envoyId, ++ts, body));
measure('sign full CheckInRequest (encode + sign)', () =>
  signRequest('CheckIn', privateKey, envoyId, ++ts, { agentVersion: '0.1.0', policyVersion: 1234n }),
);
