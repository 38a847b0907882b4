/**
 * One in-process event bus: every server event is published here once, kept in a fixed-size ring, and
 * read by any number of subscribers (SSE/ndjson streams now, webhook and SIEM sinks later).
 *
 * A subscription is a cursor into the ring, not a copy of the events: publishing costs O(1) per
 * subscriber (a counter and perhaps a wake-up), the same code path serves replay after `Last-Event-ID`
 * and live delivery, and memory stays bounded by the ring whatever the clients do. A client that falls
 * `maxQueued` matching events behind, or so far behind that the ring overwrote what it had not read, is
 * closed with reason 'overflow'; it reconnects with its last id and resumes from the ring.
 */
import { VigoError } from '../core/index.ts';
import { createBootTag, formatEventId, parseEventId } from './event-id.ts';
import type { EventType } from './event-types.ts';

export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export type EventData = { readonly [key: string]: JsonValue };

export interface VigoEvent {
  readonly id: string;
  readonly type: EventType;
  /** RFC 3339 time of publication (UTC, milliseconds). */
  readonly at: string;
  /** What the event is about (an envoy id, a config version…), for filtering and display. */
  readonly subject?: string;
  readonly data: EventData;
}

/**
 * Why a resumed stream starts with `stream.gap`: the id is older than the ring ('expired'), from an
 * earlier server boot ('other-boot'), not an event id at all ('malformed'), or of this boot but beyond the
 * last id issued ('ahead', which only a forged or corrupted id can be).
 */
export type GapReason = 'expired' | 'other-boot' | 'malformed' | 'ahead';

/** 'closed' by its owner, 'overflow' when the client fell too far behind, 'shutdown' when the bus closed. */
export type CloseReason = 'closed' | 'overflow' | 'shutdown';

export interface SubscribeOptions {
  /** Resume after this id (an SSE `Last-Event-ID`); without it only events published from now on arrive. */
  afterId?: string;
  /** Only these types (a `stream.gap` always comes through); undefined means every type. */
  types?: readonly EventType[];
  /** Undelivered matching live events allowed before the subscription closes with 'overflow'. */
  maxQueued: number;
}

/** One reader. `next()` resolves undefined once the subscription is closed; only one call may be pending. */
export interface Subscription extends AsyncIterable<VigoEvent> {
  next(): Promise<VigoEvent | undefined>;
  close(): void;
  readonly closedReason: CloseReason | undefined;
}

export interface EventBusStats {
  subscribers: number;
  /** Events currently held in the ring. */
  retained: number;
  /** Events published since this bus was created. */
  published: number;
  lastId: string | null;
}

/** A page of retained events read without subscribing (see EventBus.replay). */
export interface EventReplay {
  readonly events: readonly VigoEvent[];
  /** Why the position asked for was not found; the page then starts at the oldest retained event. */
  readonly gap: GapReason | undefined;
}

export interface EventBus {
  /** Identifies this boot inside every event id. */
  readonly bootTag: string;
  /**
   * Records and fans out one event. `data` is copied shallowly and frozen; nested values must not be
   * changed afterwards, because the JSON form is produced lazily, on first use.
   */
  publish(type: EventType, data: EventData, subject?: string): VigoEvent;
  subscribe(options: SubscribeOptions): Subscription;
  /**
   * Up to `limit` retained events after `afterId` (from the oldest retained without it), oldest first, for
   * pull-based readers that come back later with the last id they took (the SIEM export).
   */
  replay(afterId: string | undefined, limit: number): EventReplay;
  stats(): EventBusStats;
  /** Ends every subscription with 'shutdown' (open streams finish, so a drain is not held up by them). */
  close(): void;
}

export interface EventBusOptions {
  /** How many recent events are kept for replay, e.g. 10_000. */
  retain: number;
  now?: () => number;
}

