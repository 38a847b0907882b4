/**
 * Splunk HTTP Event Collector: the batch as concatenated JSON event objects in one POST to
 * <url>/services/collector/event with `Authorization: Splunk <token>`.
 */
import type { SplunkHecOptions } from '../target-options.ts';
import { endpoint, postForOutcome, readCaFile } from './http-post.ts';
import type { Adapter, AdapterContext } from './types.ts';

export function createSplunkHecAdapter(
  target: SplunkHecOptions & { readonly timeoutMs: number },
  ctx: AdapterContext,
): Adapter {
  const ca = readCaFile(target.caFile);
  const url = endpoint(target.url, '/services/collector/event');
  return {
    send: async (batch) => {
      const body = batch
        .map((delivery) =>
          JSON.stringify({
            time: Date.parse(delivery.payload.at) / 1000,
            host: ctx.serverHostname,
            source: target.source,
            sourcetype: target.sourcetype,
            ...(target.index === undefined ? {} : { index: target.index }),
            event: delivery.payload,
          }),
        )
        .join('\n');
      return postForOutcome(url, {
        headers: {
          'content-type': 'application/json',
          authorization: `Splunk ${ctx.secret(target.token)}`,
        },
        body,
        timeoutMs: target.timeoutMs,
        ca,
        retryAuthFailures: true,
      });
    },
    close: () => undefined,
  };
}
