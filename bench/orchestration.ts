/**
 * Orchestration benchmark: the real vigosrv with N seeded envoys, each held by a simulated agent over its
 * own mTLS connection and AgentStream (bench/orchestration/agents.ts answers like the reference agent,
 * without running anything, so the figures are the server's). Then, through the REST API as an operator:
 *
 *   - one ad-hoc task to every envoy in rolling batches (10% by default): time until every target was
 *     dispatched, time until every result was stored and the run finished, server CPU and RSS;
 *   - one live query over every envoy: time to the aggregated answer.
 *
 * Figures, not tests: never part of npm test.
 *
 *   npm run bench:orchestration -- [--envoys 10000] [--batch-size 10%] [--processes 2] [--quick]
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTempDir, startServer } from '../test/helpers/server-process.ts';
import type { ReadyServer } from '../test/helpers/server-process.ts';
import { machineBusyUs, processCpuUs, processRssBytes } from './checkin/proc-stats.ts';
import { issueLoadgenIdentity, openBenchPki, seedEnvoys } from './checkin/seed.ts';
import type { AgentStats, AgentsInit, FromAgents, ToAgents } from './orchestration/protocol.ts';

const usage =
  'usage: npm run bench:orchestration -- [--envoys N] [--batch-size N|P%] [--processes P] [--quick]';
const { values } = parseArgs({
  options: {
    envoys: { type: 'string' },
    'batch-size': { type: 'string', default: '10%' },
    processes: { type: 'string', default: '2' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const envoys = Number(values.envoys ?? (values.quick ? '1000' : '10000'));
const processes = Number(values.processes);
const batchSize = values['batch-size'];
if (!Number.isSafeInteger(envoys) || envoys < 2 || !Number.isSafeInteger(processes) || processes < 1) {
  console.error(usage);
  process.exit(2);
}

class AgentsProcess {
  readonly child: ChildProcess;
  readonly #waiting = new Map<string, (message: FromAgents) => void>();

  constructor() {
    this.child = fork(join(import.meta.dirname, 'orchestration', 'agents.ts'), [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: FromAgents) => {
      if (message.type === 'failed') {
        console.error(`simulated agents failed: ${message.message}`);
        process.exit(1);
      }
      this.#waiting.get(message.type)?.(message);
    });
  }

  ask<T extends FromAgents['type']>(message: ToAgents, reply: T): Promise<Extract<FromAgents, { type: T }>> {
    return new Promise((resolve) => {
      this.#waiting.set(reply, (m) => resolve(m as Extract<FromAgents, { type: T }>));
      this.child.send(message);
    });
  }
}

async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** Server CPU, machine CPU and wall time over one measured step. */
function meter(pid: number): () => { ms: number; serverCpuMs: number; otherCores: number } {
  const startMs = performance.now();
  const server = processCpuUs(pid);
  const busy = machineBusyUs();
  return () => {
    const ms = performance.now() - startMs;
    const serverCpuMs = (processCpuUs(pid) - server) / 1000;
    const otherCores = ((machineBusyUs() - busy) / 1000 - serverCpuMs) / ms;
    return { ms, serverCpuMs, otherCores };
  };
}

