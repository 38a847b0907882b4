/** Connection metrics for both listeners, registered on the server's Prometheus registry. */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';

export type ListenerName = 'https' | 'grpc';
export type TimeoutPhase = 'handshake' | 'first_request';

export interface ConnectionMetrics {
  /** A connection was closed at accept: its address already held the most connections allowed. */
  refused(listener: ListenerName): void;
  /** A connection was closed for not finishing its TLS handshake, or sending no request, in time. */
  timedOut(listener: ListenerName, phase: TimeoutPhase): void;
  /** Where the byte count of the HTTPS port comes from (read at every scrape). */
  countHttpsBytes(read: () => number): void;
  /** An agent connection finished its TLS handshake: a full one, or a resumed session. */
  grpcHandshake(session: 'full' | 'resumed'): void;
  /** A resumed agent connection was closed because its session's client certificate has expired. */
  grpcExpiredSessionRefused(): void;
  /** Where the number of open agent connections comes from (read at every scrape). */
  countGrpcConnections(read: () => number): void;
}

export function createConnectionMetrics(registry: Registry): ConnectionMetrics {
  const refused = new Counter({
    name: 'vigo_connections_refused_total',
    help: 'Connections closed at accept because their address already held the most allowed, by listener.',
    labelNames: ['listener'],
    registers: [registry],
  });
  const timedOut = new Counter({
    name: 'vigo_connections_timed_out_total',
    help: 'Connections closed for not finishing the TLS handshake or not sending a request in time.',
    labelNames: ['listener', 'phase'],
    registers: [registry],
  });
  let readHttpsBytes: () => number = () => 0;
  new Counter({
    name: 'vigo_https_received_bytes_total',
    help: 'Bytes read from HTTPS connections, TLS framing included.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(readHttpsBytes());
    },
  });
  const handshakes = new Counter({
    name: 'vigo_grpc_tls_handshakes_total',
    help: 'Agent connections whose TLS handshake finished, by session: full, or resumed from a session ticket.',
    labelNames: ['session'],
    registers: [registry],
  });
  const expiredSessions = new Counter({
    name: 'vigo_grpc_expired_sessions_refused_total',
    help: 'Resumed agent connections closed because the client certificate of their session has expired.',
    registers: [registry],
  });
  let readGrpcConnections: () => number = () => 0;
  new Gauge({
    name: 'vigo_grpc_connections_open',
    help: 'Agent connections open on the gRPC port (TLS handshake done).',
    registers: [registry],
    collect() {
      this.set(readGrpcConnections());
    },
  });
  // Every label set starts at zero, so rates and absence alerts work before the first event.
  for (const listener of ['https', 'grpc'] as const) {
    refused.inc({ listener }, 0);
    for (const phase of ['handshake', 'first_request'] as const) timedOut.inc({ listener, phase }, 0);
  }
  for (const session of ['full', 'resumed'] as const) handshakes.inc({ session }, 0);
  return {
    refused: (listener) => refused.inc({ listener }),
    timedOut: (listener, phase) => timedOut.inc({ listener, phase }),
    countHttpsBytes: (read) => {
      readHttpsBytes = read;
    },
    grpcHandshake: (session) => handshakes.inc({ session }),
    grpcExpiredSessionRefused: () => expiredSessions.inc(),
    countGrpcConnections: (read) => {
      readGrpcConnections = read;
    },
  };
}

/** The events a listener reports, turned into metrics (and a log line for a failed accept). */
export function listenerEvents(
  listener: ListenerName,
  metrics: ConnectionMetrics,
  log: Logger,
): { refused(): void; timedOut(phase: TimeoutPhase): void; acceptFailed(err: Error): void } {
  return {
    refused: () => metrics.refused(listener),
    timedOut: (phase) => metrics.timedOut(listener, phase),
    acceptFailed: (err) => log.warn('could not accept a connection', { listener, err }),
  };
}
