/**
 * The event sinks as the server runs them: the queue, the dispatcher on the bus, one worker per target,
 * the metrics, and the status and test-delivery use cases behind the REST routes, the CLI and the web
 * page. Finished rows are deleted by the history pruner (database.retention.deliveries), off this thread.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/index.ts';
import { VigoError, actorName } from '../core/index.ts';
import type { Ctx, Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { IntegrationMetrics } from '../metrics/index.ts';
import type { Vault } from '../secrets/index.ts';
import type { Store } from '../store/index.ts';
import { createAdapter, targetEndpoint } from './adapters/index.ts';
import type { AdapterContext } from './adapters/types.ts';
import { MissingSecretError } from './adapters/types.ts';
import type { IntegrationTarget, TargetType } from './config.ts';
import { createDispatcher } from './dispatcher.ts';
import { createDeliveryQueue } from './queue.ts';
import type { DeliveryQueue, DeliveryState } from './queue.ts';
import type { Severity } from './severity.ts';
import { TargetWorker } from './worker.ts';
import type { SettledOutcome } from './worker.ts';

export interface IntegrationStatus {
  readonly name: string;
  readonly type: TargetType;
  /** Where it sends: scheme, host and port only (a URL path may hold a token). */
  readonly endpoint: string;
  readonly events: readonly string[];
  readonly minSeverity: Severity;
  readonly queueDepth: number;
  /** Counts since this server started. */
  readonly delivered: number;
  readonly retried: number;
  readonly dead: number;
  readonly lastSuccessAt: string | null;
  readonly lastErrorAt: string | null;
  readonly lastError: string | null;
  /** healthy: last try succeeded (or none yet); failing: the last try failed. */
  readonly health: 'healthy' | 'failing' | 'idle';
}

export interface TestDeliveryResult {
  readonly target: string;
  readonly deliveryId: string;
  /** What the first try did: delivered, retried (will be tried again), dead, or pending (not tried yet). */
  readonly outcome: SettledOutcome | 'pending';
  readonly error: string | null;
}

export interface Integrations {
  list(): IntegrationStatus[];
  /** Queues a test event for one target (audited) and waits briefly for its first try. */
  test(ctx: Ctx, name: string): Promise<TestDeliveryResult>;
  start(): void;
  /** Stops taking events, writes what is buffered and waits for requests in flight. */
  stop(): Promise<void>;
}

export interface IntegrationsOptions {
  readonly targets: readonly IntegrationTarget[];
  readonly store: Store;
  readonly bus: EventBus;
  readonly vault: Pick<Vault, 'get'>;
  readonly log: Logger;
  readonly serverHostname: string;
  /** Builds the metrics once the queue can tell depths. */
  readonly metrics: (queueDepth: (target: string) => number) => IntegrationMetrics;
  /** Longest `test` waits for the first try. */
  readonly testWaitMs?: number;
  readonly now?: () => number;
}

interface Counts {
  delivered: number;
  retried: number;
  dead: number;
}

