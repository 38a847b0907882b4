/**
 * Grafana Loki push API: POST <url>/loki/api/v1/push with JSON streams, one stream per label set
 * {job="vigo", type=<event type>, severity=<severity>}, each value [<unix ns as a string>, <event JSON>].
 */
import type { LokiOptions } from '../target-options.ts';
import type { Delivery } from '../queue.ts';
import { authHeaders } from './auth-header.ts';
import { endpoint, postForOutcome, readCaFile } from './http-post.ts';
import type { Adapter, AdapterContext } from './types.ts';

interface LokiStream {
  stream: { job: string; type: string; severity: string };
  values: [string, string][];
}

export function lokiPushBody(batch: readonly Delivery[]): string {
  const streams = new Map<string, LokiStream>();
  for (const delivery of batch) {
    const { type, severity } = delivery.payload;
    const key = `${type}\0${severity}`;
    let stream = streams.get(key);
    if (stream === undefined) {
      stream = { stream: { job: 'vigo', type, severity }, values: [] };
      streams.set(key, stream);
    }
    const ns = `${BigInt(Date.parse(delivery.payload.at)) * 1_000_000n}`;
    stream.values.push([ns, JSON.stringify(delivery.payload)]);
  }
  return JSON.stringify({ streams: [...streams.values()] });
}

export function createLokiAdapter(
  target: LokiOptions & { readonly timeoutMs: number },
  ctx: AdapterContext,
): Adapter {
  const ca = readCaFile(target.caFile);
  const url = endpoint(target.url, '/loki/api/v1/push');
  return {
    send: async (batch) =>
      postForOutcome(url, {
        headers: {
          'content-type': 'application/json',
          ...authHeaders(target.auth, ctx),
          ...(target.tenant === undefined ? {} : { 'x-scope-orgid': target.tenant }),
        },
        body: lokiPushBody(batch),
        timeoutMs: target.timeoutMs,
        ca,
        retryAuthFailures: true,
      }),
    close: () => undefined,
  };
}
