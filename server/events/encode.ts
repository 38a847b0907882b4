/**
 * Wire forms of an event, computed once per event however many streams carry it: the first stream to
 * send an event serialises it, the others reuse the bytes. Events are frozen, so the cache cannot go stale;
 * a WeakMap lets the cache go with the event when the ring drops it.
 */
import type { VigoEvent } from './bus.ts';

export type EventStreamFormat = 'sse' | 'ndjson';

interface EncodedForms {
  json?: string;
  sse?: Uint8Array;
  ndjson?: Uint8Array;
}

const encoder = new TextEncoder();
const cache = new WeakMap<VigoEvent, EncodedForms>();

function formsOf(event: VigoEvent): EncodedForms {
  let forms = cache.get(event);
  if (forms === undefined) {
    forms = {};
    cache.set(event, forms);
  }
  return forms;
}

/** The event as one line of JSON (JSON.stringify escapes CR and LF, so it never spans lines). */
export function eventJson(event: VigoEvent): string {
  const forms = formsOf(event);
  forms.json ??= JSON.stringify(event);
  return forms.json;
}

/** One frame of the stream in the given format, as bytes ready to enqueue. */
export function eventFrame(event: VigoEvent, format: EventStreamFormat): Uint8Array {
  const forms = formsOf(event);
  if (format === 'sse') {
    forms.sse ??= encoder.encode(`id: ${event.id}\nevent: ${event.type}\ndata: ${eventJson(event)}\n\n`);
    return forms.sse;
  }
  forms.ndjson ??= encoder.encode(`${eventJson(event)}\n`);
  return forms.ndjson;
}
