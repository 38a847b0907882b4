/**
 * E-mail over SMTP (nodemailer): STARTTLS required by default (`require_tls`), or implicit TLS on port
 * 465; AUTH with the target's username and vault password. One mail carries a digest of the events that
 * arrived within the target's `digest_window` (up to `batch_size`), so a fleet-wide failure sends a few
 * mails, not one per envoy. Subject and plain-text body are documented in docs/integrations.md.
 */
import nodemailer from 'nodemailer';
import type { EmailOptions } from '../target-options.ts';
import type { Delivery } from '../queue.ts';
import { readCaFile } from './http-post.ts';
import { eventSummary } from './message.ts';
import type { Adapter, AdapterContext, Outcome } from './types.ts';
import { errorText } from './types.ts';

const maxSubjectLength = 200;

function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function digestSubject(batch: readonly Delivery[]): string {
  const first = batch[0];
  if (first === undefined) return '[vigo] no events';
  if (batch.length === 1) return cap(`[vigo] ${eventSummary(first.payload)}`, maxSubjectLength);
  const bySeverity = new Map<string, number>();
  for (const d of batch) bySeverity.set(d.payload.severity, (bySeverity.get(d.payload.severity) ?? 0) + 1);
  const counts = ['critical', 'warning', 'info']
    .filter((s) => bySeverity.has(s))
    .map((s) => `${bySeverity.get(s) ?? 0} ${s}`)
    .join(', ');
  const types = [...new Set(batch.map((d) => d.payload.type))];
  const shown = types.slice(0, 3).join(', ') + (types.length > 3 ? ', …' : '');
  return cap(`[vigo] ${batch.length} events (${counts}): ${shown}`, maxSubjectLength);
}

export function digestText(batch: readonly Delivery[], serverHostname: string): string {
  const parts = batch.map((d) =>
    [
      eventSummary(d.payload),
      `  time:     ${d.payload.at}`,
      `  event id: ${d.payload.id}`,
      `  delivery: ${d.deliveryId}`,
      `  data:     ${JSON.stringify(d.payload.data)}`,
    ].join('\n'),
  );
  return (
    `${batch.length === 1 ? 'One event' : `${batch.length} events`} from vigosrv on ${serverHostname}:\n\n` +
    `${parts.join('\n\n')}\n`
  );
}

interface SmtpError {
  responseCode?: number;
}

export function smtpOutcome(err: unknown): Outcome {
  const code = (err as SmtpError | undefined)?.responseCode;
  const error = errorText(err);
  // 5xx is permanent, except a refused login: fixing the password in the vault makes the next try work.
  if (typeof code === 'number' && code >= 500 && code < 600 && code !== 530 && code !== 535)
    return { kind: 'dead', error };
  return { kind: 'retry', error };
}

export function createEmailAdapter(
  target: EmailOptions & { readonly timeoutMs: number },
  ctx: AdapterContext,
): Adapter {
  const ca = readCaFile(target.caFile);
  return {
    send: async (batch) => {
      const password = target.password === undefined ? undefined : ctx.secret(target.password);
      const transport = nodemailer.createTransport({
        host: target.host,
        port: target.port,
        secure: target.port === 465,
        requireTLS: target.requireTls,
        ...(target.username === undefined || password === undefined
          ? {}
          : { auth: { user: target.username, pass: password } }),
        tls: { ...(ca === undefined ? {} : { ca }), minVersion: 'TLSv1.2' },
        connectionTimeout: target.timeoutMs,
        greetingTimeout: target.timeoutMs,
        socketTimeout: target.timeoutMs,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      try {
        await transport.sendMail({
          from: target.from,
          to: [...target.to],
          subject: digestSubject(batch),
          text: digestText(batch, ctx.serverHostname),
          headers: { 'X-Vigo-Events': String(batch.length) },
        });
        return { kind: 'delivered' };
      } catch (err) {
        return smtpOutcome(err);
      } finally {
        transport.close();
      }
    },
    close: () => undefined,
  };
}