export function createIntegrations(options: IntegrationsOptions): Integrations {
  const { targets, store, log } = options;
  const now = options.now ?? Date.now;
  const byName = new Map(targets.map((t) => [t.name, t]));
  const queue: DeliveryQueue = createDeliveryQueue(store, {
    maxQueue: (name) => byName.get(name)?.maxQueue ?? Number.MAX_SAFE_INTEGER,
    now,
  });
  const metrics = options.metrics((name) => queue.depth(name));
  const counts = new Map<string, Counts>(targets.map((t) => [t.name, { delivered: 0, retried: 0, dead: 0 }]));
  const waiters = new Map<string, (result: { outcome: SettledOutcome; error: string | null }) => void>();
  const ctx: AdapterContext = {
    secret: (ref) => {
      const value = options.vault.get(ref.secretPath);
      if (value === undefined) throw new MissingSecretError(ref.secretPath);
      return value;
    },
    serverHostname: options.serverHostname,
    now,
  };
  const count = (name: string, outcome: SettledOutcome, n: number): void => {
    const c = counts.get(name);
    if (c !== undefined) c[outcome] += n;
    metrics.count(name, outcome, n);
  };
  const workers = new Map(
    targets.map((target) => [
      target.name,
      new TargetWorker({
        target,
        adapter: createAdapter(target, ctx),
        queue,
        log: log.child({ component: 'integrations' }),
        now,
        observer: {
          sent: (name, seconds) => metrics.observeRequest(name, seconds),
          settled: (name, outcome, ids, error) => {
            count(name, outcome, ids.length);
            for (const id of ids) {
              const waiter = waiters.get(id);
              if (waiter === undefined) continue;
              waiters.delete(id);
              waiter({ outcome, error: error ?? null });
            }
          },
        },
      }),
    ]),
  );
  let dispatcher: ReturnType<typeof createDispatcher> | undefined;

  const iso = (ms: number | undefined): string | null =>
    ms === undefined ? null : new Date(ms).toISOString();

  return {
    list: () =>
      targets.map((target) => {
        const history = queue.history(target.name);
        const c = counts.get(target.name) ?? { delivered: 0, retried: 0, dead: 0 };
        const failing =
          history.lastErrorAtMs !== undefined &&
          (history.lastSuccessAtMs === undefined || history.lastErrorAtMs > history.lastSuccessAtMs);
        return {
          name: target.name,
          type: target.type,
          endpoint: targetEndpoint(target),
          events: target.events,
          minSeverity: target.minSeverity,
          queueDepth: queue.depth(target.name),
          ...c,
          lastSuccessAt: iso(history.lastSuccessAtMs),
          lastErrorAt: iso(history.lastErrorAtMs),
          lastError: history.lastError ?? null,
          health: failing ? 'failing' : history.lastSuccessAtMs === undefined ? 'idle' : 'healthy',
        };
      }),
    async test(caller, name) {
      const target = byName.get(name);
      const worker = workers.get(name);
      if (target === undefined || worker === undefined)
        throw new VigoError(
          'integrations.target_not_found',
          `no integration target named ${JSON.stringify(name.slice(0, 64))}; vigocli integrations list shows them`,
          { target: name.slice(0, 64) },
        );
      const at = now();
      const by = actorName(caller.actor);
      const deliveryId = randomUUID();
      store.tx((db) => {
        // The audit entry first: an entry that cannot be written leaves no row and no count behind.
        appendAudit(db, {
          actor: by,
          action: 'integrations.test',
          target: `integration:${name}`,
          details: { deliveryId },
        });
        const payload = {
          id: `test-${at}`,
          type: 'integration.test',
          at: new Date(at).toISOString(),
          severity: 'info',
          subject: `integration:${name}`,
          data: { target: name, by, message: 'a test event sent on request; no action is needed' },
        };
        // Due since the epoch: it sorts before any backlog, so it is the next try.
        queue.enqueue([{ target: name, payload, dueAtMs: 0, deliveryId }]);
      });
      const settled = new Promise<{ outcome: SettledOutcome | 'pending'; error: string | null }>(
        (resolve) => {
          const timer = setTimeout(() => {
            waiters.delete(deliveryId);
            resolve({ outcome: 'pending', error: null });
          }, options.testWaitMs ?? 15_000);
          waiters.set(deliveryId, (result) => {
            clearTimeout(timer);
            resolve(result);
          });
        },
      );
      worker.kick(true);
      const result = await settled;
      return { target: name, deliveryId, ...result };
    },
    start() {
      dispatcher = createDispatcher({
        bus: options.bus,
        targets,
        queue,
        log: log.child({ component: 'integrations' }),
        now,
        enqueued: (names, dropped) => {
          for (const [name, n] of dropped) {
            count(name, 'dead', n);
            log.warn('integration queue full: oldest deliveries dropped', { target: name, count: n });
          }
          for (const name of names) workers.get(name)?.kick();
        },
      });
      for (const worker of workers.values()) worker.kick();
      for (const target of targets) {
        for (const ref of secretRefs(target)) {
          if (options.vault.get(ref) === undefined)
            log.warn('an integration secret is not in the vault; deliveries wait until it is set', {
              target: target.name,
              secret: ref,
            });
        }
      }
    },
    async stop() {
      dispatcher?.stop();
      await Promise.all([...workers.values()].map((w) => w.stop()));
      for (const waiter of waiters.values()) waiter({ outcome: 'retried', error: 'the server is stopping' });
      waiters.clear();
    },
  };
}

function secretRefs(target: IntegrationTarget): string[] {
  const refs: (string | undefined)[] = [];
  switch (target.type) {
    case 'webhook':
      refs.push(target.secret.secretPath);
      break;
    case 'email':
      refs.push(target.password?.secretPath);
      break;
    case 'splunk_hec':
      refs.push(target.token.secretPath);
      break;
    case 'loki':
    case 'elastic': {
      const auth = target.auth;
      if (auth.kind === 'basic') refs.push(auth.password.secretPath);
      if (auth.kind === 'bearer') refs.push(auth.token.secretPath);
      if (auth.kind === 'api_key') refs.push(auth.apiKey.secretPath);
      break;
    }
    case 'syslog':
      break;
  }
  return refs.filter((r): r is string => r !== undefined);
}

export type { DeliveryState };
