/**
 * What the listeners and the HTTP app take from the configuration: connection limits and their metrics
 * for both ports, and the request-body caps and budget. Kept here so start.ts only wires them in.
 */
import type { LoadedConfig } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { GrpcConnectionLimits, GrpcListenerEvents } from '../grpc/server.ts';
import type { HttpAppDeps } from '../http/app.ts';
import type { HttpsConnectionLimits, HttpsListenerEvents } from '../http/listener.ts';
import type { ConnectionMetrics } from '../net/index.ts';
import { listenerEvents } from '../net/index.ts';

type Config = LoadedConfig['config'];

export function grpcListenerSettings(
  config: Config,
  metrics: ConnectionMetrics,
  log: Logger,
): { limits: GrpcConnectionLimits; events: GrpcListenerEvents } {
  return {
    limits: {
      maxHandshakesPerAddress: config['grpc.max_handshakes_per_address'],
      handshakeTimeoutMs: config['server.tls_handshake_timeout'],
      maxConcurrentStreams: config['grpc.max_concurrent_streams'],
      idleTimeoutMs: config['grpc.connection_idle_timeout'],
    },
    events: {
      ...listenerEvents('grpc', metrics, log),
      handshake: (session) => metrics.grpcHandshake(session),
      expiredSessionRefused: () => metrics.grpcExpiredSessionRefused(),
    },
  };
}

export function httpsListenerSettings(
  config: Config,
  metrics: ConnectionMetrics,
  log: Logger,
): { limits: HttpsConnectionLimits; events: HttpsListenerEvents } {
  return {
    limits: {
      maxConnectionsPerAddress: config['http.max_connections_per_address'],
      handshakeTimeoutMs: config['server.tls_handshake_timeout'],
      firstRequestTimeoutMs: config['http.first_request_timeout'],
    },
    events: listenerEvents('https', metrics, log),
  };
}

/** Body caps (the upload cap follows config reloads through `current`) and the in-flight budget. */
export function httpBodySettings(
  config: Config,
  current: () => Config,
): Pick<HttpAppDeps, 'maxBodyBytes' | 'maxUploadBytes' | 'bodyBudget'> {
  return {
    maxBodyBytes: config['http.max_body_bytes'],
    maxUploadBytes: () => current()['publish.max_upload_bytes'],
    bodyBudget: {
      perClientBytes: config['http.max_body_bytes_in_flight_per_client'],
      totalBytes: config['http.max_body_bytes_in_flight'],
    },
  };
}
