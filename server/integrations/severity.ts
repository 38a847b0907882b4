/**
 * What each event type weighs for alerting, in one table, and the glob patterns targets select event types
 * with. A target receives an event when one of its patterns matches the type and the type's severity is at
 * least the target's `min_severity`.
 */
import { eventTypes } from '../events/index.ts';
import type { EventType } from '../events/index.ts';

export const severities = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof severities)[number];

/** The event types a target can receive: every bus event but the stream's own `stream.gap` notice. */
export type DeliverableEventType = Exclude<EventType, 'stream.gap'>;

export const deliverableEventTypes: readonly DeliverableEventType[] = eventTypes.filter(
  (type): type is DeliverableEventType => type !== 'stream.gap',
);

/** Severity of every deliverable event type; a new event type does not compile until it is placed here. */
export const eventSeverity: Readonly<Record<DeliverableEventType, Severity>> = {
  'envoy.enrolled': 'info',
  'envoy.revoked': 'warning',
  'envoy.stale': 'warning',
  'envoy.online': 'info',
  'envoy.push_requested': 'info',
  'envoy.converged': 'info',
  'envoy.degraded': 'warning',
  'envoy.failed': 'critical',
  'drift.detected': 'warning',
  'compliance.waiver_expired': 'warning',
  'convergence.threshold': 'critical',
  'run.reported': 'info',
  'run.failed': 'warning',
  'resource.blocked': 'warning',
  'task.started': 'info',
  'task.result': 'info',
  'task.batch': 'info',
  'task.finished': 'info',
  'task.aborted': 'warning',
  'workflow.started': 'info',
  'workflow.step': 'info',
  'workflow.approval_requested': 'info',
  'workflow.finished': 'info',
  'workflow.aborted': 'warning',
  'config.published': 'info',
  'config.pending': 'info',
  'config.approved': 'info',
  'config.rejected': 'info',
  'config.rolled_back': 'warning',
  'config.auto_rolled_back': 'critical',
  'config.frozen': 'info',
  'config.unfrozen': 'info',
  'user.created': 'info',
  'user.updated': 'info',
  'user.deleted': 'warning',
  'token.created': 'info',
  'token.revoked': 'info',
  'audit.chain_broken': 'critical',
  'audit.reanchored': 'warning',
  'push.requested': 'info',
  'query.started': 'info',
  'query.finished': 'info',
};

export function severityRank(severity: Severity): number {
  return severities.indexOf(severity);
}

/** The severity of an event type; a test delivery (`integration.test`) is info. */
export function severityOf(type: string): Severity {
  return (eventSeverity as Readonly<Record<string, Severity>>)[type] ?? 'info';
}

const patternPattern = /^[a-z_.*]{1,64}$/;

/** Why `pattern` is not an event pattern, or undefined when it is one; it must match some event type. */
export function eventPatternProblem(pattern: string): string | undefined {
  if (!patternPattern.test(pattern))
    return 'an event pattern holds only lower-case letters, "_", "." and "*", at most 64 characters';
  if (deliverableEventTypes.some((type) => globMatches(pattern, type))) return undefined;
  return 'it matches no event type';
}

/** `*` matches any run of characters, dots included: "envoy.*", "*.failed", "*". */
export function globMatches(pattern: string, type: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === type;
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (!type.startsWith(first) || !type.endsWith(last) || type.length < first.length + last.length)
    return false;
  let at = first.length;
  for (const middle of parts.slice(1, -1)) {
    const found = type.indexOf(middle, at);
    if (found === -1 || found + middle.length > type.length - last.length) return false;
    at = found + middle.length;
  }
  return true;
}

/** The event types a target with these patterns and minimum severity receives. */
export function selectedTypes(
  patterns: readonly string[],
  minSeverity: Severity,
): ReadonlySet<DeliverableEventType> {
  const floor = severityRank(minSeverity);
  return new Set(
    deliverableEventTypes.filter(
      (type) =>
        severityRank(eventSeverity[type]) >= floor && patterns.some((pattern) => globMatches(pattern, type)),
    ),
  );
}
