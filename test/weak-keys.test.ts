/**
 * Weak ed25519 keys against the real vigosrv: every small-order point and a non-canonical encoding are
 * refused at enrollment over REST, and a weak key planted in the envoys table is refused at load, so a
 * constant "signature" made without any private key never authenticates a request.
 */
import Database from 'better-sqlite3';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CheckInPayloadSchema,
  CheckInRequestSchema,
  SignedEnvelopeSchema,
  errorCodeOf,
} from '../protocol/index.ts';
import { generateAgentKeyAndCsr } from '../server/pki/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-weak-keys-');
const dbFile = join(temp.path, 'db', 'vigo.db');
let server: ReadyServer;
let token: string;
before(async () => {
  server = await startServer({ dataDir: temp.path });
  token = await createEnrollToken(server, ['weak-*.example.com', 'planted.example.com'], 50);
});
after(async () => {
  await server?.stop();
  temp.remove();
});

/** R = the identity point's encoding, S = 0: verifies under the identity key for every message. */
const forgedSignature = Buffer.concat([Buffer.from([1]), Buffer.alloc(63)]);
const identityKey = Buffer.from(`01${'00'.repeat(31)}`, 'hex');

/**
 * The eight points of small order ([8]P = identity), as protocol/keys.test.ts derives them: the identity,
 * the point of order 2, the two of order 4 and the four of order 8.
 */
const smallOrderPoints = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
].map((hex) => Buffer.from(hex, 'hex'));
const fieldPrime = 2n ** 255n - 19n;

function littleEndian(value: bigint, signBit = 0): Buffer {
  const out = Buffer.alloc(32);
  let rest = value;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  out[31]! |= signBit << 7;
  return out;
}

function envoyCount(): number {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM envoys').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('weak ed25519 keys', () => {
  it('refuses every small-order point and non-canonical encodings at enrollment, storing nothing', async () => {
    const { csrPem } = await generateAgentKeyAndCsr('weak-1.example.com');
    const weak = [
      ...smallOrderPoints,
      littleEndian(fieldPrime + 1n), // y = p + 1: the identity, non-canonically
      littleEndian(1n, 1), // x = 0 with its sign bit set
    ];
    assert.equal(weak.length, 10);
    const before = envoyCount();
    let address = 20;
    for (const key of weak) {
      address += 1;
      const reply = await server.request('/api/v1/enroll', {
        method: 'POST',
        localAddress: `127.0.0.${address}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token,
          hostname: 'weak-1.example.com',
          publicKey: key.toString('base64'),
          csr: csrPem,
        }),
      });
      assert.equal(reply.status, 400, `${key.toString('hex')}: ${reply.body}`);
      assert.equal(reply.json<{ code: string }>().code, 'enroll.key_invalid', key.toString('hex'));
    }
    assert.equal(envoyCount(), before, 'no envoy row was written');
  });

  it('loads a weak key planted in the database as unable to authenticate: a forged signature is refused', async () => {
    const agent = await enrollAgent(server, token, 'planted.example.com');
    assert.equal(await server.stop(), 0);
    const db = new Database(dbFile);
    db.prepare('UPDATE envoys SET public_key = ? WHERE id = ?').run(identityKey, agent.envoyId);
    db.close();

    server = await startServer({ dataDir: temp.path });
    const body = toBinary(CheckInPayloadSchema, create(CheckInPayloadSchema, { hostname: agent.hostname }));
    const forged = create(CheckInRequestSchema, {
      envelope: create(SignedEnvelopeSchema, {
        envoyId: agent.envoyId,
        tsMs: BigInt(Date.now()),
        body,
        signature: forgedSignature,
      }),
    });
    const client = agentClient(server, agent);
    try {
      const outcome = await client.methods.checkIn(forged).then(
        () => undefined,
        (err: grpc.ServiceError) => ({ code: err.code, vigo: errorCodeOf(err) }),
      );
      assert.deepEqual(outcome, { code: grpc.status.UNAUTHENTICATED, vigo: 'checkin.bad_signature' });
    } finally {
      client.close();
    }
    const logged = await server.waitForLog(
      'the refused key to be logged',
      (line) => line.level === 'error' && line['envoyId'] === agent.envoyId,
    );
    assert.match(String(logged['reason']), /small order/);
  });
});
