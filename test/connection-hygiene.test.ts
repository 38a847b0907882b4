/**
 * Connection hygiene on both ports of the real vigosrv: connections that never finish their TLS handshake
 * or never send a request are closed (agent connections in either connection mode); an address beyond its connection cap is refused while others are
 * not (and verified agents never count on the gRPC port); HTTP/2 streams per agent connection are
 * bounded; and with 5,000 idle anonymous connections open, agents still enroll and check in.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, describe, it } from 'node:test';
import { signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const servers: ReadyServer[] = [];
const temps: { remove(): void }[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) await server.stop();
  for (const temp of temps) temp.remove();
});

async function serverWith(env: Record<string, string>): Promise<ReadyServer> {
  const temp = makeTempDir('vigo-conns-');
  temps.push(temp);
  const server = await startServer({ dataDir: temp.path, env });
  servers.push(server);
  return server;
}

interface Watched<S extends Socket> {
  readonly socket: S;
  closed(): boolean;
}

function watch<S extends Socket>(socket: S): Watched<S> {
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  sockets.push(socket);
  return { socket, closed: () => closed };
}

/** A TCP connection that never starts its TLS handshake. */
function openSilent(port: number, localAddress = '127.0.0.1'): Promise<Watched<Socket>> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, localAddress }, () => resolve(watch(socket)));
    socket.once('error', reject);
  });
}

/** A TLS connection that finishes its handshake (with a client certificate when given) and then says nothing. */
function openIdleTls(
  server: ReadyServer,
  port: number,
  options: { localAddress?: string; cert?: string; key?: string; alpn?: string[] } = {},
): Promise<Watched<Socket>> {
  return new Promise((resolve, reject) => {
    const tcp = netConnect({ host: '127.0.0.1', port, localAddress: options.localAddress ?? '127.0.0.1' });
    const socket = tlsConnect(
      {
        socket: tcp,
        ca: server.ca,
        servername: 'localhost',
        cert: options.cert,
        key: options.key,
        ALPNProtocols: options.alpn,
      },
      () => resolve(watch(socket)),
    );
    socket.once('error', reject);
  });
}

function closedSoon(what: string, conn: Watched<Socket>): Promise<true> {
  return waitFor(what, () => (conn.closed() ? true : undefined), 20_000);
}

async function metric(server: ReadyServer, pattern: RegExp): Promise<number> {
  const admin = `Bearer ${readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim()}`;
  const body = (await server.request('/metrics', { headers: { authorization: admin } })).body;
  return Number(pattern.exec(body)?.[1] ?? 0);
}

async function checkIn(server: ReadyServer, agent: EnrolledAgent): Promise<bigint> {
  const client = agentClient(server, agent);
  try {
    const reply = await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, Date.now(), {
        agentVersion: 'test',
        hostname: agent.hostname,
      }),
    );
    return reply.serverTimeMs;
  } finally {
    client.close();
  }
}

describe('connections that say nothing', () => {
  it('are closed when they do not finish the handshake or send no first request in time', async () => {
    const server = await serverWith({
      VIGO_SERVER_TLS_HANDSHAKE_TIMEOUT: '1s',
      VIGO_HTTP_FIRST_REQUEST_TIMEOUT: '1s',
    });
    const httpsSilent = await openSilent(server.apiPort);
    const httpsIdle = await openIdleTls(server, server.apiPort);
    const grpcSilent = await openSilent(server.grpcPort);
    await closedSoon('the HTTPS port to close a connection that never starts TLS', httpsSilent);
    await closedSoon('the HTTPS port to close a TLS connection that sends no request', httpsIdle);
    await closedSoon('the gRPC port to close a connection that never starts TLS', grpcSilent);
    assert.equal(
      await metric(
        server,
        /^vigo_connections_timed_out_total\{listener="https",phase="first_request"\} (\d+)/m,
      ),
      1,
    );
    assert.ok(
      (await metric(
        server,
        /^vigo_connections_timed_out_total\{listener="grpc",phase="handshake"\} (\d+)/m,
      )) >= 1,
    );
    // A connection that does send its request in time is served as usual.
    assert.equal((await server.request('/healthz')).status, 200);
  });
});

