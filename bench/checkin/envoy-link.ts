/**
 * One envoy's own mTLS HTTP/2 connection, for load generators that speak for thousands of envoys at once.
 * A grpc-js channel per envoy (resolver, subchannel, timers, channelz stubs) is too heavy to hold 10,000
 * of in one process, so this is node:http2 with gRPC framed by hand; what goes on the wire is what the
 * reference agent's grpc-js channel sends (test/bench-envoy-link.test.ts compares the two byte for byte):
 * the same TLS (1.3, ALPN h2, the envoy's certificate), the same HTTP/2 settings, the same request
 * headers in the same order, the message as one length-prefixed DATA frame and an empty END_STREAM frame.
 *
 * Unlike grpc-js, a connection can offer the TLS session its envoy kept from its previous connection,
 * as an agent in poll mode does, and says whether the server resumed it.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { connect as connectHttp2, constants as http2Constants } from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';

const grpcVersion = (createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version: string })
  .version;
/** What grpc-js sends as user-agent when no primary or secondary user agent is configured. */
export const grpcUserAgent = `grpc-node-js/${grpcVersion}`;
const grpcStatus = { DEADLINE_EXCEEDED: 4, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** A failed call, shaped like a grpc-js ServiceError so the same accounting and error helpers apply. */
export class CallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    readonly trailers: Readonly<Record<string, string>> = {},
  ) {
    super(`${code} ${details}`);
    this.name = 'CallError';
  }
}

export interface EnvoyLinkOptions {
  host: string;
  port: number;
  /**
   * The TLS server name (SNI and certificate check): the host, as grpc-js sends it, unless overridden as
   * grpc.ssl_target_name_override does.
   */
  servername?: string | undefined;
  /** The envoy's CA, certificate and key; one context per envoy, reused across its connections. */
  secureContext: SecureContext;
  /** The TLS session of the envoy's previous connection, offered for resumption. */
  session?: Buffer | undefined;
  /** Every session ticket the server issues on this connection (the latest is the one to offer next). */
  onSession?: ((session: Buffer) => void) | undefined;
  timeoutMs: number;
}

function unavailable(err: unknown): CallError {
  return new CallError(grpcStatus.UNAVAILABLE, err instanceof Error ? err.message : String(err));
}

function startTls(options: EnvoyLinkOptions): TLSSocket {
  const tcp = connectTcp({ host: options.host, port: options.port });
  tcp.setNoDelay(true);
  const tls = connectTls({
    socket: tcp,
    secureContext: options.secureContext,
    host: options.host,
    servername: options.servername ?? options.host,
    ALPNProtocols: ['h2'],
    session: options.session,
  });
  if (options.onSession !== undefined) tls.on('session', options.onSession);
  return tls;
}

/** Resolves on `event`, rejects on 'error' or 'close' first; leaves no listener of its own behind. */
function settledOnce(emitter: EventEmitter, event: string, closedMessage: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      emitter.off(event, onEvent);
      emitter.off('error', done);
      emitter.off('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onEvent = (): void => done();
    const onClose = (): void => done(new Error(closedMessage));
    emitter.on(event, onEvent);
    emitter.on('error', done);
    emitter.on('close', onClose);
  });
}

function secureConnected(tls: TLSSocket): Promise<void> {
  return settledOnce(tls, 'secureConnect', 'the connection closed during the TLS handshake');
}

/** One envoy's connection: opened by `open`, used for any number of calls, closed by `close`. */
export class EnvoyLink {
  readonly #session: ClientHttp2Session;
  readonly #authority: string;
  readonly resumed: boolean;
  #closed = false;

