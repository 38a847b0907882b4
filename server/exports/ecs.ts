/**
 * Server events and audit entries as Elastic Common Schema (ECS 8) documents, for the SIEM export. The ECS
 * fields a SIEM indexes and correlates on are filled from what each record says; everything else a record
 * carries travels under `vigo.*`, unchanged, so nothing is lost in the mapping (docs/exports.md).
 */
import type { AuditRecord, JsonObject } from '../audit/index.ts';
import type { JsonValue, VigoEvent } from '../events/index.ts';

export type EcsOutcome = 'success' | 'failure' | 'unknown';

/** One line of the SIEM export. */
export interface EcsDocument {
  readonly '@timestamp': string;
  readonly event: {
    readonly kind: 'event' | 'alert';
    readonly category: readonly string[];
    readonly type: readonly string[];
    readonly action: string;
    readonly id: string;
    readonly outcome: EcsOutcome;
    readonly dataset: 'vigo.events' | 'vigo.audit';
    readonly provider: 'vigosrv';
    readonly module: 'vigo';
  };
  readonly user?: { readonly name: string };
  readonly host?: { readonly name?: string; readonly id?: string };
  readonly message: string;
  readonly vigo: { readonly [key: string]: JsonValue };
}

interface Classification {
  readonly category: readonly string[];
  readonly type: readonly string[];
  readonly kind?: 'alert';
  readonly outcome?: EcsOutcome;
}

/**
 * ECS categorisation by action (event type or audit action). Exact names first, then the family before
 * the first dot; an action in neither is `configuration`/`info`.
 */
const byAction: Readonly<Record<string, Classification>> = {
  'envoy.enrolled': { category: ['host'], type: ['creation'] },
  'envoy.revoked': { category: ['host'], type: ['deletion'] },
  'envoy.converged': { category: ['configuration', 'host'], type: ['change'], outcome: 'success' },
  'envoy.degraded': { category: ['configuration', 'host'], type: ['change'], outcome: 'failure' },
  'envoy.failed': { category: ['configuration', 'host'], type: ['change', 'error'], outcome: 'failure' },
  'drift.detected': { category: ['configuration', 'host'], type: ['change'], kind: 'alert' },
  'convergence.threshold': { category: ['configuration'], type: ['info'], kind: 'alert' },
  'audit.chain_broken': {
    category: ['configuration', 'database'],
    type: ['error'],
    kind: 'alert',
    outcome: 'failure',
  },
  'config.rejected': { category: ['configuration'], type: ['denied'] },
  'config.auto_rolled_back': { category: ['configuration'], type: ['change'], kind: 'alert' },
  'task.started': { category: ['process'], type: ['start'] },
  'task.finished': { category: ['process'], type: ['end'] },
  'task.aborted': { category: ['process'], type: ['end'] },
  'workflow.started': { category: ['process'], type: ['start'] },
  'workflow.finished': { category: ['process'], type: ['end'] },
  'workflow.aborted': { category: ['process'], type: ['end'] },
  'query.started': { category: ['process'], type: ['start'] },
  'query.finished': { category: ['process'], type: ['end'] },
  'user.created': { category: ['iam'], type: ['user', 'creation'] },
  'user.updated': { category: ['iam'], type: ['user', 'change'] },
  'user.deleted': { category: ['iam'], type: ['user', 'deletion'] },
  'token.created': { category: ['iam'], type: ['creation'] },
  'token.revoked': { category: ['iam'], type: ['deletion'] },
};

const byFamily: Readonly<Record<string, Classification>> = {
  envoy: { category: ['host'], type: ['info'] },
  run: { category: ['configuration', 'host'], type: ['change'] },
  config: { category: ['configuration'], type: ['change'] },
  task: { category: ['process'], type: ['info'] },
  workflow: { category: ['process'], type: ['info'] },
  push: { category: ['process'], type: ['start'] },
  query: { category: ['process'], type: ['info'] },
  user: { category: ['iam'], type: ['user', 'change'] },
  token: { category: ['iam'], type: ['change'] },
  identity: { category: ['iam'], type: ['change'] },
  secret: { category: ['configuration'], type: ['change'] },
  secrets: { category: ['configuration'], type: ['change'] },
  audit: { category: ['configuration'], type: ['change'] },
};