async function main(): Promise<void> {
  const temp = makeTempDir('vigo-bench-orch-');
  const agents: AgentsProcess[] = [];
  let server: ReadyServer | undefined;
  try {
    let t = performance.now();
    const pki = await openBenchPki(temp.path);
    const identity = await issueLoadgenIdentity(pki, temp.path);
    const seeded = await seedEnvoys({
      dataDir: temp.path,
      envoys,
      outDir: temp.path,
      identity,
      perEnvoyCerts: pki,
    });
    console.log(
      `seeded ${envoys} envoys with their own keys and certificates in ${(performance.now() - t).toFixed(0)} ms`,
    );
    server = await startServer({ dataDir: temp.path, env: { VIGO_CHECKIN_STALE_FACTOR: '100' } });
    const admin = {
      authorization: `Bearer ${readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim()}`,
      'content-type': 'application/json',
    };
    const pid = server.child.pid!;
    const rssIdle = processRssBytes(pid);

    t = performance.now();
    const share = Math.ceil(envoys / processes);
    const ready = await Promise.all(
      Array.from({ length: processes }, (_, i) => {
        const process_ = new AgentsProcess();
        agents.push(process_);
        const init: AgentsInit = {
          keysFile: seeded.envoysFile,
          certsFile: seeded.certs!.certsFile,
          keyFile: seeded.certs!.keyFile,
          caFile: pki.caFile,
          first: i * share,
          count: Math.min(share, envoys - i * share),
          grpcPort: server!.grpcPort,
          concurrency: 64,
        };
        return process_.ask({ type: 'init', init }, 'ready');
      }),
    );
    const open = ready.reduce((n, r) => n + r.open, 0);
    const failed = ready.reduce((n, r) => n + r.failed, 0);
    if (failed > 0)
      console.log(`  ${failed} agents could not connect: ${JSON.stringify(ready.map((r) => r.errors))}`);
    await poll(
      'the server to count every stream open',
      async () => {
        const metrics = await server!.request('/metrics', { headers: admin });
        const count = Number(/^vigo_agent_streams_open (\d+)$/m.exec(metrics.body)?.[1] ?? 0);
        return count >= open ? count : undefined;
      },
      120_000,
    );
    const rssHeld = processRssBytes(pid);
    console.log(
      `${open} simulated agents connected, each on its own mTLS connection with its AgentStream open, in ${(performance.now() - t).toFixed(0)} ms; server RSS ${mb(rssIdle)} before, ${mb(rssHeld)} with them`,
    );

    // A task to every envoy, in rolling batches.
    let m = meter(pid);
    const started = await server.request('/api/v1/tasks', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ command: 'true', targets: ['*'], batchSize, timeout: 60 }),
    });
    if (started.status !== 201 && started.status !== 202 && started.status !== 200)
      throw new Error(`dispatching the task failed: ${started.status} ${started.body.slice(0, 300)}`);
    const runId = started.json<{ id: string }>().id;
    const accepted = m();
    const finished = await poll(
      'the task run to finish',
      async () => {
        const run = await server!.request(`/api/v1/tasks/${runId}?limit=1`, { headers: admin });
        const body = run.json<{ status: string; counts?: Record<string, number> }>();
        return body.status === 'running' ? undefined : body;
      },
      600_000,
    );
    const task = m();
    const rssTask = processRssBytes(pid);
    console.log(`task "true" to ${open} envoys in batches of ${batchSize}:`);
    console.log(
      `  accepted (targets resolved, run stored, first batch sent) in ${accepted.ms.toFixed(0)} ms`,
    );
    console.log(
      `  finished (every result stored) in ${task.ms.toFixed(0)} ms: status ${finished.status} ${JSON.stringify(finished.counts ?? {})}`,
    );
    console.log(
      `  server CPU ${task.serverCpuMs.toFixed(0)} ms (${((task.serverCpuMs * 1000) / open).toFixed(0)} µs per target), RSS ${mb(rssTask)}; other processes used ${task.otherCores.toFixed(2)} cores meanwhile`,
    );

    // A live query over every envoy.
    m = meter(pid);
    const answer = await server.request('/api/v1/queries', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ targets: ['*'], traitPath: 'os.release', deadlineSeconds: 30 }),
    });
    const query = m();
    if (answer.status !== 200)
      throw new Error(`the live query failed: ${answer.status} ${answer.body.slice(0, 300)}`);
    const result = answer.json<{ answered: number; values: { value: unknown; count: number }[] }>();
    console.log(
      `live query os.release over ${open} envoys: aggregated answer in ${query.ms.toFixed(0)} ms (${result.answered} answered: ${result.values.map((v) => `${JSON.stringify(v.value)}×${v.count}`).join(', ')}); server CPU ${query.serverCpuMs.toFixed(0)} ms`,
    );
    const stats: AgentStats[] = await Promise.all(
      agents.map(async (a) => (await a.ask({ type: 'stats' }, 'stats')).stats),
    );
    const ended = stats.flatMap((s) => Object.entries(s.ended));
    if (ended.length > 0) console.log(`  streams the server ended meanwhile: ${JSON.stringify(ended)}`);
  } finally {
    for (const a of agents) a.child.kill('SIGKILL');
    await server?.stop();
    rmSync(temp.path, { recursive: true, force: true });
  }
}

await main();
