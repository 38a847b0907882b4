/**
 * The check-in benchmark: the real vigosrv in its own process with N seeded envoys, driven by load
 * generator processes that sign every request with each envoy's own key, in two modes (--mode):
 *
 * - per-envoy (the headline, bench/checkin/per-envoy.ts): each envoy has its own client certificate and
 *   opens its own mTLS connection, as real agents do: polls with full and resumed TLS handshakes, the
 *   bare grpc-js echo ceiling under the same polls, the largest poll and held fleets at the 60 s and
 *   15 s cadences, RSS per enrolled envoy and per held connection.
 * - shared (bench/checkin/shared.ts): a few shared mTLS HTTP/2 connections speak for every envoy, which
 *   bounds the protocol's cost alone: every envoy's first check-in since boot, cadence, saturation,
 *   the echo ceiling, results ingest (verified against run_results).
 *
 * Prints a table with targets, what limited each figure, and one JSON line.
 * Figures, not tests: never part of npm test.
 *
 *   npm run bench:checkin -- [--quick] [--mode both|per-envoy|shared] [--envoys N] … (--help)
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { ReadyServer } from '../test/helpers/server-process.ts';
import { makeTempDir } from '../test/helpers/server-process.ts';
import { killChildren, startLoadgens } from './checkin/children.ts';
import type { LoadgenIdentityFiles } from './checkin/loadgen-protocol.ts';
import { parseOptions, usage } from './checkin/options.ts';
import type { BenchOptions } from './checkin/options.ts';
import { drivePerEnvoy } from './checkin/per-envoy.ts';
import { bootServer, checkinProcesses } from './checkin/phases.ts';
import type { BootFigures, BootOptions } from './checkin/phases.ts';
import { formatReport, jsonLine } from './checkin/report.ts';
import type { IndexMemory, RunFigures, SharedRun } from './checkin/report.ts';
import type { PerEnvoyRun } from './checkin/report-per-envoy.ts';
import { bindAllTo, issueLoadgenIdentity, openBenchPki, seedEnvoys } from './checkin/seed.ts';
import type { LoadgenIdentity, SeededEnvoys } from './checkin/seed.ts';
import { driveCheckins, driveEchoAndResults } from './checkin/shared.ts';

const serverStopBudgetMs = 30_000;
/** The cadences the per-envoy fleet searches run at, and their latency target. */
const perEnvoyIntervalsSeconds = [60, 15];
const p99TargetMs = 50;

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

interface Booted {
  server: ReadyServer;
  boot: BootFigures;
}

async function boot(options: BootOptions): Promise<Booted> {
  const booted = await bootServer(options);
  server = booted.server;
  say(
    `booted with ${booted.boot.indexEnvoys} envoys: index ${booted.boot.indexMs} ms, ready ${Math.round(booted.boot.readyMs)} ms`,
  );
  return booted;
}

/** Every envoy on its own connection with its own certificate, on a fresh boot. */
async function runPerEnvoy(
  options: BenchOptions,
  bootOptions: BootOptions,
  seeded: SeededEnvoys,
  caFile: string,
  emptyBoot: BootFigures,
): Promise<PerEnvoyRun> {
  const certs = seeded.certs;
  if (certs === undefined) throw new Error('per-envoy mode needs envoys seeded with their own certificates');
  const booted = await boot(bootOptions);
  const serverPid = booted.server.child.pid!;
  const identity: LoadgenIdentityFiles = {
    kind: 'per-envoy',
    certsFile: certs.certsFile,
    keyFile: certs.keyFile,
  };
  const { loadgens, keysMs } = await startLoadgens(
    options.envoyLoadgens,
    { keysFile: seeded.envoysFile, caFile, identity },
    options.envoys,
  );
  say(
    `${options.envoyLoadgens} per-envoy load generator(s) read their keys and certificates in ${Math.round(keysMs)} ms`,
  );
  const port = booted.server.grpcPort;
  await Promise.all(loadgens.map((l) => l.ask({ type: 'connect', target: 'vigosrv', port }, 'connected')));
  const [probe] = await Promise.all(loadgens.map((l) => l.ask({ type: 'probe' }, 'probed')));
  const figures = await drivePerEnvoy(
    loadgens,
    {
      envoys: options.envoys,
      pollConcurrency: options.pollConcurrency,
      pollEnvoys: options.pollEnvoys,
      warmupSeconds: options.warmupSeconds,
      seconds: options.seconds,
      stepSeconds: options.stepSeconds,
      held: options.held,
      searchSteps: options.searchSteps,
      firstPollSeconds: options.firstPollSeconds,
      cadenceIntervalsSeconds: perEnvoyIntervalsSeconds,
      p99TargetMs,
      tlsDir: join(bootOptions.dataDir, 'tls'),
    },
    serverPid,
    probe!.noChangeReply,
  );
  await Promise.all(loadgens.map((l) => l.exit()));
  const serverExitCode = await stopServer();
  return {
    ...figures,
    envoys: options.envoys,
    boot: booted.boot,
    emptyBootRssBytes: emptyBoot.rssBytes,
    cadenceIntervalsSeconds: perEnvoyIntervalsSeconds,
    p99TargetMs,
    serverExitCode,
  };
}

