/**
 * The shared-connection phases of bench:checkin: a few mTLS connections per load generator speak for
 * every envoy (all bound to one client certificate), so no handshake is paid per check-in and what is
 * measured is the protocol's cost alone: every envoy's first check-in since boot, the cadence, the
 * saturation, the bare grpc-js echo ceiling under the same load, and results ingest.
 */
import type { LoadgenProcess } from './children.ts';
import { startEchoServer } from './children.ts';
import type { BenchOptions } from './options.ts';
import { runPhase } from './phases.ts';
import type { PhaseFigures } from './phases.ts';
import { processRssBytes } from './proc-stats.ts';

// Open loop: beyond this many calls waiting, the server is not keeping up and more would only queue.
const cadenceMaxInFlight = 10_000;

function say(text: string): void {
  process.stderr.write(`[bench:checkin] ${text}\n`);
}

function phaseLine(name: string, figures: PhaseFigures): string {
  return (
    `${name}: ${Math.round(figures.callsPerSecond)} calls/s, ${Math.round(figures.serverCpuUsPerCall)} µs server CPU/call, ` +
    `p99 ${figures.p99Ms.toFixed(1)} ms, ${figures.errorCount} errors`
  );
}

/** vigosrv's own check-in phases: every envoy's first check-in after boot, the cadence, saturation. */
export async function driveCheckins(options: BenchOptions, loadgens: LoadgenProcess[], serverPid: number) {
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
export async function driveEchoAndResults(
  options: BenchOptions,
  loadgens: LoadgenProcess[],
  serverPid: number,
  tlsDir: string,
  noChangeReply: Uint8Array,
) {
  const closedLoop = { warmupSeconds: options.warmupSeconds, seconds: options.seconds };
  const echoServer = await startEchoServer(tlsDir, noChangeReply);
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
