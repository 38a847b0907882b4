/**
 * Command-line options of `npm run bench:checkin`. Every figure is per run; `--quick` shrinks the fleet
 * and the phases for a smoke run and any explicit flag still overrides it.
 */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  envoys: number;
  /** Measured seconds of the saturation, echo and results phases. */
  seconds: number;
  /** Seconds each closed-loop phase runs before its measured window opens. */
  warmupSeconds: number;
  /** Measured seconds of the cadence phase. */
  cadenceSeconds: number;
  /** Every envoy checks in once per this many seconds in the cadence phase. */
  cadenceIntervalSeconds: number;
  loadgens: number;
  /** mTLS connections per load generator, to each server. */
  connections: number;
  /** Calls in flight per load generator in the closed-loop phases. */
  concurrency: number;
  resultsPerRun: number;
  /** Where the server writes a V8 CPU profile (.cpuprofile) when it stops; undefined = no profile. */
  serverCpuProfDir: string | undefined;
  quick: boolean;
}

export const usage = `usage: npm run bench:checkin -- [options]
  --envoys N                   envoys seeded and driven (default 100000; --quick 2000)
  --seconds S                  measured seconds of the saturation, echo and results phases (default 30; --quick 5)
  --warmup-seconds S           unmeasured seconds before each closed-loop phase (default 3; --quick 1)
  --cadence-seconds S          measured seconds of the cadence phase (default 60; --quick 5)
  --cadence-interval-seconds S each envoy checks in once per S seconds in the cadence phase (default 60)
  --loadgens P                 load generator processes (default 1: the machine has 2 cores)
  --connections K              mTLS HTTP/2 connections per load generator (default 4)
  --concurrency C              calls in flight per load generator, closed-loop phases (default 64)
  --results-per-run R          results in each reported run (default 50)
  --server-cpu-prof DIR        write a V8 CPU profile of vigosrv into DIR when it stops
  --quick                      small smoke run (2,000 envoys, 5 s phases)
  --help`;

const full = {
  envoys: 100_000,
  seconds: 30,
  warmupSeconds: 3,
  cadenceSeconds: 60,
};
const quick = { envoys: 2_000, seconds: 5, warmupSeconds: 1, cadenceSeconds: 5 };

function positiveInteger(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`--${flag} must be a whole number of at least 1, got "${text}"`);
  }
  return value;
}

/** Parses the flags; throws an Error whose message says which flag is wrong and why. */
export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      envoys: { type: 'string' },
      seconds: { type: 'string' },
      'warmup-seconds': { type: 'string' },
      'cadence-seconds': { type: 'string' },
      'cadence-interval-seconds': { type: 'string' },
      loadgens: { type: 'string' },
      connections: { type: 'string' },
      concurrency: { type: 'string' },
      'results-per-run': { type: 'string' },
      'server-cpu-prof': { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const base = values.quick ? quick : full;
  const options: BenchOptions = {
    envoys: positiveInteger('envoys', values.envoys, base.envoys),
    seconds: positiveInteger('seconds', values.seconds, base.seconds),
    warmupSeconds: positiveInteger('warmup-seconds', values['warmup-seconds'], base.warmupSeconds),
    cadenceSeconds: positiveInteger('cadence-seconds', values['cadence-seconds'], base.cadenceSeconds),
    cadenceIntervalSeconds: positiveInteger(
      'cadence-interval-seconds',
      values['cadence-interval-seconds'],
      60,
    ),
    loadgens: positiveInteger('loadgens', values.loadgens, 1),
    connections: positiveInteger('connections', values.connections, 4),
    concurrency: positiveInteger('concurrency', values.concurrency, 64),
    resultsPerRun: positiveInteger('results-per-run', values['results-per-run'], 50),
    serverCpuProfDir: values['server-cpu-prof'],
    quick: values.quick,
  };
  const perLoadgen = Math.floor(options.envoys / options.loadgens);
  if (perLoadgen < options.concurrency * 2) {
    throw new Error(
      `${options.envoys} envoys over ${options.loadgens} load generators leaves ${perLoadgen} each, too few for ` +
        `${options.concurrency} calls in flight (at least twice as many envoys are needed so no envoy has two ` +
        'calls in flight); raise --envoys or lower --concurrency',
    );
  }
  if (options.resultsPerRun > 10_000) {
    throw new Error(
      `--results-per-run is at most 10000 (the protocol's limit per run), got ${options.resultsPerRun}`,
    );
  }
  return options;
}
