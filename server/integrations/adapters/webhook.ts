/**
 * Generic webhook: one POST per event, the event as the JSON body, signed so the receiver can check origin
 * and freshness (docs/integrations.md has the receiver's check):
 *   X-Vigo-Event: <type>   X-Vigo-Delivery: <delivery id, the same on every retry>
 *   X-Vigo-Timestamp: <unix seconds>
 *   X-Vigo-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<raw body>" with the target's secret>
 */
import { createHmac } from 'node:crypto';
import type { WebhookOptions } from '../target-options.ts';
import type { Delivery } from '../queue.ts';
import { postForOutcome, readCaFile } from './http-post.ts';
import type { Adapter, AdapterContext, Outcome } from './types.ts';

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createWebhookAdapter(
  target: WebhookOptions & { readonly timeoutMs: number },
  ctx: AdapterContext,
): Adapter {
  const ca = readCaFile(target.caFile);
  const sendOne = async (delivery: Delivery): Promise<Outcome> => {
    const secret = ctx.secret(target.secret);
    const body = JSON.stringify(delivery.payload);
    const timestamp = String(Math.floor(ctx.now() / 1000));
    return postForOutcome(target.url, {
      headers: {
        'content-type': 'application/json',
        'user-agent': 'vigosrv-webhook',
        'x-vigo-event': delivery.payload.type,
        'x-vigo-delivery': delivery.deliveryId,
        'x-vigo-timestamp': timestamp,
        'x-vigo-signature': webhookSignature(secret, timestamp, body),
      },
      body,
      timeoutMs: target.timeoutMs,
      ca,
    });
  };
  return {
    send: (batch) => Promise.all(batch.map(sendOne)),
    close: () => undefined,
  };
}
