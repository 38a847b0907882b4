/**
 * One human line per event, shared by the e-mail subject and body, syslog MSG and the ECS `message` field:
 * the type, what it is about (a host name where the event names one) and its most telling facts.
 */
import type { DeliveryPayload } from '../queue.ts';

const maxSummaryLength = 300;

function fact(data: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = data[key];
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

/** The host an event is about, when it names one. */
export function eventHostname(payload: DeliveryPayload): string | undefined {
  return fact(payload.data, 'hostname');
}

export function eventSummary(payload: DeliveryPayload): string {
  const { data } = payload;
  const about = eventHostname(payload) ?? fact(data, 'envoyId') ?? payload.subject;
  const details = ['status', 'drift', 'count', 'version', 'reason', 'message', 'by']
    .map((key) => {
      const value = fact(data, key);
      return value === undefined ? undefined : `${key}=${value}`;
    })
    .filter((part): part is string => part !== undefined);
  const text = [
    `[${payload.severity}] ${payload.type}`,
    about === undefined ? '' : ` ${about}`,
    details.length === 0 ? '' : `: ${details.join(' ')}`,
  ].join('');
  const line = text.replace(/[\r\n]+/g, ' ');
  return line.length > maxSummaryLength ? `${line.slice(0, maxSummaryLength)}…` : line;
}
