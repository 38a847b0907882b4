/**
 * The agent-facing gRPC listener: TLS with client certificates required, issued by our own CA. Feature
 * services are registered by their modules before `start`.
 */
import * as grpc from '@grpc/grpc-js';

export interface GrpcListenerOptions {
  host: string;
  port: number;
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  maxMessageBytes: number;
  register(server: grpc.Server): void;
}

export interface GrpcListener {
  readonly port: number;
  /** Stops accepting new calls and resolves when in-flight calls have finished. */
  close(): Promise<void>;
  destroy(): void;
}

function bindAddress(host: string, port: number): string {
  if (host === '') return `[::]:${port}`;
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function startGrpcListener(options: GrpcListenerOptions): Promise<GrpcListener> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.keepalive_time_ms': 120_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 30_000,
    // Nothing reads channelz, and its per-call bookkeeping is measurable at thousands of check-ins/s.
    'grpc.enable_channelz': 0,
  });
  options.register(server);
  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(options.caCertPem),
    [{ private_key: Buffer.from(options.serverKeyPem), cert_chain: Buffer.from(options.serverCertPem) }],
    true,
  );
  return new Promise((resolve, reject) => {
    server.bindAsync(bindAddress(options.host, options.port), credentials, (err, port) => {
      if (err) {
        server.forceShutdown();
        reject(err);
        return;
      }
      resolve({
        port,
        close: () => new Promise<void>((done) => server.tryShutdown(() => done())),
        destroy: () => server.forceShutdown(),
      });
    });
  });
}
