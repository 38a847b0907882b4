/**
 * The agent port of a standby or fenced server: mutual TLS with the fleet's CA like the primary's, and every
 * RPC answered at once with FAILED_PRECONDITION "replication.not_primary" and the trailing metadata
 * `vigo-primary: host:port` naming the primary (agent.proto, "Standby servers"). Nothing an agent sends is
 * read or stored.
 */
import * as grpc from '@grpc/grpc-js';
import { VigoAgent, grpcMessageSizeOptions, toGrpcService } from '../../protocol/index.ts';

export const redirectMetadataKey = 'vigo-primary';
/** Requests are refused unread; this only bounds what grpc-js buffers before the refusal. */
const maxMessageBytes = 64 * 1024;

export interface RedirectPort {
  readonly port: number;
  close(): Promise<void>;
}

export async function startRedirectPort(options: {
  host: string;
  port: number;
  caPem: string;
  keyPem: string;
  certPem: string;
  /** The primary's agent address, or '' when this server does not know it. */
  primary: () => string;
}): Promise<RedirectPort> {
  const server = new grpc.Server(grpcMessageSizeOptions(maxMessageBytes));
  const refusal = (): Partial<grpc.StatusObject> => {
    const metadata = new grpc.Metadata();
    const primary = options.primary();
    if (primary !== '') metadata.set(redirectMetadataKey, primary);
    return {
      code: grpc.status.FAILED_PRECONDITION,
      details: `replication.not_primary: this server is not the primary${primary === '' ? '' : `; check in with ${primary}`}`,
      metadata,
    };
  };
  const definition = toGrpcService(VigoAgent, { maxMessageBytes });
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    handlers[name] = method.requestStream
      ? method.responseStream
        ? (call: grpc.ServerDuplexStream<unknown, unknown>) => call.emit('error', refusal())
        : (_call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
            callback(refusal())
      : method.responseStream
        ? (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', refusal())
        : (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
            callback(refusal());
  }
  server.addService(definition, handlers);
  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(options.caPem),
    [{ private_key: Buffer.from(options.keyPem), cert_chain: Buffer.from(options.certPem) }],
    true,
  );
  const address = `${options.host === '' ? '0.0.0.0' : options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Calls are answered at once; a connection left open is closed after a moment.
        setTimeout(() => server.forceShutdown(), 2_000).unref();
      }),
  };
}