class EventRing {
  readonly capacity: number;
  readonly #slots: (VigoEvent | undefined)[];
  lastSeq = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#slots = new Array<VigoEvent | undefined>(capacity).fill(undefined);
  }

  get oldestSeq(): number {
    return Math.max(1, this.lastSeq - this.capacity + 1);
  }

  get size(): number {
    return Math.min(this.lastSeq, this.capacity);
  }

  push(seq: number, event: VigoEvent): void {
    this.#slots[seq % this.capacity] = event;
    this.lastSeq = seq;
  }

  /** The event with this sequence number; the caller checks it is still retained. */
  at(seq: number): VigoEvent {
    const event = this.#slots[seq % this.capacity];
    if (event === undefined) throw new VigoError('internal', `event ring has no event ${seq}`);
    return event;
  }
}

interface SubscriptionHost {
  readonly ring: EventRing;
  detach(subscription: BusSubscription): void;
}

interface SubscriptionStart {
  /** Sequence number of the last event already seen; delivery starts after it. */
  cursor: number;
  gap: VigoEvent | undefined;
  gapReason?: GapReason;
}

class BusSubscription implements Subscription {
  readonly #host: SubscriptionHost;
  readonly #types: ReadonlySet<EventType> | undefined;
  readonly #maxQueued: number;
  /** Events up to this sequence number are replay; later ones count against maxQueued. */
  readonly #liveFromSeq: number;
  #cursor: number;
  #pending = 0;
  #gap: VigoEvent | undefined;
  #waiter: ((event: VigoEvent | undefined) => void) | undefined;
  #closedReason: CloseReason | undefined;

  constructor(host: SubscriptionHost, options: SubscribeOptions, start: SubscriptionStart) {
    this.#host = host;
    this.#types = options.types === undefined ? undefined : new Set(options.types);
    this.#maxQueued = options.maxQueued;
    this.#liveFromSeq = host.ring.lastSeq;
    this.#cursor = start.cursor;
    this.#gap = start.gap;
  }

  get closedReason(): CloseReason | undefined {
    return this.#closedReason;
  }

