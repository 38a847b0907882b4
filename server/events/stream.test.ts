import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigoError } from '../core/index.ts';
import { createEventBus } from './bus.ts';
import type { EventBus, VigoEvent } from './bus.ts';
import { eventJson } from './encode.ts';
import { eventStreamResponse, negotiateEventFormat } from './stream.ts';
import type { EventStreamRequest } from './stream.ts';

/** Reads a Response body as text, waiting for a condition with a deadline rather than sleeping. */
class BodyText {
  text = '';
  ended = false;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | undefined;

  constructor(response: Response) {
    assert.ok(response.body);
    this.#reader = response.body.getReader();
  }

  async until(what: string, done: (text: string) => boolean, timeoutMs = 2000): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      while (!done(this.text)) {
        if (this.ended) throw new Error(`stream ended before ${what}; got ${JSON.stringify(this.text)}`);
        this.#pending ??= this.#reader.read();
        const result = await Promise.race([this.#pending, deadline]);
        if (result === 'timeout')
          throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.text)}`);
        this.#pending = undefined;
        if (result.done) this.ended = true;
        else this.text += this.#decoder.decode(result.value, { stream: true });
      }
      return this.text;
    } finally {
      clearTimeout(timer);
    }
  }

  async end(): Promise<string> {
    return this.until('the end of the stream', () => this.ended);
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

function request(
  bus: EventBus,
  overrides: Partial<EventStreamRequest> = {},
): {
  response: Response;
  abort: AbortController;
} {
  const abort = new AbortController();
  const response = eventStreamResponse(
    bus,
    { accept: undefined, lastEventId: undefined, types: undefined, signal: abort.signal, ...overrides },
    { keepAliveMs: 60_000, maxQueued: 100 },
  );
  return { response, abort };
}

function sseFrame(event: VigoEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${eventJson(event)}\n\n`;
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('event stream: framing', () => {
  it('serves SSE by default: retry, then one id/event/data frame per event, replayed and live', async () => {
    const bus = createEventBus({ retain: 100 });
    const old = bus.publish('config.published', { version: 1 });
    const missed = bus.publish('envoy.stale', { hostname: 'web-1\nline two' }, 'e-1');
    const { response, abort } = request(bus, { accept: 'text/event-stream', lastEventId: old.id });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    const body = new BodyText(response);
    const expected = `retry: 3000\n\n${sseFrame(missed)}`;
    assert.equal(await body.until('the missed event', (t) => t.length >= expected.length), expected);
    const live = bus.publish('run.reported', { envoyId: 'e-1' }, 'e-1');
    await body.until('the live event', (t) => t.length >= expected.length + sseFrame(live).length);
    assert.equal(body.text, expected + sseFrame(live));
    abort.abort();
    await body.end();
  });

  it('serves ndjson when asked: one VigoEvent a line', async () => {
    const bus = createEventBus({ retain: 100 });
    const { response, abort } = request(bus, { accept: 'application/json;q=0.5, application/x-ndjson' });
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    const body = new BodyText(response);
    const first = bus.publish('config.published', { version: 3 });
    const second = bus.publish('token.created', { tokenId: 't-1' }, 't-1');
    await body.until('two lines', (t) => t.split('\n').length > 2);
    const lines = body.text.split('\n').filter((line) => line !== '');
    assert.deepEqual(
      lines.map((line) => JSON.parse(line) as unknown),
      [JSON.parse(eventJson(first)), JSON.parse(eventJson(second))],
    );
    abort.abort();
    await body.end();
  });

  it('starts a resumed stream with a gap when the id is unusable, honouring the type filter', async () => {
    const bus = createEventBus({ retain: 100 });
    bus.publish('run.reported', {});
    const kept = bus.publish('config.frozen', { reason: 'release' });
    const { response, abort } = request(bus, { lastEventId: 'yesterday', types: ['config.frozen'] });
    const body = new BodyText(response);
    await body.until('gap and replay', (t) => t.includes(`id: ${kept.id}\n`));
    const frames = body.text.split('\n\n').filter((frame) => frame !== '');
    assert.equal(frames.length, 3);
    assert.match(
      frames[1] ?? '',
      new RegExp(`^id: ${bus.bootTag}-0\nevent: stream\\.gap\ndata: .*"reason":"malformed"`),
    );
    assert.equal(`${frames[2]}\n\n`, sseFrame(kept));
    abort.abort();
    await body.end();
  });

  it('negotiates the format from Accept', () => {
    assert.equal(negotiateEventFormat(undefined), 'sse');
    assert.equal(negotiateEventFormat('text/event-stream'), 'sse');
    assert.equal(negotiateEventFormat('*/*'), 'sse');
    assert.equal(negotiateEventFormat('Application/X-NDJSON'), 'ndjson');
    assert.equal(negotiateEventFormat('text/event-stream, application/x-ndjson;q=0'), 'sse');
    assert.equal(negotiateEventFormat('application/x-ndjson; q=0.1'), 'ndjson');
  });

  it('refuses nonsensical options before answering', () => {
    const bus = createEventBus({ retain: 10 });
    const signal = new AbortController().signal;
    const req = { accept: undefined, lastEventId: undefined, types: undefined, signal };
    for (const options of [
      { keepAliveMs: 0, maxQueued: 10 },
      { keepAliveMs: 2 ** 31, maxQueued: 10 },
      { keepAliveMs: 1000, maxQueued: 0.5 },
    ]) {
      assert.throws(
        () => eventStreamResponse(bus, req, options),
        (err) => isVigoError(err) && err.code === 'config.invalid',
      );
    }
    assert.throws(
      () => eventStreamResponse(bus, { ...req, types: [] }, { keepAliveMs: 1000, maxQueued: 10 }),
      (err) => isVigoError(err) && err.code === 'request.invalid',
    );
    assert.equal(bus.stats().subscribers, 0);
  });
});

describe('event stream: keep-alives and ending', () => {
  it('sends an SSE comment every keepAliveMs while idle', async () => {
    const bus = createEventBus({ retain: 10 });
    const abort = new AbortController();
    const response = eventStreamResponse(
      bus,
      { accept: undefined, lastEventId: undefined, types: undefined, signal: abort.signal },
      { keepAliveMs: 10, maxQueued: 10 },
    );
    const body = new BodyText(response);
    await body.until('two keep-alives', (t) => t.split(': keep-alive\n\n').length > 2);
    assert.ok(body.text.startsWith('retry: 3000\n\n: keep-alive\n\n'));
    abort.abort();
    await body.end();
  });

  it('sends blank lines as ndjson keep-alives', async () => {
    const bus = createEventBus({ retain: 10 });
    const abort = new AbortController();
    const response = eventStreamResponse(
      bus,
      { accept: 'application/x-ndjson', lastEventId: undefined, types: undefined, signal: abort.signal },
      { keepAliveMs: 10, maxQueued: 10 },
    );
    const body = new BodyText(response);
    await body.until('two blank lines', (t) => t.length >= 2);
    assert.match(body.text, /^\n+$/);
    abort.abort();
    await body.end();
  });

  it('stops on abort, releasing the subscriber and the keep-alive timer', async () => {
    const bus = createEventBus({ retain: 10 });
    const timersBefore = activeTimers();
    const { response, abort } = request(bus);
    const body = new BodyText(response);
    await body.until('the preamble', (t) => t.length > 0);
    assert.equal(bus.stats().subscribers, 1);
    assert.equal(activeTimers(), timersBefore + 1);
    abort.abort();
    await body.end();
    assert.equal(bus.stats().subscribers, 0);
    assert.equal(activeTimers(), timersBefore);
  });

  it('releases everything when the reader cancels', async () => {
    const bus = createEventBus({ retain: 10 });
    const timersBefore = activeTimers();
    const { response } = request(bus);
    const body = new BodyText(response);
    await body.until('the preamble', (t) => t.length > 0);
    await body.cancel();
    assert.equal(bus.stats().subscribers, 0);
    assert.equal(activeTimers(), timersBefore);
  });

  it('ends the stream of a client that stopped reading once it overflows', async () => {
    const bus = createEventBus({ retain: 100 });
    const abort = new AbortController();
    const response = eventStreamResponse(
      bus,
      { accept: 'application/x-ndjson', lastEventId: undefined, types: undefined, signal: abort.signal },
      { keepAliveMs: 60_000, maxQueued: 2 },
    );
    const body = new BodyText(response);
    const first = bus.publish('run.reported', { n: 0 });
    await body.until('the first event', (t) => t.endsWith('\n'));
    // The client stops reading: at most one more frame waits in the stream, the rest stays in the ring.
    const later = [1, 2, 3, 4, 5, 6].map((n) => bus.publish('run.reported', { n }));
    assert.equal(bus.stats().subscribers, 0, 'overflowed while nobody read');
    const lines = (await body.end()).split('\n').filter((line) => line !== '');
    assert.ok(lines.length <= 2, body.text);
    assert.deepEqual(
      lines,
      [first, ...later].slice(0, lines.length).map((event) => eventJson(event)),
    );
  });

  it('ends when the bus shuts down, and is empty when the client left before it started', async () => {
    const bus = createEventBus({ retain: 10 });
    const { response } = request(bus);
    const body = new BodyText(response);
    await body.until('the preamble', (t) => t.length > 0);
    bus.close();
    assert.equal(await body.end(), 'retry: 3000\n\n');

    const open = createEventBus({ retain: 10 });
    const gone = new AbortController();
    gone.abort();
    const late = eventStreamResponse(
      open,
      { accept: undefined, lastEventId: undefined, types: undefined, signal: gone.signal },
      { keepAliveMs: 1000, maxQueued: 10 },
    );
    assert.equal(await new BodyText(late).end(), '');
    assert.equal(open.stats().subscribers, 0);
  });
});
