/**
 * The signed check-in path against the real vigosrv over mTLS: enroll, check in, no-change on the second
 * check-in, each refusal with its status and code, durable results across kill -9, and a FleetIndex that
 * survives a restart.
 */
import Database from 'better-sqlite3';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CheckInRequestSchema,
  CheckInResponseSchema,
  ResourceOutcome,
  createEnvelopeClock,
  errorCodeOf,
  signEnvelope,
  signRequest,
  verifyBundle,
} from '../protocol/index.ts';
import type { CheckInResponse } from '../protocol/index.ts';
import { loadOrCreatePki } from '../server/pki/index.ts';
import { silentLogger } from '../server/core/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-checkin-');
let server: ReadyServer;
let token: string;
after(async () => {
  await server?.stop();
  temp.remove();
});
before(async () => {
  server = await startServer({ dataDir: temp.path });
  token = await createEnrollToken(server, ['web-*.example.com', 'db-*.example.com'], 20);
});

async function refusal(promise: Promise<unknown>): Promise<{ code: number; vigo: string | undefined }> {
  try {
    await promise;
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, vigo: errorCodeOf(e) };
  }
  throw new Error('the call succeeded but a refusal was expected');
}

function checkIn(
  agent: EnrolledAgent,
  tsMs: number,
  payload: { policyVersion?: bigint; stateFingerprint?: string } = {},
): Promise<CheckInResponse> {
  const client = agentClient(server, agent);
  return client.methods
    .checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, tsMs, {
        agentVersion: 'test',
        hostname: agent.hostname,
        ...payload,
      }),
    )
    .finally(() => client.close());
}