  #matches(type: EventType): boolean {
    return this.#types === undefined || this.#types.has(type);
  }

  /** Called by the bus for every published event, right after it entered the ring. */
  offer(seq: number, event: VigoEvent): void {
    // With replay done and nothing undelivered, everything before `seq` is either delivered or filtered
    // out: moving the cursor up keeps a filtered subscriber from being overtaken by events it ignores.
    if (this.#pending === 0 && this.#cursor >= this.#liveFromSeq) this.#cursor = seq - 1;
    if (!this.#matches(event.type)) return;
    this.#pending += 1;
    if (this.#pending > this.#maxQueued) {
      this.finish('overflow');
      return;
    }
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const next = this.#take();
    if (next === undefined) return;
    this.#waiter = undefined;
    waiter(next);
  }

  #take(): VigoEvent | undefined {
    if (this.#gap !== undefined) {
      const gap = this.#gap;
      this.#gap = undefined;
      return gap;
    }
    const ring = this.#host.ring;
    while (this.#cursor < ring.lastSeq) {
      const seq = this.#cursor + 1;
      if (seq < ring.oldestSeq) {
        this.finish('overflow');
        return undefined;
      }
      this.#cursor = seq;
      const event = ring.at(seq);
      if (!this.#matches(event.type)) continue;
      if (seq > this.#liveFromSeq) this.#pending -= 1;
      return event;
    }
    return undefined;
  }

  next(): Promise<VigoEvent | undefined> {
    if (this.#closedReason !== undefined) return Promise.resolve(undefined);
    if (this.#waiter !== undefined) {
      return Promise.reject(
        new VigoError('internal', 'Subscription.next() was called while an earlier call is still pending'),
      );
    }
    const event = this.#take();
    if (event !== undefined || this.#closedReason !== undefined) return Promise.resolve(event);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  finish(reason: CloseReason): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = reason;
    this.#gap = undefined;
    this.#host.detach(this);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(undefined);
  }

  close(): void {
    this.finish('closed');
  }

  [Symbol.asyncIterator](): AsyncIterator<VigoEvent> {
    return {
      next: async () => {
        const value = await this.next();
        return value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }
}

function requireWholeNumber(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new VigoError(
      'config.invalid',
      `${name}: must be a whole number of at least ${min}, got ${value}`,
      {
        field: name,
      },
    );
  }
}

/** Longest resume id echoed back in a gap event. */
const maxEchoedIdLength = 128;

const gapMessages: Record<GapReason, string> = {
  expired: 'the last event id is older than the events this server still holds; events may have been missed',
  'other-boot': 'the last event id is from an earlier server start; events may have been missed',
  malformed: 'the last event id is not an event id; events may have been missed',
  ahead: 'the last event id was never issued by this server; events may have been missed',
};

export function createEventBus(options: EventBusOptions): EventBus {
  requireWholeNumber('retain', options.retain, 1);
  const now = options.now ?? Date.now;
  const bootTag = createBootTag(now());
  const ring = new EventRing(options.retain);
  const subscribers = new Set<BusSubscription>();
  let closed = false;
  const host: SubscriptionHost = { ring, detach: (subscription) => subscribers.delete(subscription) };

  const gapEvent = (reason: GapReason, afterId: string, cursor: number): VigoEvent =>
    Object.freeze({
      // The gap carries the id of the position replay starts from, so a client that stores it as its
      // Last-Event-ID and reconnects at once resumes without a second gap.
      id: formatEventId(bootTag, cursor),
      type: 'stream.gap',
      at: new Date(now()).toISOString(),
      data: Object.freeze({
        reason,
        lastEventId: afterId.slice(0, maxEchoedIdLength),
        message: gapMessages[reason],
      }),
    });

  const startOf = (afterId: string | undefined): SubscriptionStart => {
    if (afterId === undefined || afterId === '') return { cursor: ring.lastSeq, gap: undefined };
    const parsed = parseEventId(afterId);
    let reason: GapReason | undefined;
    if (parsed === undefined) reason = 'malformed';
    else if (parsed.bootTag !== bootTag) reason = 'other-boot';
    else if (parsed.seq > ring.lastSeq) reason = 'ahead';
    else if (parsed.seq < ring.oldestSeq - 1) reason = 'expired';
    else return { cursor: parsed.seq, gap: undefined };
    // After a gap, everything still retained follows: it is all the client can still get.
    const cursor = ring.oldestSeq - 1;
    return { cursor, gap: gapEvent(reason, afterId, cursor), gapReason: reason };
  };

  return {
    bootTag,
    publish(type, data, subject) {
      const seq = ring.lastSeq + 1;
      const event: VigoEvent = Object.freeze({
        id: formatEventId(bootTag, seq),
        type,
        at: new Date(now()).toISOString(),
        ...(subject === undefined ? {} : { subject }),
        data: Object.freeze({ ...data }),
      });
      ring.push(seq, event);
      for (const subscription of subscribers) subscription.offer(seq, event);
      return event;
    },
    subscribe(subscribeOptions) {
      requireWholeNumber('maxQueued', subscribeOptions.maxQueued, 1);
      if (subscribeOptions.types !== undefined && subscribeOptions.types.length === 0) {
        throw new VigoError(
          'request.invalid',
          'types: an empty list selects nothing; leave it out for every type',
          {
            field: 'types',
          },
        );
      }
      const subscription = new BusSubscription(host, subscribeOptions, startOf(subscribeOptions.afterId));
      if (closed) subscription.finish('shutdown');
      else subscribers.add(subscription);
      return subscription;
    },
    replay(afterId, limit) {
      requireWholeNumber('limit', limit, 0);
      let cursor = ring.oldestSeq - 1;
      let gap: GapReason | undefined;
      if (afterId !== undefined) {
        const start = startOf(afterId);
        cursor = start.cursor;
        gap = start.gapReason;
      }
      const events: VigoEvent[] = [];
      for (let seq = cursor + 1; seq <= ring.lastSeq && events.length < limit; seq++)
        events.push(ring.at(seq));
      return { events, gap };
    },
    stats: () => ({
      subscribers: subscribers.size,
      retained: ring.size,
      published: ring.lastSeq,
      lastId: ring.lastSeq === 0 ? null : formatEventId(bootTag, ring.lastSeq),
    }),
    close() {
      closed = true;
      for (const subscription of [...subscribers]) subscription.finish('shutdown');
    },
  };
}