/** A few shared connections speak for every envoy, on a fresh boot. */
async function runShared(
  options: BenchOptions,
  bootOptions: BootOptions,
  seeded: SeededEnvoys,
  identity: LoadgenIdentity,
): Promise<SharedRun> {
  const booted = await boot(bootOptions);
  const serverPid = booted.server.child.pid!;
  const { loadgens, keysMs } = await startLoadgens(
    options.loadgens,
    {
      keysFile: seeded.envoysFile,
      caFile: identity.caFile,
      identity: {
        kind: 'shared',
        clientKeyFile: identity.clientKeyFile,
        clientCertFile: identity.clientCertFile,
        connections: options.connections,
      },
    },
    options.envoys,
  );
  say(`${options.loadgens} load generator(s) read their keys in ${Math.round(keysMs)} ms`);
  const grpcPort = booted.server.grpcPort;
  await Promise.all(
    loadgens.map((l) => l.ask({ type: 'connect', target: 'vigosrv', port: grpcPort }, 'connected')),
  );
  const [probe] = await Promise.all(loadgens.map((l) => l.ask({ type: 'probe' }, 'probed')));
  const checkins = await driveCheckins(options, loadgens, serverPid);
  const tlsDir = join(bootOptions.dataDir, 'tls');
  const ceilingAndResults = await driveEchoAndResults(
    options,
    loadgens,
    serverPid,
    tlsDir,
    probe!.noChangeReply,
  );
  await Promise.all(loadgens.map((l) => l.exit()));
  const serverExitCode = await stopServer();
  const db = new Database(join(bootOptions.dataDir, 'db', 'vigo.db'), { readonly: true });
  const storedResults = db.prepare('SELECT count(*) FROM run_results').pluck().get() as number;
  db.close();
  return {
    envoys: options.envoys,
    loadgens: options.loadgens,
    connections: options.connections,
    concurrency: options.concurrency,
    resultsPerRun: options.resultsPerRun,
    cadenceIntervalSeconds: options.cadenceIntervalSeconds,
    boot: booted.boot,
    storedResults,
    serverExitCode,
    ...checkins,
    ...ceilingAndResults,
  };
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
    workers: options.workers,
  };

  // The PKI exists before the first boot so that both measured boots do the same work but for the envoys.
  const pki = await openBenchPki(dataDir);
  const identity = await issueLoadgenIdentity(pki, temp.path);
  say(`data in ${temp.path}; booting vigosrv with no envoys`);
  const emptyBoot = (await boot(bootOptions)).boot;
  if ((await stopServer()) !== 0) throw new Error('vigosrv did not stop cleanly after the empty boot');

  const perEnvoyCerts = options.mode !== 'shared';
  say(`seeding ${options.envoys} envoys${perEnvoyCerts ? ', each with its own client certificate' : ''}`);
  const seeded = await seedEnvoys({
    dataDir,
    envoys: options.envoys,
    outDir: temp.path,
    identity,
    perEnvoyCerts: perEnvoyCerts ? pki : undefined,
  });
  say(
    `seeded: keys ${Math.round(seeded.keysMs)} ms, rows ${Math.round(seeded.insertMs)} ms` +
      (seeded.certs === undefined ? '' : `, certificates ${Math.round(seeded.certs.mintMs)} ms`),
  );
  const memory = indexMemory(dbFile);
  say(`FleetIndex per envoy, keys parsed: ${Math.round(memory.rssBytesPerEnvoy)} bytes RSS`);

  const measuredBoot = { ...bootOptions, cpuProfDir: options.serverCpuProfDir };
  const perEnvoy = perEnvoyCerts
    ? await runPerEnvoy(options, measuredBoot, seeded, pki.caFile, emptyBoot)
    : undefined;
  let shared: SharedRun | undefined;
  if (options.mode !== 'per-envoy') {
    if (perEnvoyCerts) {
      say('binding every envoy to the one shared client certificate for the shared-connection phases');
      bindAllTo(dataDir, identity);
    }
    shared = await runShared(options, measuredBoot, seeded, identity);
  }
  return {
    envoys: options.envoys,
    checkinProcesses: checkinProcesses(options.workers),
    loadAverageAtStart,
    emptyBoot,
    indexMemory: memory,
    seedKeysMs: seeded.keysMs,
    certsMintMs: seeded.certs?.mintMs,
    perEnvoy,
    shared,
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
