/** Connection metrics for both listeners, registered on the server's Prometheus registry. */
import { Counter } from 'prom-client';
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
  return {
    refused: (listener) => refused.inc({ listener }),
    timedOut: (listener, phase) => timedOut.inc({ listener, phase }),
    countHttpsBytes: (read) => {
      readHttpsBytes = read;
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