describe('check-in over mTLS', () => {
  let web: EnrolledAgent;
  let db: EnrolledAgent;
  const clock = createEnvelopeClock();

  before(async () => {
    web = await enrollAgent(server, token, 'web-1.example.com');
    db = await enrollAgent(server, token, 'db-1.example.com');
  });

  it('serves a signed bundle first, then a small no-change reply', async () => {
    const first = await checkIn(web, Number(clock()));
    assert.equal(first.outcome.case, 'bundle');
    const pki = await loadOrCreatePki({
      tlsDir: join(temp.path, 'tls'),
      hostname: 'localhost',
      extraSans: [],
      log: silentLogger,
    });
    assert.ok(
      verifyBundle(pki.bundlePublicKey, first.outcome.value),
      'the bundle verifies with the bundle-signing key',
    );
    const document = JSON.parse(Buffer.from(first.outcome.value.payload).toString('utf8')) as {
      format_version: number;
      policy_version: number;
      merkle_root: string;
      expires_at_ms: number;
      resources: unknown[];
    };
    assert.equal(BigInt(document.policy_version), first.policyVersion);
    assert.equal(document.format_version, 1, 'the documented bundle format');
    assert.deepEqual(document.resources, [], 'nothing to manage before a publish');
    assert.ok(
      document.expires_at_ms > Date.now() + 23 * 3_600_000,
      'expires after checkin.bundle_max_age (24h)',
    );

    const second = await checkIn(web, Number(clock()), {
      policyVersion: first.policyVersion,
      stateFingerprint: document.merkle_root,
    });
    assert.equal(second.outcome.case, 'noChange');
    assert.ok(
      toBinary(CheckInResponseSchema, second).length <= 100,
      'no-change reply stays around 100 bytes',
    );

    const byFingerprint = await checkIn(web, Number(clock()), {
      policyVersion: first.policyVersion + 1n,
      stateFingerprint: document.merkle_root,
    });
    assert.equal(byFingerprint.outcome.case, 'noChange', 'a matching Merkle root is no-change too');
    const fresh = await checkIn(web, Number(clock()), {
      policyVersion: 0n,
      stateFingerprint: document.merkle_root,
    });
    assert.equal(fresh.outcome.case, 'bundle', 'policy_version 0 always asks for a bundle');
  });

  it('asks for full traits only when their hash is unknown, and stores them once', async () => {
    const traits = Buffer.from(JSON.stringify({ os: { family: 'debian' }, hostname: 'web-1' }));
    const hash = createHash('sha256').update(traits).digest('hex');
    const client = agentClient(server, web);
    try {
      const ask = await client.methods.checkIn(
        signRequest('CheckIn', web.signingKey, web.envoyId, clock(), {
          hostname: web.hostname,
          traitsHash: hash,
        }),
      );
      assert.equal(ask.sendTraits, true);
      assert.equal(ask.outcome.case, 'bundle', 'an entry that renders no traits needs none for its bundle');
      const send = await client.methods.checkIn(
        signRequest('CheckIn', web.signingKey, web.envoyId, clock(), {
          hostname: web.hostname,
          traitsHash: hash,
          traitsJson: traits,
        }),
      );
      assert.equal(send.sendTraits, false);
      const again = await client.methods.checkIn(
        signRequest('CheckIn', web.signingKey, web.envoyId, clock(), {
          hostname: web.hostname,
          traitsHash: hash,
        }),
      );
      assert.equal(again.sendTraits, false);
    } finally {
      client.close();
    }
  });

  it('refuses bad signatures, wrong keys, replays, stale timestamps, unknown envoys and borrowed certificates', async () => {
    const client = agentClient(server, web);
    try {
      const good = signRequest('CheckIn', web.signingKey, web.envoyId, clock(), { hostname: web.hostname });
      await client.methods.checkIn(good);
      assert.deepEqual(await refusal(client.methods.checkIn(good)), {
        code: grpc.status.FAILED_PRECONDITION,
        vigo: 'checkin.replayed',
      });

      const tampered = signRequest('CheckIn', web.signingKey, web.envoyId, clock(), {
        hostname: web.hostname,
      });
      tampered.envelope!.signature[0]! ^= 0xff;
      assert.deepEqual(await refusal(client.methods.checkIn(tampered)), {
        code: grpc.status.UNAUTHENTICATED,
        vigo: 'checkin.bad_signature',
      });

      const otherKey = generateKeyPairSync('ed25519').privateKey;
      const wrongKey = signRequest('CheckIn', otherKey, web.envoyId, clock(), { hostname: web.hostname });
      assert.deepEqual(await refusal(client.methods.checkIn(wrongKey)), {
        code: grpc.status.UNAUTHENTICATED,
        vigo: 'checkin.bad_signature',
      });

      const stale = signRequest('CheckIn', web.signingKey, web.envoyId, Date.now() - 3_600_000, {
        hostname: web.hostname,
      });
      assert.deepEqual(await refusal(client.methods.checkIn(stale)), {
        code: grpc.status.FAILED_PRECONDITION,
        vigo: 'checkin.clock_skew',
      });

      const unknown = signRequest('CheckIn', web.signingKey, randomUUID(), clock(), {
        hostname: web.hostname,
      });
      assert.deepEqual(await refusal(client.methods.checkIn(unknown)), {
        code: grpc.status.UNAUTHENTICATED,
        vigo: 'checkin.unknown_envoy',
      });

      const borrowed = signRequest('CheckIn', db.signingKey, db.envoyId, clock(), { hostname: db.hostname });
      assert.deepEqual(
        await refusal(client.methods.checkIn(borrowed)),
        { code: grpc.status.UNAUTHENTICATED, vigo: 'checkin.identity_mismatch' },
        "web's certificate with db's id",
      );

      const garbage = create(CheckInRequestSchema, {
        envelope: signEnvelope(
          web.signingKey,
          'CheckIn',
          web.envoyId,
          clock(),
          new Uint8Array([0xff, 0xff, 0xff]),
        ),
      });
      assert.deepEqual(await refusal(client.methods.checkIn(garbage)), {
        code: grpc.status.INVALID_ARGUMENT,
        vigo: 'checkin.payload_invalid',
      });
    } finally {
      client.close();
    }
  });

  it('refuses a connection without a client certificate', async () => {
    const client = agentClient(server, undefined);
    try {
      const outcome = await refusal(
        client.methods.checkIn(signRequest('CheckIn', web.signingKey, web.envoyId, clock(), {})),
      );
      assert.equal(outcome.code, grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it('acknowledges results only when durable: they survive kill -9, and redelivery is idempotent', async () => {
    const runId = randomUUID();
    const report = () =>
      signRequest('ReportResults', web.signingKey, web.envoyId, clock(), {
        runs: [
          {
            runId,
            policyVersion: 1n,
            startedAtMs: BigInt(Date.now() - 50),
            finishedAtMs: BigInt(Date.now()),
            results: [
              {
                resourceId: 'file:/etc/motd',
                resourceType: 'file',
                configcrate: 'motd',
                outcome: ResourceOutcome.UPDATED,
                durationMs: 4,
              },
              {
                resourceId: 'dir:/srv/app',
                resourceType: 'directory',
                configcrate: 'app',
                outcome: ResourceOutcome.NONE,
                durationMs: 1,
              },
            ],
          },
        ],
      });
    const client = agentClient(server, web);
    const ack = await client.methods.reportResults(report());
    client.close();
    assert.deepEqual(ack.acceptedRunIds, [runId]);

    server.child.kill('SIGKILL');
    await server.exited();
    server = await startServer({ dataDir: temp.path });
    const store = new Database(join(temp.path, 'db', 'vigo.db'), { readonly: true });
    const rows = store.prepare('SELECT count(*) FROM run_results WHERE run_id = ?').pluck().get(runId);
    store.close();
    assert.equal(rows, 2, 'acknowledged results are there after kill -9');

    const again = agentClient(server, web);
    const second = await again.methods.reportResults(report());
    again.close();
    assert.deepEqual(second.acceptedRunIds, [runId]);
    const check = new Database(join(temp.path, 'db', 'vigo.db'), { readonly: true });
    assert.equal(
      check.prepare('SELECT count(*) FROM run_results WHERE run_id = ?').pluck().get(runId),
      2,
      'not stored twice',
    );
    check.close();
  });

  it('keeps the FleetIndex across a graceful restart', async () => {
    const before = await checkIn(db, Number(clock()));
    assert.equal(before.outcome.case, 'bundle');
    assert.equal(await server.stop(), 0);
    const store = new Database(join(temp.path, 'db', 'vigo.db'), { readonly: true });
    const row = store
      .prepare('SELECT last_seen_at, last_ts_ms, agent_version FROM envoys WHERE id = ?')
      .get(db.envoyId) as {
      last_seen_at: number;
      last_ts_ms: number;
      agent_version: string;
    };
    store.close();
    assert.ok(row.last_seen_at > 0, 'last seen was flushed at stop');
    assert.equal(row.agent_version, 'test');
    server = await startServer({ dataDir: temp.path });
    const replay = signRequest('CheckIn', db.signingKey, db.envoyId, row.last_ts_ms, {
      hostname: db.hostname,
    });
    const client = agentClient(server, db);
    try {
      assert.deepEqual(
        await refusal(client.methods.checkIn(replay)),
        { code: grpc.status.FAILED_PRECONDITION, vigo: 'checkin.replayed' },
        'the replay watermark survived the restart',
      );
    } finally {
      client.close();
    }
  });

  it('refuses a revoked envoy', async () => {
    assert.equal(await server.stop(), 0);
    const store = new Database(join(temp.path, 'db', 'vigo.db'));
    store
      .prepare("UPDATE envoys SET status = 'revoked', revoked_at = ? WHERE id = ?")
      .run(Date.now(), db.envoyId);
    store.close();
    server = await startServer({ dataDir: temp.path });
    const client = agentClient(server, db);
    try {
      const outcome = await refusal(
        client.methods.checkIn(signRequest('CheckIn', db.signingKey, db.envoyId, clock(), {})),
      );
      assert.deepEqual(outcome, { code: grpc.status.PERMISSION_DENIED, vigo: 'checkin.revoked' });
    } finally {
      client.close();
    }
  });
});
