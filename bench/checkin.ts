/**
 * The check-in benchmark: the real vigosrv in its own process with N seeded envoys, driven by load
 * generator processes that sign every request with each envoy's own key over a few shared mTLS HTTP/2
 * connections, and compared in the same run with a bare grpc-js mTLS server answering the same bytes
 * (the ceiling). Phases: boot (index rebuild, RSS), every envoy's first check-in since boot (its key gets
 * parsed), cadence (every envoy once per interval, open loop, latency), saturation (closed loop,
 * no-change check-ins/s and server CPU per check-in), echo, results ingest (durable results/s, verified
 * against run_results). Prints a table with targets and one JSON line.
 * Figures, not tests: never part of npm test.
 *
 *   npm run bench:checkin -- [--quick] [--envoys N] [--seconds S] [--loadgens P] … (--help)
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { ReadyServer } from '../test/helpers/server-process.ts';
import { makeTempDir } from '../test/helpers/server-process.ts';
import { killChildren, startEchoServer, startLoadgens } from './checkin/children.ts';
import type { LoadgenProcess } from './checkin/children.ts';
import { parseOptions, usage } from './checkin/options.ts';
import type { BenchOptions } from './checkin/options.ts';
import { bootServer, runPhase } from './checkin/phases.ts';
import type { PhaseFigures } from './checkin/phases.ts';
import { processRssBytes } from './checkin/proc-stats.ts';
import { formatReport, jsonLine } from './checkin/report.ts';
import type { IndexMemory, RunFigures } from './checkin/report.ts';
import { issueLoadgenIdentity, seedEnvoys } from './checkin/seed.ts';

const serverStopBudgetMs = 30_000;
// Open loop: beyond this many calls waiting, the server is not keeping up and more would only queue.
const cadenceMaxInFlight = 10_000;

let server: ReadyServer | undefined;
const temp = makeTempDir('vigo-bench-checkin-');

function say(text: string): void {
  process.stderr.write(`[bench:checkin] ${text}\n`);
}

async function stopServer(): Promise<number | null> {
  const running = server;
  server = undefined;
  if (running === undefined || running.exitCode() !== undefined) return running?.exitCode() ?? null;
  const timer = setTimeout(() => running.child.kill('SIGKILL'), serverStopBudgetMs);
  const code = await running.stop();
  clearTimeout(timer);
  return code;
}

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    killChildren();
    await stopServer().catch(() => undefined);
    temp.remove();
  })();
  return cleaning;
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    say(`${signal}: stopping the children and removing ${temp.path}`);
    void cleanup().finally(() => process.exit(code));
  });
}
// Last resort when the process ends some other way: nothing may keep running or stay on disk.
process.on('exit', () => {
  killChildren();
  server?.child.kill('SIGKILL');
  rmSync(temp.path, { recursive: true, force: true });
});

/** Memory per envoy of the FleetIndex with every key parsed, measured by bench/checkin/index-memory.ts. */
function indexMemory(dbFile: string): IndexMemory {
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'checkin', 'index-memory.ts'), dbFile],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`index-memory.ts failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as IndexMemory;
}

function phaseLine(name: string, figures: PhaseFigures): string {
  return (
    `${name}: ${Math.round(figures.callsPerSecond)} calls/s, ${Math.round(figures.serverCpuUsPerCall)} µs server CPU/call, ` +
    `p99 ${figures.p99Ms.toFixed(1)} ms, ${figures.errorCount} errors`
  );
}

/** vigosrv's own check-in phases: every envoy's first check-in after boot, the cadence, saturation. */
async function driveCheckins(options: BenchOptions, loadgens: LoadgenProcess[], serverPid: number) {
  const { concurrency } = options;
  say(`first check-in of each of the ${options.envoys} envoys since boot, ${concurrency} in flight`);
  const firstCheckins = await runPhase(loadgens, {
    workload: { kind: 'checkins', target: 'vigosrv', concurrency, once: true },
    serverPid,
    warmupSeconds: 0,
    seconds: undefined,
  });
  const rssAllSeenBytes = processRssBytes(serverPid);
  say(phaseLine('first check-ins', firstCheckins));
  say(`cadence: every envoy once per ${options.cadenceIntervalSeconds} s for ${options.cadenceSeconds} s`);
  const cadence = await runPhase(loadgens, {
    workload: {
      kind: 'cadence',
      intervalSeconds: options.cadenceIntervalSeconds,
      maxInFlight: cadenceMaxInFlight,
    },
    serverPid,
    warmupSeconds: 0,
    seconds: options.cadenceSeconds,
  });
  say(phaseLine('cadence', cadence));
  const saturation = await runPhase(loadgens, {
    workload: { kind: 'checkins', target: 'vigosrv', concurrency },
    serverPid,
    warmupSeconds: options.warmupSeconds,
    seconds: options.seconds,
  });
  say(phaseLine('saturation', saturation));
  return { firstCheckins, rssAllSeenBytes, cadence, saturation };
}

/** The echo ceiling with the same load, then results ingest into vigosrv. */
async function driveEchoAndResults(
  options: BenchOptions,
  loadgens: LoadgenProcess[],
  serverPid: number,
  noChangeReply: Uint8Array,
) {
  const closedLoop = { warmupSeconds: options.warmupSeconds, seconds: options.seconds };
  const echoServer = await startEchoServer(join(temp.path, 'data', 'tls'), noChangeReply);
  await Promise.all(
    loadgens.map((l) => l.ask({ type: 'connect', target: 'echo', port: echoServer.port }, 'connected')),
  );
  const echo = await runPhase(loadgens, {
    workload: { kind: 'checkins', target: 'echo', concurrency: options.concurrency },
    serverPid: echoServer.pid,
    ...closedLoop,
  });
  await echoServer.stop();
  say(phaseLine('echo ceiling', echo));
  const results = await runPhase(loadgens, {
    workload: { kind: 'results', concurrency: options.concurrency, resultsPerRun: options.resultsPerRun },
    serverPid,
    ...closedLoop,
  });
  say(`${phaseLine('results', results)}, ${Math.round(results.itemsPerSecond)} results/s`);
  return { echo, echoResponseBytes: echoServer.responseBytes, results };
}

async function run(options: BenchOptions): Promise<RunFigures> {
  const loadAverageAtStart = loadavg();
  const dataDir = join(temp.path, 'data');
  const dbFile = join(dataDir, 'db', 'vigo.db');
  // vigosrv runs with the data directory as its working directory, so it must exist first.
  mkdirSync(dataDir, { mode: 0o700 });
  const bootOptions = {
    dataDir,
    cadenceIntervalSeconds: options.cadenceIntervalSeconds,
    scratchDir: temp.path,
  };

  // The PKI exists before the first boot so that both measured boots do the same work but for the envoys.
  const identity = await issueLoadgenIdentity(dataDir, temp.path);
  say(`data in ${temp.path}; booting vigosrv with no envoys`);
  let booted = await bootServer(bootOptions);
  server = booted.server;
  const emptyBoot = booted.boot;
  if ((await stopServer()) !== 0) throw new Error('vigosrv did not stop cleanly after the empty boot');

  say(`seeding ${options.envoys} envoys`);
  const seeded = seedEnvoys({ dataDir, envoys: options.envoys, outDir: temp.path, identity });
  say(`seeded: keys ${Math.round(seeded.keysMs)} ms, rows ${Math.round(seeded.insertMs)} ms`);
  const memory = indexMemory(dbFile);
  say(`FleetIndex per envoy, keys parsed: ${Math.round(memory.rssBytesPerEnvoy)} bytes RSS`);

  booted = await bootServer({ ...bootOptions, cpuProfDir: options.serverCpuProfDir });
  server = booted.server;
  say(
    `booted with ${booted.boot.indexEnvoys} envoys: index ${booted.boot.indexMs} ms, ready ${Math.round(booted.boot.readyMs)} ms`,
  );
  const serverPid = server.child.pid!;

  const { loadgens, keysMs } = await startLoadgens(
    options.loadgens,
    {
      keysFile: seeded.envoysFile,
      caFile: identity.caFile,
      clientKeyFile: identity.clientKeyFile,
      clientCertFile: identity.clientCertFile,
      connections: options.connections,
    },
    options.envoys,
  );
  say(`${options.loadgens} load generator(s) read their keys in ${Math.round(keysMs)} ms`);
  const grpcPort = server.grpcPort;
  await Promise.all(
    loadgens.map((l) => l.ask({ type: 'connect', target: 'vigosrv', port: grpcPort }, 'connected')),
  );
  const [probe] = await Promise.all(loadgens.map((l) => l.ask({ type: 'probe' }, 'probed')));
  const checkins = await driveCheckins(options, loadgens, serverPid);
  const ceilingAndResults = await driveEchoAndResults(options, loadgens, serverPid, probe!.noChangeReply);
  await Promise.all(loadgens.map((l) => l.exit()));

  const serverExitCode = await stopServer();
  const db = new Database(dbFile, { readonly: true });
  const storedResults = db.prepare('SELECT count(*) FROM run_results').pluck().get() as number;
  db.close();
  return {
    envoys: options.envoys,
    loadgens: options.loadgens,
    connections: options.connections,
    concurrency: options.concurrency,
    resultsPerRun: options.resultsPerRun,
    cadenceIntervalSeconds: options.cadenceIntervalSeconds,
    loadAverageAtStart,
    emptyBoot,
    boot: booted.boot,
    indexMemory: memory,
    storedResults,
    serverExitCode,
    ...checkins,
    ...ceilingAndResults,
  };
}

let options: BenchOptions | 'help';
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`bench:checkin: ${(err as Error).message}\n${usage}\n`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
try {
  const figures = await run(options);
  process.stdout.write(`\n${formatReport(figures)}\n\n${jsonLine(figures)}\n`);
} catch (err) {
  process.stderr.write(
    `bench:checkin failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
} finally {
  await cleanup();
}
