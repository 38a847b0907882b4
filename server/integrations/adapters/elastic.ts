/**
 * Elasticsearch bulk API: POST <url>/_bulk with ndjson, an `index` action and one document per event in
 * Elastic Common Schema field names (@timestamp, event.kind/category/action/id/severity, host.name,
 * message) with the event itself under `vigo.*`. The delivery id is the document _id, so a retried batch
 * overwrites instead of duplicating. Items are judged one by one from the bulk answer.
 */
import type { ElasticOptions } from '../target-options.ts';
import type { Delivery, DeliveryPayload } from '../queue.ts';
import { authHeaders } from './auth-header.ts';
import { endpoint, post, readCaFile, statusOutcome } from './http-post.ts';
import { eventHostname, eventSummary } from './message.ts';
import type { Adapter, AdapterContext, Outcome } from './types.ts';
import { errorText } from './types.ts';

const severityNumber: Readonly<Record<string, number>> = { info: 1, warning: 2, critical: 3 };

function ecsCategory(type: string): string[] {
  const family = type.slice(0, type.indexOf('.'));
  switch (family) {
    case 'envoy':
      return ['host'];
    case 'user':
    case 'token':
      return ['iam'];
    case 'task':
    case 'workflow':
    case 'query':
    case 'push':
      return ['process'];
    default:
      return ['configuration'];
  }
}

export function ecsDocument(payload: DeliveryPayload, serverHostname: string): Record<string, unknown> {
  return {
    '@timestamp': payload.at,
    event: {
      kind: payload.severity === 'info' ? 'event' : 'alert',
      category: ecsCategory(payload.type),
      action: payload.type,
      id: payload.id,
      severity: severityNumber[payload.severity] ?? 1,
      dataset: 'vigo.events',
    },
    host: { name: eventHostname(payload) ?? serverHostname },
    message: eventSummary(payload),
    vigo: {
      event_type: payload.type,
      severity: payload.severity,
      ...(payload.subject === undefined ? {} : { subject: payload.subject }),
      data: payload.data,
    },
  };
}

export function bulkBody(index: string, batch: readonly Delivery[], serverHostname: string): string {
  return batch
    .map(
      (delivery) =>
        `${JSON.stringify({ index: { _index: index, _id: delivery.deliveryId } })}\n` +
        `${JSON.stringify(ecsDocument(delivery.payload, serverHostname))}\n`,
    )
    .join('');
}

interface BulkItem {
  readonly index?: { readonly status?: number; readonly error?: unknown };
}

/** One outcome per item of a 200 bulk answer; items the answer does not cover are retried. */
function itemOutcomes(body: string, count: number): readonly Outcome[] | Outcome {
  let parsed: { errors?: boolean; items?: BulkItem[] };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return { kind: 'retry', error: 'the bulk answer is not JSON' };
  }
  if (parsed.errors !== true) return { kind: 'delivered' };
  const items = Array.isArray(parsed.items) ? parsed.items : [];
  return Array.from({ length: count }, (_, i): Outcome => {
    const result = items[i]?.index;
    const status = typeof result?.status === 'number' ? result.status : 0;
    if (status === 0) return { kind: 'retry', error: 'the bulk answer has no result for this item' };
    const outcome = statusOutcome({
      status,
      body: result?.error === undefined ? '' : JSON.stringify(result.error),
    });
    return outcome;
  });
}

export function createElasticAdapter(
  target: ElasticOptions & { readonly timeoutMs: number },
  ctx: AdapterContext,
): Adapter {
  const ca = readCaFile(target.caFile);
  const url = endpoint(target.url, '/_bulk');
  return {
    send: async (batch) => {
      try {
        const response = await post(url, {
          headers: { 'content-type': 'application/x-ndjson', ...authHeaders(target.auth, ctx) },
          body: bulkBody(target.index, batch, ctx.serverHostname),
          timeoutMs: target.timeoutMs,
          ca,
        });
        const outcome = statusOutcome(response, true);
        return outcome.kind === 'delivered' ? itemOutcomes(response.body, batch.length) : outcome;
      } catch (err) {
        return { kind: 'retry', error: errorText(err) };
      }
    },
    close: () => undefined,
  };
}
