import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../system/run-command.ts';
import { createServiceExecutor } from '../service.ts';
import type { ExecutorContext } from '../types.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function makeCtx(dryRun = false): ExecutorContext {
  return {
    dryRun,
    run: runCommand,
    snapshotFile: async () => {},
    customExecutorDir: '/nonexistent',
    signal: new AbortController().signal,
  };
}

// Nothing else to detect: no systemd, no s6 scan dir, no sysg.
const elsewhere = {
  systemdRunDir: join(dir, 'no-systemd'),
  s6ScanDirs: [join(dir, 'no-s6')],
  pathEnv: join(dir, 'no-bin'),
};

interface FakeService {
  current: 'active' | 'inactive' | 'backoff';
  startup: 'enabled' | 'disabled';
}

/** Stands in for the pebble (or vigil) daemon: its HTTP API on a unix socket, over an in-memory plan. */
class FakePebble {
  readonly services = new Map<string, FakeService>();
  readonly requests: string[] = [];
  readonly signals: string[] = [];
  failAction?: string;
  private readonly changes = new Map<string, string>();
  private server?: Server;

  async listen(socketPath: string): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(socketPath, resolve));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private reply(res: ServerResponse, code: number, body: Record<string, unknown>): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ 'status-code': code, ...body }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.requests.push(`${req.method} ${url.pathname}${text ? ` ${text}` : ''}`);
    if (req.method === 'GET' && url.pathname === '/v1/services') {
      const names = (url.searchParams.get('names') ?? '').split(',');
      const result = names.flatMap((n) => {
        const s = this.services.get(n);
        return s ? [{ name: n, startup: s.startup, current: s.current }] : [];
      });
      return this.reply(res, 200, { type: 'sync', status: 'OK', result });
    }
    if (req.method === 'POST' && url.pathname === '/v1/services') {
      const action = String(body.action);
      const id = String(this.changes.size + 1);
      let err = '';
      for (const name of body.services as string[]) {
        const s = this.services.get(name);
        if (!s)
          return this.reply(res, 400, {
            type: 'error',
            result: { message: `service "${name}" does not exist` },
          });
        if (action === this.failAction) err = `cannot ${action} service: exited quickly with code 1`;
        else s.current = action === 'stop' ? 'inactive' : 'active';
      }
      this.changes.set(id, err);
      return this.reply(res, 202, { type: 'async', status: 'Accepted', change: id, result: null });
    }
    const wait = /^\/v1\/changes\/(\d+)\/wait$/.exec(url.pathname);
    if (req.method === 'GET' && wait) {
      const err = this.changes.get(wait[1] ?? '') ?? '';
      return this.reply(res, 200, {
        type: 'sync',
        result: { id: wait[1], ready: true, status: err ? 'Error' : 'Done', ...(err ? { err } : {}) },
      });
    }
    if (req.method === 'POST' && url.pathname === '/v1/signals') {
      this.signals.push(`${String(body.signal)} ${(body.services as string[]).join(',')}`);
      return this.reply(res, 200, { type: 'sync', result: true });
    }
    if (req.method === 'POST' && url.pathname === '/v1/layers') {
      const layer = String(body.layer);
      const m = /^ {2}"([^"]+)":\n {4}override: merge\n {4}startup: (enabled|disabled)\n$/m.exec(
        layer.replace(/^services:\n/, ''),
      );
      const s = m ? this.services.get(m[1] ?? '') : undefined;
      if (!m || !s || body.combine !== true)
        return this.reply(res, 400, { type: 'error', result: { message: 'bad layer' } });
      s.startup = m[2] as FakeService['startup'];
      return this.reply(res, 200, { type: 'sync', result: true });
    }
    return this.reply(res, 404, { type: 'error', result: { message: 'not found' } });
  }
}

