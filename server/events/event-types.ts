/**
 * The closed set of event types the bus carries. Declared once: the union, the runtime list and the
 * `?types=` parser all come from `eventTypes`, so a new type is one line here.
 */
import { VigoError, closestName, listNames } from '../core/index.ts';

export const eventTypes = [
  'envoy.enrolled',
  'envoy.revoked',
  'envoy.stale',
  'envoy.online',
  'envoy.push_requested',
  'envoy.converged',
  'envoy.degraded',
  'envoy.failed',
  'drift.detected',
  'convergence.threshold',
  'compliance.waiver_expired',
  'run.reported',
  'run.failed',
  'resource.blocked',
  'task.started',
  'task.result',
  'task.batch',
  'task.finished',
  'task.aborted',
  'workflow.started',
  'workflow.step',
  'workflow.approval_requested',
  'workflow.finished',
  'workflow.aborted',
  'config.published',
  'config.pending',
  'config.approved',
  'config.rejected',
  'config.rolled_back',
  'config.auto_rolled_back',
  'config.frozen',
  'config.unfrozen',
  'user.created',
  'user.updated',
  'user.deleted',
  'token.created',
  'token.revoked',
  'audit.chain_broken',
  'audit.reanchored',
  'push.requested',
  'query.started',
  'query.finished',
  'stream.gap',
] as const;

export type EventType = (typeof eventTypes)[number];

const knownTypes: ReadonlySet<string> = new Set(eventTypes);

export function isEventType(value: string): value is EventType {
  return knownTypes.has(value);
}

/** Longest item echoed back in an error, so a huge query string cannot flood a response or a log line. */
const maxEchoedLength = 64;

function invalidTypes(message: string, value: string): VigoError {
  return new VigoError('request.invalid', message, {
    field: 'types',
    value: value.slice(0, maxEchoedLength),
  });
}

function expandItem(item: string): readonly EventType[] {
  if (isEventType(item)) return [item];
  // "envoy.*" selects a family; operators think in families more often than in single types.
  if (item.endsWith('.*')) {
    const prefix = item.slice(0, -1);
    const family = eventTypes.filter((type) => type.startsWith(prefix));
    if (family.length > 0) return family;
  }
  const shown = item.slice(0, maxEchoedLength);
  const hint = item.length <= maxEchoedLength ? closestName(item, eventTypes) : undefined;
  throw invalidTypes(
    `types: unknown event type "${shown}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`}; ` +
      `valid types are ${listNames(eventTypes, eventTypes.length)}, or a family such as "envoy.*"`,
    item,
  );
}

/**
 * Parses a `?types=a,b,envoy.*` query value. Undefined (no parameter) means every type; an empty value or
 * an empty item is refused rather than read as "all", so a client that built an empty list by mistake
 * hears about it. Duplicates collapse; the result keeps the order of `eventTypes`.
 */
export function parseEventTypes(text: string | undefined): EventType[] | undefined {
  if (text === undefined) return undefined;
  const selected = new Set<EventType>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') {
      throw invalidTypes(
        'types: empty event type in the list; give comma-separated types such as ' +
          '"envoy.stale,config.published", or leave the parameter out for every type',
        text,
      );
    }
    for (const type of expandItem(item)) selected.add(type);
  }
  return eventTypes.filter((type) => selected.has(type));
}
