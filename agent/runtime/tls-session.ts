/**
 * mTLS credentials for grpc-js that resume TLS sessions. grpc-js's own SSL credentials start every
 * connection with a full handshake: its connector calls `tls.connect` with no `session`, and nothing in
 * its options passes one. These credentials make the same connection (same verification, ALPN h2) but
 * offer the newest session ticket the server sent, and keep each new one, so a polling agent's connection
 * skips the certificate exchange. The session lives in memory only, for the life of the process.
 */
import * as grpc from '@grpc/grpc-js';
import type { CallCredentials, ChannelOptions, experimental } from '@grpc/grpc-js';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect, createSecureContext } from 'node:tls';
import type { ConnectionOptions, SecureContext } from 'node:tls';

/** The newest TLS session the server gave this agent, and how its connections went. */
export class TlsSessionCache {
  #session: Buffer | undefined;
  #full = 0;
  #resumed = 0;

  /** The session to offer on the next connection, if any. */
  get current(): Buffer | undefined {
    return this.#session;
  }

  /** Connections whose handshake was full / resumed a session, since the agent started. */
  get handshakes(): { readonly full: number; readonly resumed: number } {
    return { full: this.#full, resumed: this.#resumed };
  }

  remember(session: Buffer): void {
    this.#session = session;
  }

  counted(resumed: boolean): void {
    if (resumed) this.#resumed += 1;
    else this.#full += 1;
  }
}

export interface ResumingCredentialsOptions {
  readonly caPem: string;
  readonly keyPem: string;
  readonly certPem: string;
  /** The host the agent dials (from its grpcAddress): the server certificate must name it. */
  readonly host: string;
  readonly sessions: TlsSessionCache;
}

class ResumingCredentials extends grpc.ChannelCredentials {
  readonly #context: SecureContext;

  constructor(private readonly options: ResumingCredentialsOptions) {
    super();
    this.#context = createSecureContext({ ca: options.caPem, key: options.keyPem, cert: options.certPem });
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(
    _target: experimental.GrpcUri,
    _options: ChannelOptions,
    callCredentials?: CallCredentials,
  ): experimental.SecureConnector {
    const credentials = callCredentials ?? grpc.CallCredentials.createEmpty();
    return {
      connect: (socket) => this.#handshake(socket),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => credentials,
      destroy: () => undefined,
    };
  }

  #handshake(socket: Socket): Promise<experimental.SecureConnectResult> {
    const { host, sessions } = this.options;
    const tlsOptions: ConnectionOptions = {
      socket,
      secureContext: this.#context,
      host,
      // SNI carries names only; an IP address is verified against the certificate's IP SANs without it.
      servername: isIP(host) === 0 ? host : undefined,
      ALPNProtocols: ['h2'],
      session: sessions.current,
    };
    return new Promise((resolve, reject) => {
      const tlsSocket = connect(tlsOptions, () => {
        // node verified the chain (and, on a full handshake, the server's name) before calling this.
        if (!tlsSocket.authorized) {
          reject(tlsSocket.authorizationError);
          tlsSocket.destroy();
          return;
        }
        sessions.counted(tlsSocket.isSessionReused());
        resolve({ socket: tlsSocket, secure: true });
      });
      tlsSocket.on('session', (session: Buffer) => sessions.remember(session));
      tlsSocket.on('error', reject);
    });
  }
}

/** mTLS channel credentials that offer, and keep, TLS session tickets through `options.sessions`. */
export function resumingCredentials(options: ResumingCredentialsOptions): grpc.ChannelCredentials {
  return new ResumingCredentials(options);
}
