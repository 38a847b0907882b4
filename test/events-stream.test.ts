/**
 * Live events over a real HTTP listener (@hono/node-server, loopback, ephemeral port) read by a real
 * client: SSE frames arrive as published, a disconnect frees the subscriber, and reconnecting with
 * Last-Event-ID delivers exactly the events missed in between — or a gap after a server restart.
 */
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ClientRequest, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEventBus, eventStreamResponse, parseEventTypes } from '../server/events/index.ts';
import type { EventBus, VigoEvent } from '../server/events/index.ts';
import { waitFor } from './helpers/deadline.ts';

interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
}

/** A minimal EventSource: parses frames as they arrive and remembers the last id, as a browser does. */
class SseClient {
  readonly frames: SseFrame[] = [];
  comments = 0;
  lastEventId: string | undefined;
  status = 0;
  contentType = '';
  #buffer = '';
  readonly #request: ClientRequest;
  #response: IncomingMessage | undefined;

  constructor(port: number, path: string, headers: Record<string, string>) {
    this.#request = request({ host: '127.0.0.1', port, path, headers, agent: false }, (response) => {
      this.#response = response;
      this.status = response.statusCode ?? 0;
      this.contentType = String(response.headers['content-type']);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => this.#receive(chunk));
    });
    this.#request.on('error', () => {});
    this.#request.end();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    for (let end = this.#buffer.indexOf('\n\n'); end >= 0; end = this.#buffer.indexOf('\n\n')) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const frame: SseFrame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments += 1;
        else if (line.startsWith('id: ')) frame.id = line.slice(4);
        else if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) frame.data = line.slice(6);
      }
      if (frame.event === undefined) continue;
      this.frames.push(frame);
      if (frame.id !== undefined) this.lastEventId = frame.id;
    }
  }

  events(): VigoEvent[] {
    return this.frames.map((frame) => JSON.parse(frame.data ?? '') as VigoEvent);
  }

  async waitForFrames(count: number): Promise<void> {
    await waitFor(`${count} SSE frames`, () => (this.frames.length >= count ? true : undefined), 1500, 5);
  }

  disconnect(): void {
    this.#response?.destroy();
    this.#request.destroy();
  }
}

let bus: EventBus;
let server: Server;
let port: number;

before(async () => {
  bus = createEventBus({ retain: 1000 });
  const app = new Hono();
  // The shape the lead's route takes: header and query in, the bus's Response out.
  app.get('/api/v1/events', (c) =>
    eventStreamResponse(
      bus,
      {
        accept: c.req.header('accept'),
        lastEventId: c.req.header('last-event-id'),
        types: parseEventTypes(c.req.query('types')),
        signal: c.req.raw.signal,
      },
      { keepAliveMs: 50, maxQueued: 100 },
    ),
  );
  server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  bus.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function publishRun(n: number): VigoEvent {
  return bus.publish('run.reported', { n }, `envoy-${n}`);
}

describe('GET /api/v1/events over HTTP', () => {
  it('streams, frees a disconnected client, and resumes from Last-Event-ID with only the missed events', async () => {
    const first = new SseClient(port, '/api/v1/events', { accept: 'text/event-stream' });
    await waitFor('the response head', () => (first.status !== 0 ? true : undefined), 1500, 5);
    assert.equal(bus.stats().subscribers, 1);
    assert.equal(first.status, 200);
    assert.equal(first.contentType, 'text/event-stream; charset=utf-8');
    const seen = [publishRun(1), publishRun(2)];
    await first.waitForFrames(2);
    assert.deepEqual(first.events(), seen);
    await waitFor('a keep-alive', () => (first.comments > 0 ? true : undefined), 1500, 5);

    first.disconnect();
    await waitFor('the subscriber to go', () => (bus.stats().subscribers === 0 ? true : undefined), 1500, 5);
    const missed = [publishRun(3), publishRun(4), bus.publish('config.published', { version: 2 })];

    const second = new SseClient(port, '/api/v1/events', { 'last-event-id': first.lastEventId ?? '' });
    await second.waitForFrames(3);
    const live = publishRun(5);
    await second.waitForFrames(4);
    assert.deepEqual(second.events(), [...missed, live]);
    second.disconnect();
  });

  it('filters by ?types= and answers an id from before a restart with a gap', async () => {
    const oldId = publishRun(6).id;
    bus.close();
    bus = createEventBus({ retain: 1000 });
    const published = bus.publish('config.published', { version: 3 });
    bus.publish('run.reported', { n: 7 });

    const client = new SseClient(port, '/api/v1/events?types=config.*', { 'last-event-id': oldId });
    await client.waitForFrames(2);
    const [gap, replayed] = client.events();
    assert.equal(gap?.type, 'stream.gap');
    assert.equal(gap?.data['reason'], 'other-boot');
    assert.deepEqual(replayed, published);
    const frozen = bus.publish('config.frozen', {});
    publishRun(8);
    await client.waitForFrames(3);
    assert.deepEqual(client.events()[2], frozen);
    assert.equal(client.frames.length, 3, 'run.reported filtered out');
    client.disconnect();
    await waitFor('the subscriber to go', () => (bus.stats().subscribers === 0 ? true : undefined), 1500, 5);
  });

  it('serves ndjson to fetch', async () => {
    const abort = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/events`, {
      headers: { accept: 'application/x-ndjson' },
      signal: abort.signal,
    });
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    await waitFor('subscriber', () => (bus.stats().subscribers === 1 ? true : undefined), 1500, 5);
    const event = bus.publish('user.created', { username: 'ada' }, 'u-1');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('}\n')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += chunk.value;
    }
    const lines = text.split('\n').filter((line) => line !== '');
    assert.deepEqual(JSON.parse(lines[0] ?? ''), event);
    abort.abort();
    await reader.cancel().catch(() => {});
    await waitFor('the subscriber to go', () => (bus.stats().subscribers === 0 ? true : undefined), 1500, 5);
  });
});
