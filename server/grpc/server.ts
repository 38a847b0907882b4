/**
 * The agent-facing gRPC listener: TLS with client certificates required, issued by our own CA. Feature
 * services are registered by their modules before `start`.
 *
 * The TLS listener is ours, not grpc-js's: grpc-js gets each connection only once its TLS handshake has
 * finished and the agent's certificate has been verified (`createConnectionInjector`). That lets the
 * listener close a connection that does not finish its handshake within `handshakeTimeoutMs`, and cap the
 * connections one address may hold while still in their handshake (`maxHandshakesPerAddress`). Verified
 * agent connections are never capped per address, so a fleet of any size behind one NAT address keeps its
 * held connections. HTTP/2 streams per connection are bounded by `maxConcurrentStreams`, and a connection
 * with no call open for `idleTimeoutMs` is closed. Sessions resume with TLS 1.3 tickets (session-tickets.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { gateConnections } from '../net/index.ts';
import {
  TicketKeys,
  defaultSessionTickets,
  installSessionTickets,
  resumedCertificateExpired,
  sessionTimeoutSeconds,
} from './session-tickets.ts';
import type { SessionTicketOptions } from './session-tickets.ts';

export interface GrpcConnectionLimits {
  /** Connections from one address (IPv4, or IPv6 /64) still in their TLS handshake at once. */
  readonly maxHandshakesPerAddress: number;
  readonly handshakeTimeoutMs: number;
  /** HTTP/2 streams (calls) open at once on one connection. */
  readonly maxConcurrentStreams: number;
  /** A connection with no call open for this long is closed (GOAWAY). */
  readonly idleTimeoutMs: number;
}

export const defaultGrpcConnectionLimits: GrpcConnectionLimits = {
  maxHandshakesPerAddress: 256,
  handshakeTimeoutMs: 10_000,
  maxConcurrentStreams: 100,
  idleTimeoutMs: 120_000,
};

/** What the listener reports, for metrics. */
export interface GrpcListenerEvents {
  /** A connection was closed at accept: its address already had the most handshakes allowed. */
  refused?(): void;
  /** A connection was closed because it did not finish its TLS handshake in time. */
  timedOut?(phase: 'handshake'): void;
  /** The listening socket failed to accept a connection (e.g. EMFILE: out of file descriptors). */
  acceptFailed?(err: Error): void;
  /** An agent connection finished its TLS handshake, resuming a session or not. */
  handshake?(session: 'full' | 'resumed'): void;
  /** A resumed connection was closed: the client certificate its session carries has expired. */
  expiredSessionRefused?(): void;
}

export interface GrpcListenerOptions {
  host: string;
  port: number;
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  maxMessageBytes: number;
  /** Defaults: `defaultGrpcConnectionLimits`. */
  limits?: GrpcConnectionLimits;
  /** Defaults: `defaultSessionTickets`. */
  sessionTickets?: SessionTicketOptions;
  events?: GrpcListenerEvents;
  /** Default: a ring of this listener's own. */
  ticketKeys?: TicketKeys;
  /** Hands accepted connections to check-in processes (checkin.workers); default: none. */
  handOff?: ConnectionHandOff;
  register(server: grpc.Server): void;
}

export interface GrpcListener {
  readonly port: number;
  /** Agent connections (TLS handshake done) open now. */
  openConnections(): number;
  /** Replaces the session-ticket key now (it also rotates on its period). */
  rotateTicketKeys(): void;
  /** Stops accepting connections; calls already open go on. */
  stopAccepting(): void;
  /** Stops accepting new calls and resolves when in-flight calls have finished. */
  close(): Promise<void>;
  destroy(): void;
}

/** The grpc-js server of the agent port, with `register`'s services and agent connection settings. */
export function createAgentGrpcServer(
  maxMessageBytes: number,
  limits: GrpcConnectionLimits,
  register: (server: grpc.Server) => void,
): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': 120_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 30_000,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
    // Nothing reads channelz, and its per-call bookkeeping is measurable at thousands of check-ins/s.
    'grpc.enable_channelz': 0,
  });
  turnOffHpackTables(server);
  register(server);
  return server;
}

