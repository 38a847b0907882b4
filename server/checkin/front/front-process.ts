/**
 * A check-in process (checkin.workers > 1): it terminates agent connections the server process accepted
 * and handed over — TLS, HTTP/2, gRPC framing — and verifies envelope signatures with keys the server
 * process gave it, then relays every call to the server process, which answers from its FleetIndex. So
 * the costly, stateless part of a check-in runs on every core while every decision (identity, replay,
 * revocation, no-change or bundle) stays in one place and is exactly what a single process decides.
 *
 * The process holds no state that matters: when it ends, its connections close and agents reconnect.
 */
import * as grpc from '@grpc/grpc-js';
import { Socket } from 'node:net';
import { createAgentGrpcServer, createAgentTlsServer } from '../../grpc/server.ts';
import type { AgentTlsServer } from '../../grpc/server.ts';
import { TicketKeys } from '../../grpc/session-tickets.ts';
import { peerFingerprint } from '../peer.ts';
import { createSignatureCheck } from './signature-check.ts';
import type { SignatureCheck } from './signature-check.ts';
import { fromWireKey, fromWireStatus } from './messages.ts';
import type { Call, FrontInit, FrontStats, FromFront, RelayedRpc, Reply, ToFront } from './messages.ts';
import { rawAgentService } from './raw-service.ts';

const statsIntervalMs = 1_000;
const noEvents = { full: 0, resumed: 0, refused: 0, timedOut: 0, acceptFailed: 0, expiredSessionRefused: 0 };

function send(message: FromFront, sent?: () => void): void {
  if (process.connected && process.send !== undefined) process.send(message, undefined, {}, () => sent?.());
  else sent?.();
}

class Front {
  readonly #server: grpc.Server;
  readonly #tls: AgentTlsServer;
  readonly #keys = new TicketKeys();
  readonly #signatures: SignatureCheck = createSignatureCheck();
  readonly #unary = new Map<number, grpc.sendUnaryData<Buffer>>();
  readonly #streams = new Map<number, grpc.ServerDuplexStream<Buffer, Buffer>>();
  #nextId = 1;
  #exiting = false;
  #outbox: Call[] = [];
  readonly #stats: FrontStats = { ...noEvents, open: 0 };
  readonly #statsTimer: NodeJS.Timeout;

