/**
 * checkin.workers: agent connections terminated in check-in processes, every call answered by the server
 * process. A real server in this process with two check-in processes; each client below holds its own
 * connection, and the server hands connections to its check-in processes in turn, so two clients opened
 * one after the other land on different processes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { generateKeyPairSync } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  VigoAgent,
  createEnvelopeClock,
  createServiceClient,
  errorCodeOf,
  signRequest,
} from '../protocol/index.ts';
import type { CheckInResponse, PayloadInit, ServiceClient } from '../protocol/index.ts';
import { enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import { startInProcessServer } from './helpers/in-process-server.ts';
import type { InProcessServer } from './helpers/in-process-server.ts';
import { makeTempDir } from './helpers/server-process.ts';
import { StreamAgent } from './helpers/stream-agent.ts';

type Client = ServiceClient<typeof VigoAgent.method>;

const temp = makeTempDir('vigo-workers-');
let server: InProcessServer;
const clients: Client[] = [];
const clock = createEnvelopeClock();

/** A client on a connection of its own (grpc-js would otherwise share one between equal channels). */
function client(agent: EnrolledAgent): Client {
  const made = createServiceClient(
    VigoAgent,
    `127.0.0.1:${server.grpcPort}`,
    grpc.credentials.createSsl(
      Buffer.from(server.ca),
      Buffer.from(agent.tlsKeyPem),
      Buffer.from(agent.certPem),
    ),
    { channelOptions: { 'grpc.use_local_subchannel_pool': 1 } },
  );
  clients.push(made);
  return made;
}

function checkInRequest(agent: EnrolledAgent, payload: PayloadInit<'CheckIn'> = {}) {
  return signRequest('CheckIn', agent.signingKey, agent.envoyId, Number(clock()), {
    agentVersion: 'test',
    hostname: agent.hostname,
    traitsHash: '',
    ...payload,
  });
}

async function refusal(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (err) {
    return errorCodeOf(err as grpc.ServiceError);
  }
  throw new Error('the call succeeded but a refusal was expected');
}

function workers() {
  const running = server.running.checkinWorkers;
  if (running === undefined) throw new Error('the server runs no check-in processes');
  return running;
}

/** The reply without what differs between any two replies: the server's clock. */
function comparable(reply: CheckInResponse): CheckInResponse {
  return { ...reply, serverTimeMs: 0n };
}

before(async () => {
  server = await startInProcessServer({ dataDir: temp.path, env: { VIGO_CHECKIN_WORKERS: '2' } });
  await workers().whenReady();
});

after(async () => {
  for (const made of clients) made.close();
  await server.stop();
  temp.remove();
});

