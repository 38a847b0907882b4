/**
 * One client process of the held-connections benchmark: opens its share of agent connections to vigosrv
 * the way the reference agent's grpc-js channel does (mTLS with the client certificate, ALPN h2, the HTTP/2
 * preface and SETTINGS with grpc-js's session options, optionally one signed CheckIn), then holds them
 * idle until told to close. Plain node:http2 rather than one grpc-js channel per connection, so that
 * thousands of connections fit in one process; the bytes on the wire are the same.
 */
import { toBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { createRequire } from 'node:module';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { CheckInRequestSchema, VigoAgent, signRequest } from '../../protocol/index.ts';
import { hostnameOf, readEnvoySlice } from '../checkin/seed.ts';
import type { ClientInit, FromClient, ToClient } from './protocol.ts';

const connectTimeoutMs = 30_000;
const checkInPath = `/${VigoAgent.typeName}/CheckIn`;
const callDeadlineMs = 30_000;
// What the reference agent's grpc-js sends, so that the server's HPACK tables hold what they would.
const userAgent = `grpc-node-js/${grpcJsVersion()}`;

function grpcJsVersion(): string {
  const manifest = createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version: string };
  return manifest.version;
}

function send(message: FromClient): void {
  process.send?.(message);
}

function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** Resolves once the server's SETTINGS arrived and it acknowledged ours: the connection is up and idle. */
function openSession(port: number, context: SecureContext): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      secureContext: context,
      // The server certificate names localhost too; TLS SNI may not carry an IP address (RFC 6066).
      servername: 'localhost',
      ALPNProtocols: ['h2'],
    });
    const session = http2.connect(`https://localhost:${port}`, {
      createConnection: () => socket,
      settings: { initialWindowSize: http2.getDefaultSettings().initialWindowSize ?? 65_535 },
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
    });
    const timer = setTimeout(() => fail(new Error('connection not up in time')), connectTimeoutMs);
    let remote = false;
    let acked = false;
    const fail = (err: Error): void => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    const settle = (): void => {
      if (!remote || !acked) return;
      clearTimeout(timer);
      session.off('error', fail);
      // Held connections may be reset by the server at the end; nothing here may go uncaught.
      session.on('error', () => {});
      resolve(session);
    };
    session.once('remoteSettings', () => {
      remote = true;
      settle();
    });
    session.once('localSettings', () => {
      acked = true;
      settle();
    });
    session.once('error', fail);
    socket.once('error', fail);
  });
}

/** One signed CheckIn over `session`; resolves with the grpc-status of the answer. */
function checkIn(session: http2.ClientHttp2Session, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': checkInPath,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': userAgent,
      'grpc-accept-encoding': 'identity,deflate,gzip',
      'accept-encoding': 'identity',
      // grpc-js sends what is left of the deadline in ms, so the value differs from call to call.
      'grpc-timeout': `${callDeadlineMs - Math.floor(Math.random() * 3)}m`,
    });
    let status = 'missing';
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
    });
    stream.on('trailers', (trailers: http2.IncomingHttpHeaders) => {
      status = String(trailers['grpc-status']);
    });
    stream.on('data', () => {});
    stream.on('end', () => resolve(status));
    stream.on('error', reject);
    stream.end(body);
  });
}

async function open(init: ClientInit): Promise<void> {
  const context = createSecureContext({
    ca: readFileSync(init.caFile),
    key: readFileSync(init.clientKeyFile),
    cert: readFileSync(init.clientCertFile),
  });
  const envoys =
    init.checkInsPerConnection > 0
      ? readEnvoySlice(init.envoysFile, init.firstEnvoy, init.concurrency)
      : undefined;
  let next = 0;
  let opened = 0;
  let failed = 0;
  let checkInsOk = 0;
  let firstError: string | undefined;
  const worker = async (slot: number): Promise<void> => {
    let lastTsMs = 0;
    while (next < init.count) {
      next += 1;
      try {
        const session = await openSession(init.port, context);
        sessions.push(session);
        opened += 1;
        for (let call = 0; envoys !== undefined && call < init.checkInsPerConnection; call++) {
          // Every call of one envoy needs a strictly greater timestamp than the last.
          lastTsMs = Math.max(Date.now(), lastTsMs + 1);
          const request = signRequest('CheckIn', envoys.keys[slot]!, envoys.ids[slot]!, lastTsMs, {
            agentVersion: '0.1.0',
            hostname: hostnameOf(init.firstEnvoy + slot),
          });
          const status = await checkIn(session, grpcFrame(toBinary(CheckInRequestSchema, request)));
          if (status === '0') checkInsOk += 1;
          else firstError ??= `CheckIn answered grpc-status ${status}`;
        }
      } catch (err) {
        failed += 1;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: init.concurrency }, (_, slot) => worker(slot)));
  send({ type: 'opened', open: opened, failed, firstError, checkInsOk });
}

const sessions: http2.ClientHttp2Session[] = [];

async function closeAll(): Promise<void> {
  await Promise.all(
    sessions.splice(0).map(
      (session) =>
        new Promise<void>((resolve) => {
          session.once('close', () => resolve());
          session.destroy();
        }),
    ),
  );
}

process.on('message', (message: ToClient) => {
  const run = async (): Promise<void> => {
    switch (message.type) {
      case 'open':
        await open(message.init);
        return;
      case 'close':
        await closeAll();
        send({ type: 'closed' });
        return;
      case 'exit':
        await closeAll();
        process.exit(0);
    }
  };
  run().catch((err: unknown) => send({ type: 'failed', message: String(err) }));
});
process.on('disconnect', () => process.exit(0));