  constructor(init: FrontInit) {
    this.#keys.replace(
      fromWireKey(init.keys.current),
      init.keys.previous === undefined ? undefined : fromWireKey(init.keys.previous),
    );
    this.#server = createAgentGrpcServer(init.maxMessageBytes, init.limits, (server) =>
      server.addService(rawAgentService(), {
        checkIn: this.#relayUnary('CheckIn'),
        reportResults: this.#relayUnary('ReportResults'),
        resolveSecrets: this.#relayUnary('ResolveSecrets'),
        agentStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => this.#relayStream(call),
      }),
    );
    const injector = this.#server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const stats = this.#stats;
    this.#tls = createAgentTlsServer({
      caCertPem: init.caCertPem,
      serverCertPem: init.serverCertPem,
      serverKeyPem: init.serverKeyPem,
      limits: init.limits,
      sessionTickets: init.sessionTickets,
      ticketKeys: this.#keys,
      rotateKeys: false,
      events: {
        refused: () => (stats.refused += 1),
        timedOut: () => (stats.timedOut += 1),
        acceptFailed: () => (stats.acceptFailed += 1),
        handshake: (session) => (stats[session] += 1),
        expiredSessionRefused: () => (stats.expiredSessionRefused += 1),
      },
      onAgentConnection: (socket) => injector.injectConnection(socket),
    });
    this.#statsTimer = setInterval(() => this.#sendStats(), statsIntervalMs);
    this.#statsTimer.unref();
  }

  take(socket: Socket): void {
    this.#tls.take(socket);
  }

  setKeys(message: Extract<ToFront, { t: 'keys' }>): void {
    const { current, previous } = message.keys;
    this.#keys.replace(fromWireKey(current), previous === undefined ? undefined : fromWireKey(previous));
  }

  replies(items: Reply[]): void {
    for (const reply of items) {
      if (reply.k === 'identity') {
        this.#signatures.learn(reply.identity);
        continue;
      }
      if (reply.k === 'unary') {
        const callback = this.#unary.get(reply.id);
        this.#unary.delete(reply.id);
        if (callback === undefined) continue;
        if (reply.status !== undefined) callback(fromWireStatus(reply.status));
        else callback(null, Buffer.from(reply.ok ?? new Uint8Array()));
        continue;
      }
      const call = this.#streams.get(reply.sid);
      if (call === undefined) continue;
      if (reply.k === 'write') {
        call.write(Buffer.from(reply.bytes));
      } else {
        this.#streams.delete(reply.sid);
        if (reply.status !== undefined) call.emit('error', fromWireStatus(reply.status));
        else call.end();
      }
    }
  }

  /** Stops taking connections, lets open calls finish (the server process ends the streams), then exits. */
  drain(): void {
    this.#tls.stopAccepting();
    this.#server.tryShutdown(() => this.exit(0));
  }

  exit(code: number): void {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#flush();
    clearInterval(this.#statsTimer);
    this.#server.forceShutdown();
    // Messages go out in order: once the last one is written, everything before it is too.
    send({ t: 'stats', ...this.#stats, open: 0 }, () => process.exit(code));
  }

  #relayUnary(rpc: RelayedRpc): grpc.handleUnaryCall<Buffer, Buffer> {
    return (call, callback) => {
      const id = this.#nextId++;
      this.#unary.set(id, callback);
      this.#queue({
        k: 'unary',
        id,
        rpc,
        bytes: call.request,
        fingerprint: peerFingerprint(call),
        generation: this.#signatures.verify(rpc, call.request),
      });
    };
  }

  #relayStream(call: grpc.ServerDuplexStream<Buffer, Buffer>): void {
    const sid = this.#nextId++;
    this.#streams.set(sid, call);
    this.#queue({ k: 'open', sid, fingerprint: peerFingerprint(call) });
    call.on('data', (bytes: Buffer) => {
      this.#queue({ k: 'data', sid, bytes, generation: this.#signatures.verify('AgentStream', bytes) });
    });
    call.on('end', () => this.#queue({ k: 'end', sid }));
    const gone = (): void => {
      if (this.#streams.delete(sid)) this.#queue({ k: 'cancel', sid });
    };
    call.on('cancelled', gone);
    call.on('error', gone);
    call.on('close', gone);
  }

  #queue(call: Call): void {
    if (this.#outbox.length === 0) setImmediate(() => this.#flush());
    this.#outbox.push(call);
  }

  #flush(): void {
    if (this.#outbox.length === 0) return;
    const items = this.#outbox;
    this.#outbox = [];
    send({ t: 'calls', items });
  }

  #sendStats(): void {
    const open = this.#tls.openConnections();
    const { full, resumed, refused, timedOut, acceptFailed, expiredSessionRefused } = this.#stats;
    const events = full + resumed + refused + timedOut + acceptFailed + expiredSessionRefused;
    if (events === 0 && open === this.#stats.open) return;
    send({ t: 'stats', full, resumed, refused, timedOut, acceptFailed, expiredSessionRefused, open });
    // Reset in place: the listener's event handlers count into this very object.
    Object.assign(this.#stats, { ...noEvents, open });
  }
}

let front: Front | undefined;

process.on('message', (message: ToFront, handle: unknown) => {
  switch (message.t) {
    case 'init':
      front ??= new Front(message);
      send({ t: 'ready' });
      return;
    case 'conn':
      // A handed-over connection that arrives after the front is gone is closed.
      if (!(handle instanceof Socket)) return;
      if (front === undefined) handle.destroy();
      else front.take(handle);
      return;
    case 'keys':
      front?.setKeys(message);
      return;
    case 'replies':
      front?.replies(message.items);
      return;
    case 'drain':
      if (front === undefined) process.exit(0);
      front.drain();
      return;
  }
});
