/**
 * The Pebble service API — HTTP/1.1 with JSON over a unix socket — which pebble and vigil both speak:
 * GET /v1/services?names=…, POST /v1/services {action, services} (answered with an async change that
 * GET /v1/changes/{id}/wait completes), POST /v1/signals for reload, POST /v1/layers for the startup flag.
 */
import { request } from 'node:http';
import type { ServiceProvider, ServiceProviderName, ServiceStatus } from './types.ts';

export interface PebbleApiOptions {
  readonly name: ServiceProviderName;
  readonly socketPath: string;
  readonly signal?: AbortSignal;
  /** How long a start/stop/restart change may take (default 60 s). */
  readonly changeTimeoutSeconds?: number;
}

interface ApiReply {
  readonly type: string;
  readonly statusCode: number;
  readonly result: unknown;
  readonly change?: string;
}

const maxReplyBytes = 1024 * 1024;
// The change wait itself may take changeTimeoutSeconds; every other call should answer at once.
const requestSlackMs = 15_000;

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

function callApi(o: PebbleApiOptions, method: string, path: string, body?: unknown): Promise<ApiReply> {
  const where = `${o.name} API at ${o.socketPath}`;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const timeoutMs = (o.changeTimeoutSeconds ?? 60) * 1000 + requestSlackMs;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: o.socketPath,
        path,
        method,
        signal: o.signal,
        timeout: timeoutMs,
        headers: {
          Host: 'localhost',
          Accept: 'application/json',
          ...(payload !== undefined
            ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxReplyBytes) req.destroy(new Error(`reply larger than ${maxReplyBytes} bytes`));
          else chunks.push(c);
        });
        res.on('error', (err) => reject(new Error(`${where}: ${err.message}`)));
        res.on('end', () => {
          try {
            const json: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            const change = field(json, 'change');
            resolve({
              type: String(field(json, 'type')),
              statusCode: Number(field(json, 'status-code') ?? res.statusCode),
              result: field(json, 'result'),
              change: typeof change === 'string' ? change : undefined,
            });
          } catch {
            reject(
              new Error(`${where}: ${method} ${path} answered HTTP ${res.statusCode ?? '?'} without JSON`),
            );
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`${where}: ${err.message}`)));
    req.end(payload);
  });
}

async function callOk(o: PebbleApiOptions, method: string, path: string, body?: unknown): Promise<ApiReply> {
  const reply = await callApi(o, method, path, body);
  if (reply.type === 'error' || reply.statusCode >= 400) {
    const msg = field(reply.result, 'message');
    throw new Error(
      `${o.name}: ${method} ${path} failed (HTTP ${reply.statusCode}): ${typeof msg === 'string' ? msg : 'no message'}`,
    );
  }
  return reply;
}

async function runChange(o: PebbleApiOptions, action: string, service: string): Promise<void> {
  const reply = await callOk(o, 'POST', '/v1/services', { action, services: [service] });
  if (reply.change === undefined) throw new Error(`${o.name}: ${action} ${service} returned no change id`);
  const seconds = o.changeTimeoutSeconds ?? 60;
  const waited = await callOk(
    o,
    'GET',
    `/v1/changes/${encodeURIComponent(reply.change)}/wait?timeout=${seconds}s`,
  );
  const err = field(waited.result, 'err');
  if (typeof err === 'string' && err !== '')
    throw new Error(`${o.name}: ${action} ${service} failed: ${err}`);
  if (field(waited.result, 'ready') !== true) {
    throw new Error(
      `${o.name}: ${action} ${service} did not finish within ${seconds}s (change ${reply.change})`,
    );
  }
}

export function createPebbleApiProvider(o: PebbleApiOptions): ServiceProvider {
  return {
    name: o.name,
    async status(service): Promise<ServiceStatus | undefined> {
      const reply = await callApi(o, 'GET', `/v1/services?names=${encodeURIComponent(service)}`);
      if (reply.statusCode === 404) return undefined;
      if (reply.type === 'error' || reply.statusCode >= 400 || !Array.isArray(reply.result)) {
        const msg = field(reply.result, 'message');
        throw new Error(
          `${o.name}: cannot read service ${service} (HTTP ${reply.statusCode}): ${typeof msg === 'string' ? msg : 'unexpected reply'}`,
        );
      }
      const info: unknown = reply.result.find((s) => field(s, 'name') === service);
      if (info === undefined) return undefined;
      const startup = field(info, 'startup');
      return {
        running: field(info, 'current') === 'active',
        enabled: startup === 'enabled' ? true : startup === 'disabled' ? false : undefined,
      };
    },
    async start(service) {
      // A service in backoff is wanted up but crashing: a plain start is refused, a restart is not.
      const info = await callOk(o, 'GET', `/v1/services?names=${encodeURIComponent(service)}`);
      const current = Array.isArray(info.result) ? field(info.result[0], 'current') : undefined;
      await runChange(o, current === 'backoff' ? 'restart' : 'start', service);
    },
    stop: (s) => runChange(o, 'stop', s),
    restart: (s) => runChange(o, 'restart', s),
    async reload(service) {
      await callOk(o, 'POST', '/v1/signals', { signal: 'SIGHUP', services: [service] });
    },
    async setEnabled(service, enabled) {
      const layer = `services:\n  ${JSON.stringify(service)}:\n    override: merge\n    startup: ${enabled ? 'enabled' : 'disabled'}\n`;
      await callOk(o, 'POST', '/v1/layers', {
        action: 'add',
        combine: true,
        label: 'vigo',
        format: 'yaml',
        layer,
      });
    },
  };
}
