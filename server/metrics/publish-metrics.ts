/**
 * Publish metrics: how long validations and publishes take, how publishes end, and which config version
 * is active since when. The publish service is wrapped (its use cases stay unaware of metrics), and the
 * activation gauges are set where check-in's active configuration is swapped, so approvals and rollbacks
 * move them too.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { isVigoError } from '../core/index.ts';
import type { PublishService } from '../publish/index.ts';

/**
 * How a publish ended: activated, pending (awaiting approval), unchanged, dry_run; invalid (the stacks did
 * not validate), refused (frozen, a pending version exists, the validator busy, the audit chain broken …),
 * failed (an internal error).
 */
export const publishOutcomes = [
  'activated',
  'pending',
  'unchanged',
  'dry_run',
  'invalid',
  'refused',
  'failed',
] as const;
export type PublishOutcome = (typeof publishOutcomes)[number];

/** Seconds: from a small stack set to a large one at the validator's time limit. */
export const publishDurationBucketsSeconds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const invalidCodes: ReadonlySet<string> = new Set(['publish.stacks_invalid', 'publish.upload_invalid']);

export function outcomeOfError(err: unknown): PublishOutcome {
  if (!isVigoError(err)) return 'failed';
  if (invalidCodes.has(err.code)) return 'invalid';
  return err.code === 'internal' ? 'failed' : 'refused';
}

export interface PublishMetrics {
  /** The publish service, with every validate and publish timed and every publish counted. */
  wrap(inner: PublishService): PublishService;
  /** The active config version changed (start-up, publish, approval, rollback) at `atMs`. */
  activated(version: number, atMs: number): void;
}

export function createPublishMetrics(registry: Registry): PublishMetrics {
  const duration = new Histogram({
    name: 'vigo_publish_duration_seconds',
    help: 'Time to validate stacks (phase=validate) or to validate, compile and store a publish (phase=publish).',
    labelNames: ['phase'],
    buckets: publishDurationBucketsSeconds,
    registers: [registry],
  });
  const publishes = new Counter({
    name: 'vigo_publishes_total',
    help: 'Publishes by outcome: activated, pending, unchanged, dry_run, invalid, refused, failed.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const version = new Gauge({
    name: 'vigo_config_version',
    help: 'The active config version: what check-ins serve.',
    registers: [registry],
  });
  const activatedAt = new Gauge({
    name: 'vigo_config_last_publish_timestamp_seconds',
    help: 'When the active config version became active (Unix time; at start-up, when it was created).',
    registers: [registry],
  });
  for (const outcome of publishOutcomes) publishes.inc({ outcome }, 0);
  for (const phase of ['validate', 'publish']) duration.zero({ phase });

  return {
    wrap: (inner) => ({
      ...inner,
      async validate(source) {
        const end = duration.startTimer({ phase: 'validate' });
        try {
          return await inner.validate(source);
        } finally {
          end();
        }
      },
      async publish(ctx, source, options) {
        const end = duration.startTimer({ phase: 'publish' });
        try {
          const result = await inner.publish(ctx, source, options);
          publishes.inc({ outcome: result.outcome });
          return result;
        } catch (err) {
          publishes.inc({ outcome: outcomeOfError(err) });
          throw err;
        } finally {
          end();
        }
      },
    }),
    activated(v, atMs) {
      version.set(v);
      activatedAt.set(atMs / 1000);
    },
  };
}
