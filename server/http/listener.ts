/**
 * The HTTPS listener. It counts requests in flight so a drain can stop accepting, let those requests
 * finish, and close keep-alive connections as soon as they go idle.
 *
 * A response sent before its request body has fully arrived (a refusal) closes the connection instead
 * of reading the rest of the body.
 */
import { getRequestListener } from '@hono/node-server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

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

export interface HttpsListenerOptions {
  host: string;
  port: number;
  keyPem: string;
  certPem: string;
  /** Gets the node request and response as its `env` (`incoming`, `outgoing`), as hono's node adapter passes them. */
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
}

/** Bytes read by every connection, the closed ones summed as they close. */
function byteCounter() {
  const open = new Set<Socket>();
  let closedBytes = 0;
  return {
    accepted(socket: Socket): void {
      open.add(socket);
      socket.once('close', () => {
        open.delete(socket);
        closedBytes += socket.bytesRead;
      });
    },
    receivedBytes(): number {
      let sum = closedBytes;
      for (const socket of open) sum += socket.bytesRead;
      return sum;
    },
  };
}

/**
 * After a response sent before its request body had arrived: close the connection without reading the
 * rest of the body, but gracefully. Closing at once would make the kernel answer the client's next body
 * bytes with a reset, and many clients (node's among them) then report the reset instead of the answer
 * already waiting in their receive buffer. So the connection is half-closed (the answer, then FIN) and
 * whatever still arrives is discarded for at most `lingerMs` or `lingerBytes`, then it is closed.
 */
const lingerMs = 1_000;
const lingerBytes = 256 * 1024;

function lingerAndClose(socket: Socket): void {
  const startBytes = socket.bytesRead;
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.on('data', () => {
    if (socket.bytesRead - startBytes > lingerBytes) socket.destroy();
  });
  socket.end();
}

export function startHttpsListener(options: HttpsListenerOptions): Promise<HttpsListener> {
  // The route table reads bodies itself, within each route's cap; nothing else may drain them.
  const requestListener = getRequestListener(options.fetch, { autoCleanupIncoming: false });
  let inFlight = 0;
  let closing = false;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    inFlight += 1;
    // Runs before node's own 'finish' handler, which closes a `Connection: close` response's socket with
    // destroySoon(): an answer sent before its body arrived (a refusal) lingers instead.
    res.prependOnceListener('finish', () => {
      if (!req.complete) socket.destroySoon = () => lingerAndClose(socket);
    });
    res.once('close', () => {
      inFlight -= 1;
      if (closing) server.closeIdleConnections();
    });
    void requestListener(req, res);
  };
  const server = createServer({ key: options.keyPem, cert: options.certPem }, onRequest);
  // Expect: 100-continue is answered only once the route table starts reading the body, after the
  // caller is authenticated and authorized: a refused upload is never invited to send its body.
  server.on('checkContinue', onRequest);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  const connections = byteCounter();
  server.on('connection', (socket: Socket) => connections.accepted(socket));

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
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
          }),
        destroy: () => server.closeAllConnections(),
      });
    };
    if (options.host === '') server.listen(options.port, onListening);
    else server.listen(options.port, options.host, onListening);
  });
}
