/**
 * The event sinks as the server wires them — real SQLite store, real vault, real event bus, real
 * Prometheus registry — without the listeners, for tests that drive sinks against loopback receivers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../../server/core/index.ts';
import type { Logger } from '../../server/core/index.ts';
import { createEventBus } from '../../server/events/index.ts';
import type { EventBus } from '../../server/events/index.ts';
import { createIntegrations, parseIntegrationTargets } from '../../server/integrations/index.ts';
import type { Integrations } from '../../server/integrations/index.ts';
import { createIntegrationMetrics } from '../../server/metrics/index.ts';
import { loadOrCreatePki } from '../../server/pki/index.ts';
import { openVault } from '../../server/secrets/index.ts';
import type { Vault } from '../../server/secrets/index.ts';
import { openStore } from '../../server/store/index.ts';
import type { Store } from '../../server/store/index.ts';

export interface SinkHarness {
  readonly dir: string;
  readonly store: Store;
  readonly vault: Vault;
  readonly bus: EventBus;
  readonly registry: Registry;
  readonly log: Logger;
  integrations: Integrations;
  /** Stops the running sinks and starts them again on the same database (a server restart). */
  restart(raw?: unknown[]): Promise<void>;
  /** Delivery rows of a target, oldest first. */
  rows(target: string): { state: string; attempts: number; last_error: string | null; event_type: string }[];
  metric(pattern: RegExp): Promise<number>;
}

export interface TestTls {
  readonly key: string;
  readonly cert: string;
  /** CA certificate file that verifies `cert` (for 127.0.0.1 and localhost). */
  readonly caFile: string;
}

export function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-sinks-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A CA and a server certificate for 127.0.0.1, made by the server's own PKI code. */
export async function testTls(t: TestContext): Promise<TestTls> {
  const dir = tempDir(t);
  const pki = await loadOrCreatePki({
    tlsDir: path.join(dir, 'tls'),
    hostname: 'localhost',
    extraSans: ['127.0.0.1'],
    log: createLogger({ level: 'error' }),
  });
  return { key: pki.serverKeyPem, cert: pki.serverCertPem, caFile: pki.caFile };
}

export async function startSinks(
  t: TestContext,
  raw: unknown[],
  secrets: Record<string, string> = {},
): Promise<SinkHarness> {
  const dir = tempDir(t);
  const logs: string[] = [];
  const log = createLogger({ level: 'warn', sink: { write: (line) => logs.push(line) } });
  const store = openStore({ file: path.join(dir, 'vigo.db'), log, busyTimeoutMs: 1000 });
  const vault = openVault({ dir: path.join(dir, 'secrets'), log });
  for (const [p, value] of Object.entries(secrets)) vault.set(p, value);
  const bus = createEventBus({ retain: 1000 });
  let registry = new Registry();
  const build = (targetsRaw: unknown[]): Integrations => {
    const parsed = parseIntegrationTargets(targetsRaw, dir);
    if (parsed.problems.length > 0) throw new Error(parsed.problems.join('\n'));
    registry = new Registry();
    const names = parsed.targets.map((target) => target.name);
    const sinks = createIntegrations({
      targets: parsed.targets,
      store,
      bus,
      vault,
      log,
      serverHostname: 'vigo-test',
      metrics: (depth) => createIntegrationMetrics(registry, names, depth),
      testWaitMs: 10_000,
    });
    sinks.start();
    return sinks;
  };
  const harness: SinkHarness = {
    dir,
    store,
    vault,
    bus,
    get registry() {
      return registry;
    },
    log,
    integrations: build(raw),
    async restart(next = raw) {
      await harness.integrations.stop();
      harness.integrations = build(next);
    },
    rows: (target) =>
      store.db
        .prepare(
          'SELECT state, attempts, last_error, event_type FROM integration_deliveries WHERE target = ? ORDER BY id',
        )
        .all(target) as ReturnType<SinkHarness['rows']>,
    async metric(pattern) {
      const text = await registry.metrics();
      for (const line of text.split('\n')) {
        const match = pattern.exec(line);
        if (match !== null) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return 0;
    },
  };
  t.after(async () => {
    await harness.integrations.stop();
    bus.close();
    store.close();
    if (logs.length > 0) t.diagnostic(logs.join('\n'));
  });
  return harness;
}
