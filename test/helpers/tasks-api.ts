/** REST helpers for task tests: start a run, read it until it is over, follow the event stream. */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { waitFor } from './deadline.ts';
import type { HttpsResponse } from './https-client.ts';
import type { ReadyServer } from './server-process.ts';

export interface TargetView {
  taskId: string;
  envoyId: string;
  hostname: string;
  batch: number;
  state: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  sentAt: string | null;
  message: string;
}

export interface RunView {
  id: string;
  status: string;
  message: string;
  batches: number;
  currentBatch: number;
  targets: number;
  counts: Record<string, number>;
  items: TargetView[];
}

export class TasksApi {
  constructor(
    public server: ReadyServer,
    private readonly token: string,
  ) {}

  call(method: string, path: string, body?: unknown, token = this.token): Promise<HttpsResponse> {
    return this.server.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async start(body: Record<string, unknown>): Promise<string> {
    const reply = await this.call('POST', '/api/v1/tasks', body);
    assert.equal(reply.status, 201, reply.body);
    return reply.json<{ id: string }>().id;
  }

  async get(id: string): Promise<RunView> {
    const reply = await this.call('GET', `/api/v1/tasks/${id}`);
    assert.equal(reply.status, 200, reply.body);
    return reply.json<RunView>();
  }

  /** Polls the run until `done` holds, and returns it. */
  until(id: string, what: string, done: (run: RunView) => boolean, timeoutMs = 20_000): Promise<RunView> {
    return waitFor(
      what,
      async () => {
        const run = await this.get(id);
        return done(run) ? run : undefined;
      },
      timeoutMs,
    );
  }

  finished(id: string, timeoutMs?: number): Promise<RunView> {
    return this.until(id, `task run ${id} to finish`, (run) => run.status !== 'running', timeoutMs);
  }
}

export interface StreamedEvent {
  type: string;
  subject?: string;
  data: Record<string, unknown>;
}

/** Follows /api/v1/events as ndjson; `close` ends the request. */
export function followEvents(
  server: ReadyServer,
  token: string,
  types: string,
): { events: StreamedEvent[]; ready: Promise<void>; close(): void } {
  const events: StreamedEvent[] = [];
  let buffered = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const req = request(
    `${server.apiUrl}/api/v1/events?types=${encodeURIComponent(types)}`,
    {
      ca: server.ca,
      headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
      agent: false,
    },
    (res) => {
      markReady();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') events.push(JSON.parse(line) as StreamedEvent);
      });
      res.on('error', () => undefined);
    },
  );
  req.on('error', () => undefined);
  req.end();
  return { events, ready, close: () => req.destroy() };
}