const fallback: Classification = { category: ['configuration'], type: ['info'] };

function classify(action: string): Classification {
  return byAction[action] ?? byFamily[action.slice(0, action.indexOf('.'))] ?? fallback;
}

const text = (value: JsonValue | undefined): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

function hostOf(hostname: string | undefined, envoyId: string | undefined): EcsDocument['host'] {
  if (hostname === undefined && envoyId === undefined) return undefined;
  return {
    ...(hostname === undefined ? {} : { name: hostname }),
    ...(envoyId === undefined ? {} : { id: envoyId }),
  };
}

function withOptional(
  base: Omit<EcsDocument, 'user' | 'host'>,
  user: string | undefined,
  host: EcsDocument['host'],
): EcsDocument {
  return {
    ...base,
    ...(user === undefined ? {} : { user: { name: user } }),
    ...(host === undefined ? {} : { host }),
  };
}

/** A run report's outcome follows from its failed resources; other events take their type's. */
function eventOutcome(event: VigoEvent, classification: Classification): EcsOutcome {
  if (event.type === 'run.reported' && typeof event.data['failed'] === 'number')
    return event.data['failed'] === 0 ? 'success' : 'failure';
  return classification.outcome ?? 'unknown';
}

export function eventToEcs(event: VigoEvent): EcsDocument {
  const classification = classify(event.type);
  const by = text(event.data['by']);
  const hostname = text(event.data['hostname']);
  const envoyId = text(event.data['envoyId']);
  const subject = event.subject === undefined ? '' : ` ${event.subject}`;
  const host = hostname === undefined ? '' : ` (${hostname})`;
  return withOptional(
    {
      '@timestamp': event.at,
      event: {
        kind: classification.kind ?? 'event',
        category: classification.category,
        type: classification.type,
        action: event.type,
        id: event.id,
        outcome: eventOutcome(event, classification),
        dataset: 'vigo.events',
        provider: 'vigosrv',
        module: 'vigo',
      },
      message: `${event.type}${subject}${host}${by === undefined ? '' : ` by ${by}`}`,
      vigo: {
        source: 'event',
        event_type: event.type,
        subject: event.subject ?? null,
        data: event.data,
      },
    },
    by,
    hostOf(hostname, envoyId),
  );
}

/**
 * The id an audit entry has in the export. Bus event ids are `<bootTag>-<seq>` with a boot tag of at least
 * six characters, so `audit-<seq>` never names an event.
 */
export function auditEventId(seq: number): string {
  return `audit-${seq}`;
}

export function auditToEcs(entry: AuditRecord): EcsDocument {
  const classification = classify(entry.action);
  const details: JsonObject = entry.details;
  const hostname = text(details['hostname']);
  const envoyId = entry.target.startsWith('envoy:') ? entry.target.slice('envoy:'.length) : undefined;
  return withOptional(
    {
      '@timestamp': new Date(entry.at).toISOString(),
      event: {
        kind: classification.kind ?? 'event',
        category: classification.category,
        type: classification.type,
        action: entry.action,
        id: auditEventId(entry.seq),
        // An audit entry records a change that was committed.
        outcome: 'success',
        dataset: 'vigo.audit',
        provider: 'vigosrv',
        module: 'vigo',
      },
      message: `${entry.action} ${entry.target} by ${entry.actor}`,
      vigo: {
        source: 'audit',
        audit: {
          seq: entry.seq,
          target: entry.target,
          details: details as JsonValue,
          hash: entry.hash,
          prev_hash: entry.prevHash,
        },
      },
    },
    entry.actor,
    hostOf(hostname, envoyId),
  );
}