describe('pebble API provider (a real unix-socket HTTP server stands in for the pebble and vigil daemons)', () => {
  const pebble = new FakePebble();
  const vigil = new FakePebble();
  const options = {
    ...elsewhere,
    pebbleSocketPath: join(dir, 'pebble.socket'),
    vigilSocketPath: join(dir, 'vigil.socket'),
  };
  const executor = createServiceExecutor(options);
  before(async () => {
    await pebble.listen(options.pebbleSocketPath);
    await vigil.listen(options.vigilSocketPath);
  });
  after(async () => {
    await pebble.close();
    await vigil.close();
  });

  it('starts and enables a stopped service (detected as pebble), then finds nothing to do', async () => {
    pebble.services.set('web', { current: 'inactive', startup: 'disabled' });
    const params = { service: 'web', state: 'running', enabled: true };
    const dry = await executor.apply(params, makeCtx(true));
    assert.deepEqual(dry, {
      outcome: 'updated',
      message: 'would enable web at boot, then start web (pebble)',
    });
    assert.deepEqual(pebble.services.get('web'), { current: 'inactive', startup: 'disabled' });
    const r = await executor.apply(params, makeCtx());
    assert.deepEqual(r, { outcome: 'updated', message: 'web enabled at boot, started (pebble)' });
    assert.deepEqual(pebble.services.get('web'), { current: 'active', startup: 'enabled' });
    assert.ok(pebble.requests.includes('POST /v1/services {"action":"start","services":["web"]}'));
    assert.ok(pebble.requests.some((q) => q.startsWith('POST /v1/layers') && q.includes('"label":"vigo"')));
    const again = await executor.apply(params, makeCtx());
    assert.deepEqual(again, { outcome: 'none', message: 'web running, enabled at boot (pebble)' });
  });

  it('stops, restarts (every apply: it is an action) and reloads with SIGHUP', async () => {
    pebble.services.set('api', { current: 'active', startup: 'enabled' });
    const stop = await executor.apply({ service: 'api', state: 'stopped', provider: 'pebble' }, makeCtx());
    assert.equal(stop.outcome, 'updated', stop.message);
    assert.equal(pebble.services.get('api')?.current, 'inactive');
    const fromStopped = await executor.apply({ service: 'api', state: 'restarted' }, makeCtx());
    assert.equal(fromStopped.message, 'api started (pebble)');
    const restart = await executor.apply({ service: 'api', state: 'restarted' }, makeCtx());
    assert.equal(restart.message, 'api restarted (pebble)');
    assert.ok(pebble.requests.includes('POST /v1/services {"action":"restart","services":["api"]}'));
    const reload = await executor.apply({ service: 'api', state: 'reloaded' }, makeCtx());
    assert.equal(reload.message, 'api reloaded (pebble)');
    assert.deepEqual(pebble.signals, ['SIGHUP api']);
  });

  it('restarts a service in backoff instead of a plain start', async () => {
    pebble.services.set('flaky', { current: 'backoff', startup: 'enabled' });
    const r = await executor.apply({ service: 'flaky', state: 'running' }, makeCtx());
    assert.equal(r.outcome, 'updated', r.message);
    assert.ok(pebble.requests.includes('POST /v1/services {"action":"restart","services":["flaky"]}'));
  });

  it('fails on an unknown service and with the change error when an action fails', async () => {
    const unknown = await executor.apply({ service: 'nope', state: 'running' }, makeCtx());
    assert.deepEqual(unknown, { outcome: 'failed', message: 'service nope is not known to pebble' });
    pebble.services.set('bad', { current: 'inactive', startup: 'enabled' });
    pebble.failAction = 'start';
    const r = await executor.apply({ service: 'bad', state: 'running' }, makeCtx());
    pebble.failAction = undefined;
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /pebble: start bad failed: cannot start service: exited quickly with code 1/);
  });

  it('speaks the same API to vigil on its own socket', async () => {
    vigil.services.set('worker', { current: 'inactive', startup: 'enabled' });
    const r = await executor.apply({ service: 'worker', state: 'running', provider: 'vigil' }, makeCtx());
    assert.deepEqual(r, { outcome: 'updated', message: 'worker started (vigil)' });
    assert.equal(vigil.services.get('worker')?.current, 'active');
    assert.equal(pebble.services.has('worker'), false);
  });

  it('fails clearly when the daemon socket is not there', async () => {
    const lonely = createServiceExecutor({ ...elsewhere, pebbleSocketPath: join(dir, 'gone.socket') });
    const r = await lonely.apply({ service: 'web', state: 'running', provider: 'pebble' }, makeCtx());
    assert.equal(r.outcome, 'failed');
    assert.match(r.message, /pebble API at .*gone\.socket: .*ENOENT/);
  });
});
