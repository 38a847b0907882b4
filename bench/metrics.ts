/**
 * /metrics scrape cost with a large fleet: builds a FleetIndex of N envoys in-process (a mix of active,
 * stale, never-seen and revoked, each with a latest run), registers the server's metric families on one
 * registry (process and Node.js defaults, check-in, connections, publish, HTTP with a busy route table,
 * server gauges, the fleet census), then times a census walk and `register.metrics()`. The target is a
 * scrape of at most 50 ms at 100,000 envoys. Prints figures; asserts nothing.
 *   node --import tsx bench/metrics.ts [N]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createCheckinMetrics } from '../server/checkin/index.ts';
import { EnvoyEntry, FleetIndex } from '../server/fleet/index.ts';
import {
  createFleetCensus,
  createHttpMetrics,
  createPublishMetrics,
  registerServerGauges,
} from '../server/metrics/index.ts';
import { createConnectionMetrics } from '../server/net/index.ts';
import { initialConvergence } from '../server/convergence/index.ts';

const count = Number(process.argv[2] ?? 100_000);
const scrapes = 50;
const activeVersion = 3;
const now = Date.now();

const fleet = new FleetIndex();
const key = Buffer.alloc(32, 9);
for (let i = 0; i < count; i++) {
  const id = randomUUID();
  const revoked = i % 100 === 0;
  const neverSeen = i % 50 === 1;
  const entry = new EnvoyEntry({
    id,
    hostname: `host-${i}.dc1.example.com`,
    public_key: key,
    cert_fingerprint: 'ab'.repeat(32),
    status: revoked ? 'revoked' : 'active',
    enrolled_at: now - 86_400_000,
    last_seen_at: neverSeen ? null : now - ((i * 7919) % 7_200_000),
    last_ts_ms: now,
    policy_version: activeVersion,
    state_fingerprint: null,
    traits_hash: null,
    interval_ms: 300_000,
    force_push: 0,
    agent_version: '0.1.0',
  });
  entry.stale = !neverSeen && i % 20 === 2;
  fleet.put(entry);
  if (!neverSeen)
    entry.convergence = { ...initialConvergence, status: i % 10 === 3 ? 'failed' : 'converged' };
}

const dir = mkdtempSync(join(tmpdir(), 'vigo-bench-metrics-'));
try {
  const databaseFile = join(dir, 'vigo.db');
  writeFileSync(databaseFile, Buffer.alloc(4096));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const checkin = createCheckinMetrics(registry);
  createConnectionMetrics(registry);
  const publish = createPublishMetrics(registry);
  publish.activated(activeVersion, now);
  // A route table the size of the server's, every route hit with a few statuses.
  const routes = Array.from({ length: 120 }, (_, i) => ({
    method: i % 3 === 0 ? 'POST' : 'GET',
    path: `/api/v1/resource-${i}/{id}`,
  }));
  const http = createHttpMetrics(registry, routes);
  for (const r of routes) for (const status of [200, 404, 500]) http.observe(r.path, r.method, status, 0.004);
  for (let i = 0; i < 10_000; i++) {
    checkin.checkins.inc({ status: i % 4 === 0 ? 'bundle' : 'no_change' });
    checkin.checkinDuration.observe((i % 100) / 10_000);
  }
  registerServerGauges(registry, {
    version: '0.0.0-bench',
    databaseFile,
    resultsQueued: () => 0,
    resultsCapacity: 50_000,
    flushPending: () => fleet.pendingCount(),
    lastFlushAtMs: () => now,
  });
  const census = createFleetCensus({
    registry,
    envoys: () => fleet.values(),
    convergence: () => (entry) => entry.convergence.status === 'converged',
    intervalMs: 5_000,
  });

  const censusRuns: number[] = [];
  for (let i = 0; i < 10; i++) censusRuns.push(census.take().durationMs);
  // The server's timer walks in slices: how long it holds the event loop at most.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const before = census.last;
  loop.enable();
  const walkStarted = performance.now();
  census.start();
  while (census.last === before) await new Promise((resolve) => setImmediate(resolve));
  const walkWallMs = performance.now() - walkStarted;
  loop.disable();
  census.stop();
  const timerWalk = census.last!;
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < scrapes; i++) {
    const startedAt = performance.now();
    bytes = (await registry.metrics()).length;
    times.push(performance.now() - startedAt);
  }
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const at = (xs: number[], q: number): number =>
    sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  const ms = (x: number): string => `${x.toFixed(2)} ms`;
  const last = census.last!;
  console.log(
    `fleet: ${fleet.size} envoys (${JSON.stringify(last.byState)}, convergence ${last.convergence.toFixed(3)})`,
  );
  console.log(
    `census walk in one go: median ${ms(at(censusRuns, 0.5))}, max ${ms(at(censusRuns, 1))}; the server's walk every 5 s goes in slices: ${ms(timerWalk.durationMs)} busy over ${ms(walkWallMs)}, longest event-loop delay meanwhile ${ms(loop.max / 1e6)}`,
  );
  console.log(
    `scrape register.metrics(): median ${ms(at(times, 0.5))}, p95 ${ms(at(times, 0.95))}, max ${ms(at(times, 1))} over ${scrapes} scrapes (target <= 50 ms)`,
  );
  console.log(`exposition size: ${Math.round(bytes / 1024)} KiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
