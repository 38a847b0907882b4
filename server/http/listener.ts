/**
 * The HTTPS listener. It counts requests in flight so a drain can stop accepting, let those requests
 * finish, and close keep-alive connections as soon as they go idle.
 *
 * Connection hygiene: each address may hold at most `maxConnectionsPerAddress` connections; a connection
 * must finish its TLS handshake within `handshakeTimeoutMs` and send its first request within
 * `firstRequestTimeoutMs`, or it is closed (node closes neither by itself: an idle TLS connection that
 * never sends a request stays open forever). A response sent before its request body has fully arrived
 * (a refusal) closes the connection instead of reading the rest of the body.
 */
import { getRequestListener } from '@hono/node-server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { gateConnections } from '../net/index.ts';

export interface HttpsListener {
  readonly port: number;
  inFlight(): number;
  /** Bytes read from clients' connections since start, TLS framing included. */
  receivedBytes(): number;
  /** Stops accepting; resolves when every in-flight request has finished and connections are closed. */
  close(): Promise<void>;
  /** Destroys every connection at once. */
  destroy(): void;
}

export interface HttpsConnectionLimits {
  readonly maxConnectionsPerAddress: number;
  readonly handshakeTimeoutMs: number;
  readonly firstRequestTimeoutMs: number;
}

export const defaultHttpsConnectionLimits: HttpsConnectionLimits = {
  maxConnectionsPerAddress: 256,
  handshakeTimeoutMs: 10_000,
  firstRequestTimeoutMs: 30_000,
};

/** What the listener reports, for metrics. */
export interface HttpsListenerEvents {
  /** A connection was closed at accept: its address already had the most connections allowed. */
  refused?(): void;
  /** A connection was closed because it did not finish its handshake or send a request in time. */
  timedOut?(phase: 'handshake' | 'first_request'): void;
  /** The listening socket failed to accept a connection (e.g. EMFILE: out of file descriptors). */
  acceptFailed?(err: Error): void;
}

export interface HttpsListenerOptions {
  host: string;
  port: number;
  keyPem: string;
  certPem: string;
  /** Gets the node request and response as its `env` (`incoming`, `outgoing`), as hono's node adapter passes them. */
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  /** Defaults: `defaultHttpsConnectionLimits`. */
  limits?: HttpsConnectionLimits;
  events?: HttpsListenerEvents;
}

const endpointOf = (socket: Socket): string => `${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}`;

/** Every raw connection: bytes read (closed ones summed as they close) and which are still in their handshake. */
function connectionTracker() {
  const open = new Set<Socket>();
  const handshaking = new Map<string, Socket>();
  let closedBytes = 0;
  return {
    accepted(socket: Socket): void {
      open.add(socket);
      const endpoint = endpointOf(socket);
      handshaking.set(endpoint, socket);
      socket.once('close', () => {
        open.delete(socket);
        if (handshaking.get(endpoint) === socket) handshaking.delete(endpoint);
        closedBytes += socket.bytesRead;
      });
    },
    secured(socket: TLSSocket): void {
      handshaking.delete(endpointOf(socket));
    },
    receivedBytes(): number {
      let sum = closedBytes;
      for (const socket of open) sum += socket.bytesRead;
      return sum;
    },
    /** A drain does not wait for connections that have not even finished their handshake. */
    dropHandshaking(): void {
      for (const socket of handshaking.values()) socket.destroy();
    },
  };
}

/**
 * After a response sent before its request body had arrived: close the connection without reading the
 * rest of the body, but gracefully. Closing at once would make the kernel answer the client's next body
 * bytes with a reset, and many clients (node's among them) then report the reset instead of the answer
 * already waiting in their receive buffer. So the connection is half-closed (the answer, then FIN), up to
 * `lingerBytes` of what still arrives is read and discarded, and it is closed `lingerMs` after the answer
 * (sooner if the client closes while it is still being read).
 */
const lingerMs = 1_000;
const lingerBytes = 256 * 1024;

function lingerAndClose(socket: Socket): void {
  const startBytes = socket.bytesRead;
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  // Past the byte cap the connection stops reading rather than closing: closing with unread bytes would
  // reset it at once, and the client may not have read its answer yet. The timer still ends it.
  const discard = (): void => {
    if (socket.bytesRead - startBytes <= lingerBytes) return;
    socket.off('data', discard);
    socket.pause();
  };
  socket.on('data', discard);
  socket.end();
}

/** Closes TLS connections that send no request within `timeoutMs` of their handshake. */
function firstRequestDeadline(timeoutMs: number, onTimeout: () => void) {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  return {
    start(socket: TLSSocket): void {
      const timer = setTimeout(() => {
        onTimeout();
        socket.destroy();
      }, timeoutMs);
      timer.unref();
      timers.set(socket, timer);
      socket.once('close', () => clearTimeout(timer));
    },
    met(socket: Socket): void {
      const timer = timers.get(socket);
      if (timer === undefined) return;
      clearTimeout(timer);
      timers.delete(socket);
    },
  };
}

export function startHttpsListener(options: HttpsListenerOptions): Promise<HttpsListener> {
  // The route table reads bodies itself, within each route's cap; nothing else may drain them.
  const requestListener = getRequestListener(options.fetch, { autoCleanupIncoming: false });
  const { limits = defaultHttpsConnectionLimits, events } = options;
  let inFlight = 0;
  let closing = false;
  const deadline = firstRequestDeadline(limits.firstRequestTimeoutMs, () =>
    events?.timedOut?.('first_request'),
  );
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    deadline.met(socket);
    inFlight += 1;
    // Runs before node's own 'finish' handler, which closes a `Connection: close` response's socket with
    // destroySoon(): an answer sent before its body arrived (a refusal) lingers instead. Should such an
    // answer lack `Connection: close`, node would keep reading the body for the next request: it is closed
    // all the same.
    res.prependOnceListener('finish', () => {
      if (req.complete) return;
      socket.destroySoon = () => lingerAndClose(socket);
      setImmediate(() => {
        if (!socket.writableEnded && !socket.destroyed) lingerAndClose(socket);
      });
    });
    res.once('close', () => {
      inFlight -= 1;
      if (closing) server.closeIdleConnections();
    });
    void requestListener(req, res);
  };
  const server = createServer(
    { key: options.keyPem, cert: options.certPem, handshakeTimeout: limits.handshakeTimeoutMs },
    onRequest,
  );
  // Expect: 100-continue is answered only once the route table starts reading the body, after the
  // caller is authenticated and authorized: a refused upload is never invited to send its body.
  server.on('checkContinue', onRequest);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  const connections = connectionTracker();
  gateConnections(server, {
    maxPerAddress: limits.maxConnectionsPerAddress,
    onRefused: () => events?.refused?.(),
  });
  server.on('connection', (socket: Socket) => connections.accepted(socket));
  server.on('secureConnection', (socket: TLSSocket) => {
    connections.secured(socket);
    deadline.start(socket);
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    // With a listener here, node leaves closing the failed connection to it.
    socket.destroy();
    if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') events?.timedOut?.('handshake');
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
      // Without a listener, a failed accept (EMFILE when out of file descriptors) would end the process.
      server.on('error', (err) => events?.acceptFailed?.(err));
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        inFlight: () => inFlight,
        receivedBytes: () => connections.receivedBytes(),
        close: () =>
          new Promise<void>((done) => {
            closing = true;
            server.close(() => done());
            server.closeIdleConnections();
            connections.dropHandshaking();
          }),
        destroy: () => server.closeAllConnections(),
      });
    };
    if (options.host === '') server.listen(options.port, onListening);
    else server.listen(options.port, options.host, onListening);
  });
}
