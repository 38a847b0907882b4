export { createEventBus } from './bus.ts';
export type {
  CloseReason,
  EventBus,
  EventBusOptions,
  EventBusStats,
  EventData,
  EventReplay,
  GapReason,
  JsonValue,
  SubscribeOptions,
  Subscription,
  VigoEvent,
} from './bus.ts';
export { eventJson } from './encode.ts';
export type { EventStreamFormat } from './encode.ts';
export { eventTypes, isEventType, parseEventTypes } from './event-types.ts';
export type { EventType } from './event-types.ts';
export { eventStreamResponse, negotiateEventFormat, sseRetryMs } from './stream.ts';
export type { EventStreamOptions, EventStreamRequest } from './stream.ts';
export { staleEventPublisher } from './stale.ts';
export type { StaleTransitionLike } from './stale.ts';
export { convergenceEventPublisher } from './convergence.ts';
export type { ConvergenceTransitionLike } from './convergence.ts';
