/** Connection metrics, registered on the server's Prometheus registry. */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

export interface ConnectionMetrics {
  /** Where the byte count of the HTTPS port comes from (read at every scrape). */
  countHttpsBytes(read: () => number): void;
}

export function createConnectionMetrics(registry: Registry): ConnectionMetrics {
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
    countHttpsBytes: (read) => {
      readHttpsBytes = read;
    },
  };
}