describe('check-in processes (checkin.workers: 2)', () => {
  let web: EnrolledAgent;
  let db: EnrolledAgent;

  before(async () => {
    const token = await server.enrollToken(['*.example.com']);
    web = await enrollAgent(server, token, 'web-1.example.com');
    db = await enrollAgent(server, token, 'db-1.example.com');
  });

  it('hold the agent connections and give the same answers from either process', async () => {
    const [a, b] = [client(web), client(web)];
    const fromA = await a.methods.checkIn(checkInRequest(web));
    const fromB = await b.methods.checkIn(checkInRequest(web));
    assert.equal(fromA.outcome.case, 'bundle');
    assert.equal(fromB.outcome.case, 'bundle');
    assert.equal(fromA.policyVersion, fromB.policyVersion);
    assert.equal(fromA.secretsEpoch, fromB.secretsEpoch);
    await waitFor('both connections counted in the check-in processes', () =>
      workers().openConnections() >= 2 ? true : undefined,
    );
    assert.equal(workers().pids().length, 2);

    const current = { policyVersion: fromA.policyVersion, secretsEpoch: fromA.secretsEpoch };
    const document = JSON.parse(
      Buffer.from(
        fromA.outcome.case === 'bundle' ? fromA.outcome.value.payload : new Uint8Array(),
      ).toString(),
    ) as { merkle_root: string };
    const held = { ...current, stateFingerprint: document.merkle_root };
    const noChangeA = await a.methods.checkIn(checkInRequest(web, held));
    const noChangeB = await b.methods.checkIn(checkInRequest(web, held));
    assert.equal(noChangeA.outcome.case, 'noChange');
    assert.deepEqual(comparable(noChangeA), comparable(noChangeB));
  });

  it('refuse on one process a request the other has answered', async () => {
    const [a, b] = [client(db), client(db)];
    const request = checkInRequest(db);
    await a.methods.checkIn(request);
    assert.equal(await refusal(b.methods.checkIn(request)), 'checkin.replayed');
    assert.equal(await refusal(a.methods.checkIn(request)), 'checkin.replayed');
  });

  it('refuse a forged signature once they verify signatures themselves', async () => {
    const a = client(db);
    // The first answer hands the check-in process the envoy's key; the next calls verify there.
    await a.methods.checkIn(checkInRequest(db));
    await a.methods.checkIn(checkInRequest(db));
    const forger = generateKeyPairSync('ed25519').privateKey;
    const forged = signRequest('CheckIn', forger, db.envoyId, Number(clock()), { hostname: db.hostname });
    assert.equal(await refusal(a.methods.checkIn(forged)), 'checkin.bad_signature');
    assert.equal((await a.methods.checkIn(checkInRequest(db))).outcome.case, 'bundle');
  });

  it('carry AgentStream: a force-push reaches a stream held through a check-in process', async () => {
    const agent = new StreamAgent(server, web);
    await agent.checkIn({});
    await agent.connect();
    await waitFor('the stream to be open', () =>
      server.running.fleet.get(web.envoyId)?.streamOpen ? true : undefined,
    );
    const reply = await server.adminRequest(`/api/v1/envoys/${web.envoyId}/push`, { method: 'POST' });
    assert.equal(reply.status, 200, reply.body);
    await waitFor('the ForcePush to arrive', () =>
      agent.received.some((m) => m.kind.case === 'forcePush') ? true : undefined,
    );
    await agent.disconnect();
    await waitFor('the stream to be closed', () =>
      server.running.fleet.get(web.envoyId)?.streamOpen === false ? true : undefined,
    );
  });

  it('resume a TLS session one process issued on the other, until the ticket keys rotate twice', async () => {
    const handshake = (session?: Buffer): Promise<{ reused: boolean; session: Buffer | undefined }> =>
      new Promise((resolve, reject) => {
        let ticket: Buffer | undefined;
        const socket: TLSSocket = connect({
          host: '127.0.0.1',
          port: server.grpcPort,
          ca: server.ca,
          key: web.tlsKeyPem,
          cert: web.certPem,
          servername: 'localhost',
          ALPNProtocols: ['h2'],
          ...(session === undefined ? {} : { session }),
        });
        let reused = false;
        const done = (): void => {
          socket.destroy();
          resolve({ reused, session: ticket });
        };
        socket.on('session', (issued: Buffer) => {
          ticket = issued;
          if (!reused) done();
        });
        socket.once('secureConnect', () => {
          reused = socket.isSessionReused();
          if (reused) done();
        });
        socket.on('error', reject);
      });
    const first = await handshake();
    assert.equal(first.reused, false);
    assert.ok(first.session !== undefined, 'a session ticket was issued');
    // Connections alternate between the two processes, so two resumptions cover both.
    assert.equal((await handshake(first.session)).reused, true);
    assert.equal((await handshake(first.session)).reused, true);
    server.running.rotateTicketKeys();
    server.running.rotateTicketKeys();
    assert.equal((await handshake(first.session)).reused, false, 'a ticket two rotations old');
    assert.equal((await handshake(first.session)).reused, false, 'on the other process too');
  });

  it('refuse a revoked envoy at once, on connections either process holds', async () => {
    const token = await server.enrollToken(['app-*.example.com']);
    const app = await enrollAgent(server, token, 'app-1.example.com');
    const [a, b] = [client(app), client(app)];
    await a.methods.checkIn(checkInRequest(app));
    await b.methods.checkIn(checkInRequest(app));
    const reply = await server.adminRequest(`/api/v1/envoys/${app.envoyId}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'decommissioned' }),
    });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(await refusal(a.methods.checkIn(checkInRequest(app))), 'checkin.revoked');
    assert.equal(await refusal(b.methods.checkIn(checkInRequest(app))), 'checkin.revoked');
  });

  it('start a check-in process again when one dies, and agents connect again', async () => {
    const [victim] = workers().pids();
    assert.ok(victim !== undefined);
    process.kill(victim, 'SIGKILL');
    await waitFor(
      'a new check-in process to be ready',
      () => (workers().ready() === 2 && !workers().pids().includes(victim) ? true : undefined),
      30_000,
    );
    for (const made of [client(web), client(web)]) {
      assert.ok((await made.methods.checkIn(checkInRequest(web))).outcome.case !== undefined);
    }
  });

  it('all end when the server drains', async () => {
    const pids = workers().pids();
    assert.equal(pids.length, 2);
    for (const made of clients.splice(0)) made.close();
    await server.stop();
    for (const pid of pids) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `check-in process ${pid} has exited`);
    }
  });
});