  private constructor(session: ClientHttp2Session, authority: string, resumed: boolean) {
    this.#session = session;
    this.#authority = authority;
    this.resumed = resumed;
    session.on('close', () => (this.#closed = true));
    // A session error closes the session; calls in flight fail through their streams.
    session.on('error', () => undefined);
  }

  /** Connects (TCP, TLS, HTTP/2) and resolves once the server's HTTP/2 settings arrived, as grpc-js does. */
  static async open(options: EnvoyLinkOptions): Promise<EnvoyLink> {
    const tls = startTls(options);
    const deadline = setTimeout(() => tls.destroy(new Error('connect timed out')), options.timeoutMs);
    try {
      await secureConnected(tls);
      const authority = `${options.host}:${options.port}`;
      const session = connectHttp2(`https://${authority}`, {
        createConnection: () => tls,
        settings: { initialWindowSize: 65_535 },
        maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
        maxSessionMemory: Number.MAX_SAFE_INTEGER,
      });
      await settledOnce(session, 'remoteSettings', 'the server closed the connection');
      return new EnvoyLink(session, authority, tls.isSessionReused());
    } catch (err) {
      tls.destroy();
      throw unavailable(err);
    } finally {
      clearTimeout(deadline);
    }
  }

  get closed(): boolean {
    return this.#closed || this.#session.closed || this.#session.destroyed;
  }

  /** One unary call: `message` is the serialized request; resolves with the serialized response. */
  unary(path: string, message: Uint8Array, timeoutMs: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(unavailable(new Error('the connection is closed')));
    return new Promise<Buffer>((resolve, reject) => {
      const stream = this.#session.request({
        ':authority': this.#authority,
        ':method': 'POST',
        ':path': path,
        ':scheme': 'https',
        'grpc-accept-encoding': 'identity,deflate,gzip',
        'accept-encoding': 'identity',
        'grpc-timeout': `${Math.ceil(timeoutMs)}m`,
        'user-agent': grpcUserAgent,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const timer = setTimeout(() => {
        stream.close(http2Constants.NGHTTP2_CANCEL);
        settle(new CallError(grpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      }, timeoutMs);
      let settled = false;
      const settle = (outcome: Buffer | CallError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome instanceof CallError) reject(outcome);
        else resolve(outcome);
      };
      const chunks: Buffer[] = [];
      let headers: IncomingHttpHeaders = {};
      stream.on('response', (h) => (headers = h));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', (trailers: IncomingHttpHeaders) =>
        settle(outcome({ ...headers, ...trailers }, chunks)),
      );
      stream.on('end', () => settle(outcome(headers, chunks)));
      stream.on('error', (err) => settle(unavailable(err)));
      stream.on('close', () => settle(unavailable(new Error('the stream closed without a status'))));
      const frame = Buffer.allocUnsafe(5 + message.length);
      frame[0] = 0;
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      stream.write(frame);
      stream.end();
    });
  }

  /**
   * A bidirectional streaming call: each message `send` gets is framed as grpc-js frames it, each message
   * the server sends reaches `onMessage` whole, and `onEnd` hears how the call ended (its grpc-status, or
   * the transport failure). Nothing is buffered beyond what HTTP/2 flow control holds.
   */
  stream(
    path: string,
    onMessage: (message: Buffer) => void,
    onEnd: (outcome: CallError | undefined) => void,
  ): { send(message: Uint8Array): void; end(): void } {
    if (this.closed) {
      onEnd(unavailable(new Error('the connection is closed')));
      return { send: () => undefined, end: () => undefined };
    }
    const stream = this.#session.request({
      ':authority': this.#authority,
      ':method': 'POST',
      ':path': path,
      ':scheme': 'https',
      'grpc-accept-encoding': 'identity,deflate,gzip',
      'accept-encoding': 'identity',
      'user-agent': grpcUserAgent,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let ended = false;
    const finish = (outcome: CallError | undefined): void => {
      if (ended) return;
      ended = true;
      onEnd(outcome);
    };
    let pending: Buffer = Buffer.alloc(0);
    let headers: IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const length = pending.readUInt32BE(1);
        if (pending.length < 5 + length) break;
        onMessage(pending.subarray(5, 5 + length));
        pending = pending.subarray(5 + length);
      }
    });
    stream.on('trailers', (trailers: IncomingHttpHeaders) => {
      const all = { ...headers, ...trailers };
      if (headerText(all['grpc-status']) === '0') finish(undefined);
      else finish(outcome(all, []) as CallError);
    });
    stream.on('error', (err) => finish(unavailable(err)));
    stream.on('close', () => finish(unavailable(new Error('the stream closed without a status'))));
    return {
      send: (message) => {
        if (ended || stream.closed) return;
        const frame = Buffer.allocUnsafe(5 + message.length);
        frame[0] = 0;
        frame.writeUInt32BE(message.length, 1);
        frame.set(message, 5);
        stream.write(frame);
      },
      end: () => {
        if (!stream.closed) stream.end();
      },
    };
  }

  /** Closes gracefully (GOAWAY once the calls in flight are done), as grpc-js's client.close() does. */
  close(): void {
    if (!this.#session.closed) this.#session.close();
  }

  destroy(): void {
    this.#session.destroy();
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The response message, or the call's failure as grpc-js would report it. */
function outcome(headers: IncomingHttpHeaders, chunks: Buffer[]): Buffer | CallError {
  const trailers: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    const text = headerText(value);
    if (text !== undefined && !key.startsWith(':')) trailers[key] = text;
  }
  const statusText = trailers['grpc-status'];
  if (statusText === undefined) {
    return new CallError(grpcStatus.INTERNAL, `no grpc-status (HTTP ${headerText(headers[':status'])})`);
  }
  const status = Number(statusText);
  if (status !== 0) {
    let details = trailers['grpc-message'] ?? '';
    try {
      details = decodeURIComponent(details);
    } catch {
      // Left as sent: it is only shown.
    }
    return new CallError(status, details, trailers);
  }
  const body = Buffer.concat(chunks);
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
    return new CallError(grpcStatus.INTERNAL, `malformed response framing (${body.length} bytes)`);
  }
  return body.subarray(5);
}
