/**
 * The HTTPS listener. It counts requests in flight so a drain can stop accepting, let those requests
 * finish, and close keep-alive connections as soon as they go idle.
 */
import { getRequestListener } from '@hono/node-server';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface HttpsListener {
  readonly port: number;
  inFlight(): number;
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
  fetch: (request: Request) => Response | Promise<Response>;
}

export function startHttpsListener(options: HttpsListenerOptions): Promise<HttpsListener> {
  const requestListener = getRequestListener(options.fetch);
  let inFlight = 0;
  let closing = false;
  const server = createServer({ key: options.keyPem, cert: options.certPem }, (req, res) => {
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (closing) server.closeIdleConnections();
    });
    void requestListener(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        inFlight: () => inFlight,
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