describe('agent connections that call nothing', () => {
  for (const mode of ['held', 'poll']) {
    it(`are closed after grpc.connection_idle_timeout in ${mode} mode, while one holding a stream stays`, async () => {
      const server = await serverWith({
        VIGO_GRPC_CONNECTION_IDLE_TIMEOUT: '1s',
        VIGO_CHECKIN_CONNECTION: mode,
      });
      const token = await createEnrollToken(server, [`idle-*.${mode}.example.com`]);
      const quiet = await enrollAgent(server, token, `idle-1.${mode}.example.com`);
      const holder = await enrollAgent(server, token, `idle-2.${mode}.example.com`);
      const silent = await openIdleTls(server, server.grpcPort, {
        cert: quiet.certPem,
        key: quiet.tlsKeyPem,
        alpn: ['h2'],
      });
      // It reads what the server sends (its HTTP/2 settings, then the GOAWAY and the end), as any client.
      silent.socket.resume();
      const client = agentClient(server, holder);
      try {
        const stream = client.methods.agentStream();
        let ended = false;
        stream.on('status', () => (ended = true));
        stream.on('error', () => undefined);
        stream.write(
          signRequest('AgentStream', holder.signingKey, holder.envoyId, Date.now(), {
            kind: { case: 'hello', value: { agentVersion: 'test' } },
          }),
        );
        await closedSoon('the connection that never called to be closed', silent);
        assert.equal(ended, false, 'the connection with a stream open is not idle');
        stream.end();
      } finally {
        client.close();
      }
    });
  }
});

describe('the per-address connection cap', () => {
  it('refuses the excess from one address, and only from that address', async () => {
    const cap = 5;
    const server = await serverWith({
      VIGO_HTTP_MAX_CONNECTIONS_PER_ADDRESS: String(cap),
      VIGO_GRPC_MAX_HANDSHAKES_PER_ADDRESS: String(cap),
    });
    for (const port of [server.apiPort, server.grpcPort]) {
      const held = await Promise.all(Array.from({ length: cap }, () => openSilent(port, '127.0.0.2')));
      const excess = await openSilent(port, '127.0.0.2');
      await closedSoon(`port ${port} to refuse connection ${cap + 1} from 127.0.0.2`, excess);
      const other = await openSilent(port, '127.0.0.3');
      assert.equal(await server.request('/healthz').then((r) => r.status), 200);
      assert.deepEqual(
        held.map((c) => c.closed()),
        held.map(() => false),
        'the connections within the cap stay open',
      );
      assert.equal(other.closed(), false, 'another address is not refused');
    }
    assert.equal(await metric(server, /^vigo_connections_refused_total\{listener="https"\} (\d+)/m), 1);
    assert.equal(await metric(server, /^vigo_connections_refused_total\{listener="grpc"\} (\d+)/m), 1);
  });

  it('never counts verified agent connections on the gRPC port (a fleet behind one NAT address)', async () => {
    const server = await serverWith({ VIGO_GRPC_MAX_HANDSHAKES_PER_ADDRESS: '2' });
    const token = await createEnrollToken(server, ['nat-*.example.com']);
    const agents = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => enrollAgent(server, token, `nat-${i}.example.com`)),
    );
    const held = [];
    for (const agent of agents) {
      held.push(
        await openIdleTls(server, server.grpcPort, {
          cert: agent.certPem,
          key: agent.tlsKeyPem,
          alpn: ['h2'],
        }),
      );
    }
    assert.ok(await checkIn(server, agents[0] as EnrolledAgent));
    assert.deepEqual(
      held.map((c) => c.closed()),
      held.map(() => false),
    );
  });
});

describe('HTTP/2 on the gRPC port', () => {
  it('announces a bounded number of concurrent streams per connection', async () => {
    const server = await serverWith({});
    const token = await createEnrollToken(server, ['streams.example.com']);
    const agent = await enrollAgent(server, token, 'streams.example.com');
    const session = http2Connect(`https://127.0.0.1:${server.grpcPort}`, {
      ca: server.ca,
      cert: agent.certPem,
      key: agent.tlsKeyPem,
      servername: 'localhost',
    });
    try {
      const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      assert.equal(settings.maxConcurrentStreams, 100);
    } finally {
      session.close();
    }
  });
});

describe('5,000 idle anonymous connections', () => {
  it('leave room for agents to enroll, check in and use the API', async () => {
    const server = await serverWith({
      VIGO_SERVER_TLS_HANDSHAKE_TIMEOUT: '5m',
      VIGO_HTTP_FIRST_REQUEST_TIMEOUT: '5m',
    });
    const token = await createEnrollToken(server, ['busy-*.example.com']);
    // 2,500 on each port, from 10 addresses per port so that each stays within the per-address cap.
    const idle: Watched<Socket>[] = [];
    for (let a = 0; a < 10; a += 1) {
      const apiFrom = `127.0.1.${a + 1}`;
      const grpcFrom = `127.0.2.${a + 1}`;
      for (let i = 0; i < 250; i += 25) {
        idle.push(
          ...(await Promise.all([
            ...Array.from({ length: 25 }, () =>
              openIdleTls(server, server.apiPort, { localAddress: apiFrom }),
            ),
            ...Array.from({ length: 25 }, () => openSilent(server.grpcPort, grpcFrom)),
          ])),
        );
      }
    }
    assert.equal(idle.length, 5_000);
    const agent = await enrollAgent(server, token, 'busy-1.example.com');
    assert.ok(await checkIn(server, agent));
    assert.equal((await server.request('/healthz')).status, 200);
    assert.equal(idle.filter((c) => c.closed()).length, 0, 'the idle connections were all still open');
  });
});