/**
 * Turns off HPACK's dynamic tables on agent connections, both ways: SETTINGS_HEADER_TABLE_SIZE 0 for
 * what agents send, and no indexing in what the server sends. Each table keeps up to 4 KiB of header
 * entries for the life of a connection — 3.2 KB of nghttp2 memory per held agent connection after 20
 * check-ins (bench:held) — to save a few dozen bytes on the wire per call. grpc-js has no server option
 * for either, but hands its `commonServerOptions` to http2.createServer when it creates the HTTP/2
 * server of a connection injector, so they are added there before the injector exists; the SETTINGS a
 * client receives are tested.
 */
function turnOffHpackTables(server: grpc.Server): void {
  const http2Options: unknown = Reflect.get(server, 'commonServerOptions');
  if (typeof http2Options !== 'object' || http2Options === null) {
    throw new Error(
      'this @grpc/grpc-js keeps no commonServerOptions for http2.createServer; agent connections would keep HPACK tables',
    );
  }
  const settings: unknown = Reflect.get(http2Options, 'settings');
  Object.assign(http2Options, {
    maxDeflateDynamicTableSize: 0,
    settings: { ...(typeof settings === 'object' ? settings : {}), headerTableSize: 0 },
  });
}

/**
 * ALPN: h2 or nothing (a client that offers only other protocols gets a no_application_protocol alert).
 * A callback rather than `ALPNProtocols`, because node copies `ALPNProtocols` into a small Buffer for
 * every connection and keeps it for the connection's life; a small Buffer is a slice of a shared 8 KiB
 * pool, so each held connection can pin up to a whole 8 KiB slab that other allocations filled meanwhile.
 */
function selectH2({ protocols }: { protocols: string[] }): string | undefined {
  return protocols.includes('h2') ? 'h2' : undefined;
}

/** What an agent TLS server needs besides its grpc-js injector. */
export interface AgentTlsOptions {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  limits: GrpcConnectionLimits;
  sessionTickets: SessionTicketOptions;
  /** The ticket keys to encrypt and resume with; `rotateKeys` false when another process rotates them. */
  ticketKeys: TicketKeys;
  rotateKeys: boolean;
  events?: GrpcListenerEvents;
  /** Each agent connection whose handshake has finished and been checked. */
  onAgentConnection(socket: TLSSocket): void;
}

/** One session context for every process serving the agent port of the CA that issued its certificates. */
function sessionIdContextOf(caCertPem: string): string {
  return createHash('sha256').update('vigo agent port\0').update(caCertPem).digest('hex').slice(0, 32);
}

/** A TLS server for the agent port that is fed raw connections (`take`) instead of listening itself. */
export interface AgentTlsServer {
  /** Starts the TLS handshake of a connection accepted elsewhere (nothing may have been read from it). */
  take(socket: Socket): void;
  openConnections(): number;
  /** Stops taking connections and closes those still in their handshake. */
  stopAccepting(): void;
}

