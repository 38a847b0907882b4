/**
 * The one dispatcher: reads every event from the bus and queues a delivery per matching target. Nothing
 * is written while an event is published (a check-in or a publish never waits for SQLite here): matching
 * events collect in memory and are written together, one transaction per flush tick. The bus subscription
 * is bounded; if the dispatcher ever fell that far behind, it resumes from its last event and logs what
 * the bus could no longer replay.
 */
import type { Logger } from '../core/index.ts';
import type { EventBus, Subscription, VigoEvent } from '../events/index.ts';
import type { IntegrationTarget } from './config.ts';
import type { DeliveryPayload, DeliveryQueue, NewDelivery } from './queue.ts';
import { selectedTypes, severityOf } from './severity.ts';
import type { DeliverableEventType } from './severity.ts';
import { errorText } from './adapters/types.ts';

export interface DispatcherOptions {
  readonly bus: EventBus;
  readonly targets: readonly IntegrationTarget[];
  readonly queue: DeliveryQueue;
  readonly log: Logger;
  /** Told which targets got new rows, and how many of their oldest rows were dropped to respect bounds. */
  readonly enqueued: (targets: ReadonlySet<string>, dropped: ReadonlyMap<string, number>) => void;
  readonly flushIntervalMs?: number;
  readonly now?: () => number;
}

export interface Dispatcher {
  /** Writes what is buffered now (drain, tests). */
  flush(): void;
  stop(): void;
}

/** Events one subscription may fall behind before it is closed and resumed. */
const maxQueuedEvents = 50_000;
/** Buffered rows that trigger a flush at once instead of at the next tick. */
const flushAtRows = 5_000;

export function payloadOf(event: VigoEvent): DeliveryPayload {
  return {
    id: event.id,
    type: event.type,
    at: event.at,
    severity: severityOf(event.type),
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    data: event.data,
  };
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { bus, targets, queue, log } = options;
  const flushIntervalMs = options.flushIntervalMs ?? 50;
  const now = options.now ?? Date.now;
  const receivers = new Map<DeliverableEventType, IntegrationTarget[]>();
  for (const target of targets) {
    for (const type of selectedTypes(target.events, target.minSeverity)) {
      const list = receivers.get(type) ?? [];
      list.push(target);
      receivers.set(type, list);
    }
  }
  /** An e-mail target's open digest window: events until then share one due time, so one mail. */
  const windowEnds = new Map<string, number>();
  let buffer: NewDelivery[] = [];
  let timer: NodeJS.Timeout | undefined;
  let subscription: Subscription | undefined;
  let stopped = false;

  const dueAt = (target: IntegrationTarget, at: number): number => {
    if (target.type !== 'email' || target.digestWindowMs === 0) return at;
    const end = windowEnds.get(target.name);
    if (end !== undefined && end > at) return end;
    windowEnds.set(target.name, at + target.digestWindowMs);
    return at + target.digestWindowMs;
  };

  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return;
    const items = buffer;
    buffer = [];
    try {
      const { dropped } = queue.enqueue(items);
      options.enqueued(new Set(items.map((item) => item.target)), dropped);
    } catch (err) {
      log.error('integration deliveries could not be queued', {
        count: items.length,
        message: errorText(err),
      });
    }
  };

  const accept = (event: VigoEvent): void => {
    if (event.type === 'stream.gap') {
      const { message } = event.data;
      log.warn('integration dispatcher missed events', {
        message: typeof message === 'string' ? message : '',
      });
      return;
    }
    const matched = receivers.get(event.type);
    if (matched === undefined) return;
    const payload = payloadOf(event);
    const at = now();
    for (const target of matched) buffer.push({ target: target.name, payload, dueAtMs: dueAt(target, at) });
    if (buffer.length >= flushAtRows) flush();
    else if (timer === undefined) timer = setTimeout(flush, flushIntervalMs);
  };

  const run = async (): Promise<void> => {
    let lastId: string | undefined;
    while (!stopped) {
      subscription = bus.subscribe({
        maxQueued: maxQueuedEvents,
        ...(lastId === undefined ? {} : { afterId: lastId }),
      });
      for await (const event of subscription) {
        if (event.type !== 'stream.gap') lastId = event.id;
        accept(event);
      }
      if (subscription.closedReason !== 'overflow') break;
      log.warn('integration dispatcher fell behind the event bus; resuming', { lastId });
    }
  };

  if (receivers.size > 0)
    void run().catch((err: unknown) =>
      log.error('integration dispatcher stopped', { message: errorText(err) }),
    );
  return {
    flush,
    stop() {
      stopped = true;
      subscription?.close();
      flush();
    },
  };
}