export function createAgentTlsServer(options: AgentTlsOptions): AgentTlsServer {
  const { limits, events } = options;
  const tls = createTlsServer({
    ca: options.caCertPem,
    cert: options.serverCertPem,
    key: options.serverKeyPem,
    requestCert: true,
    rejectUnauthorized: true,
    ALPNCallback: selectH2,
    handshakeTimeout: limits.handshakeTimeoutMs,
    sessionTimeout: sessionTimeoutSeconds(options.sessionTickets),
    // node derives the default from process.argv, which differs between the server process and its
    // check-in processes, and OpenSSL resumes a session only in the context it was created in.
    sessionIdContext: sessionIdContextOf(options.caCertPem),
  });
  const tickets = installSessionTickets(tls, options.sessionTickets, options.ticketKeys, options.rotateKeys);
  const gate = gateConnections(tls, {
    maxPerAddress: limits.maxHandshakesPerAddress,
    onRefused: () => events?.refused?.(),
  });
  let closing = false;
  let open = 0;
  tls.on('secureConnection', (socket: TLSSocket) => {
    gate.release(socket);
    // Errors after the handshake end the HTTP/2 session, which grpc-js handles; none may go uncaught.
    socket.on('error', () => {});
    if (closing) {
      socket.destroy();
      return;
    }
    if (resumedCertificateExpired(socket, Date.now())) {
      events?.expiredSessionRefused?.();
      socket.destroy();
      return;
    }
    events?.handshake?.(socket.isSessionReused() ? 'resumed' : 'full');
    open += 1;
    socket.once('close', () => (open -= 1));
    options.onAgentConnection(socket);
  });
  tls.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    // With a listener here, node leaves closing the failed connection to it.
    socket.destroy();
    if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') events?.timedOut?.('handshake');
  });
  return {
    take: (socket) => {
      if (closing) socket.destroy();
      // The TLS server's own 'connection' listener wraps the socket, as if it had accepted it.
      else tls.emit('connection', socket);
    },
    openConnections: () => open,
    stopAccepting: () => {
      closing = true;
      tickets.stop();
      gate.destroyCounted();
    },
  };
}

/**
 * Hands an accepted agent connection to another process (server/checkin/front), or back to `serveHere`
 * when none can take it.
 */
export type ConnectionHandOff = (socket: Socket, serveHere: (socket: Socket) => void) => void;

export function startGrpcListener(options: GrpcListenerOptions): Promise<GrpcListener> {
  const limits = options.limits ?? defaultGrpcConnectionLimits;
  const sessionTickets = options.sessionTickets ?? defaultSessionTickets;
  const ticketKeys = options.ticketKeys ?? new TicketKeys();
  const server = createAgentGrpcServer(options.maxMessageBytes, limits, (grpcServer) =>
    options.register(grpcServer),
  );
  // The TLS below is the connection's security; grpc-js reads the verified peer from the TLS socket.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const agentTls = createAgentTlsServer({
    caCertPem: options.caCertPem,
    serverCertPem: options.serverCertPem,
    serverKeyPem: options.serverKeyPem,
    limits,
    sessionTickets,
    ticketKeys,
    rotateKeys: true,
    events: options.events,
    onAgentConnection: (socket) => injector.injectConnection(socket),
  });
  // Nothing is read from a connection before it is handed off or its TLS handshake starts here.
  const listener = createNetServer({ pauseOnConnect: true }, (socket) => {
    if (options.handOff === undefined) agentTls.take(socket);
    else options.handOff(socket, (here) => agentTls.take(here));
  });
  const stopAccepting = (): void => {
    agentTls.stopAccepting();
    if (listener.listening) listener.close();
  };
  return new Promise((resolve, reject) => {
    listener.once('error', (err: Error) => {
      agentTls.stopAccepting();
      server.forceShutdown();
      reject(err);
    });
    const onListening = (): void => {
      listener.removeAllListeners('error');
      // Without a listener, a failed accept (EMFILE when out of file descriptors) would end the process.
      listener.on('error', (err: Error) => options.events?.acceptFailed?.(err));
      resolve({
        port: (listener.address() as AddressInfo).port,
        openConnections: () => agentTls.openConnections(),
        rotateTicketKeys: () => ticketKeys.rotate(),
        stopAccepting,
        close: () =>
          new Promise<void>((done) => {
            stopAccepting();
            server.tryShutdown(() => done());
          }),
        destroy: () => {
          stopAccepting();
          server.forceShutdown();
        },
      });
    };
    if (options.host === '') listener.listen(options.port, onListening);
    else listener.listen(options.port, options.host, onListening);
  });
}
