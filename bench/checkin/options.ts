/**
 * Command-line options of `npm run bench:checkin`. Every figure is per run; `--quick` shrinks the fleet
 * and the phases for a smoke run and any explicit flag still overrides it.
 */
import { parseArgs } from 'node:util';

/**
 * per-envoy: every envoy on its own connection with its own certificate, as real agents (the headline);
 * shared: a few connections speak for every envoy (the protocol's cost alone); both: one after the other.
 */
export const benchModes = ['both', 'per-envoy', 'shared'] as const;
export type BenchMode = (typeof benchModes)[number];

/** The server refuses more handshakes than this from one address at once (server/grpc defaults). */
const serverHandshakesPerAddress = 256;

export interface BenchOptions {
  mode: BenchMode;
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
  /** Load generator processes of the per-envoy phases. */
  envoyLoadgens: number;
  /** Connections being opened at once per load generator in the closed-loop poll phases. */
  pollConcurrency: number;
  /** Envoys per load generator that the closed-loop poll phases and the poll cadence take in turn. */
  pollEnvoys: number;
  /** Measured seconds of each cadence step of the per-envoy fleet searches. */
  stepSeconds: number;
  /** Held connections asked for (the server's descriptor limit may lower it). */
  held: number;
  /** Most cadence steps each per-envoy fleet search runs. */
  searchSteps: number;
  /** The first polls after boot stop after this long; undefined = every envoy polls. */
  firstPollSeconds: number | undefined;
  /** checkin.workers for the server: 1 = no check-in processes (the server's default), 0 = one per core. */
  workers: number;
  /** Where the server writes a V8 CPU profile (.cpuprofile) when it stops; undefined = no profile. */
  serverCpuProfDir: string | undefined;
  quick: boolean;
}

export const usage = `usage: npm run bench:checkin -- [options]
  --mode M                     per-envoy (each envoy its own connection and certificate, as real agents),
                               shared (a few connections for every envoy: the protocol's cost alone) or
                               both, per-envoy first (default both)
  --envoys N                   envoys seeded and driven (default 100000; --quick 1000)
  --seconds S                  measured seconds of the closed-loop phases (default 30; --quick 2)
  --warmup-seconds S           unmeasured seconds before each closed-loop phase (default 3; --quick 1)
  --cadence-seconds S          measured seconds of the shared cadence phase (default 60; --quick 2)
  --cadence-interval-seconds S each envoy checks in once per S seconds in the cadence phase (default 60)
  --loadgens P                 load generator processes (default 1: the machine has 2 cores)
  --connections K              mTLS HTTP/2 connections per load generator (default 4)
  --concurrency C              calls in flight per load generator, closed-loop phases (default 64)
  --results-per-run R          results in each reported run (default 50)
  per-envoy phases:
  --envoy-loadgens P           load generator processes (default 2: each holds at most 20,000 descriptors)
  --poll-concurrency C         connections opened at once per load generator in closed-loop polls (default 16)
  --poll-envoys N              envoys per load generator the poll phases take in turn (default 2000; --quick 400)
  --step-seconds S             measured seconds of each cadence step of the fleet searches (default 15; --quick 2)
  --held N                     held connections asked for, at most the server's descriptor limit - 1000
                               (default 19000; --quick 500)
  --search-steps K             most cadence steps per fleet search (default 5; --quick 1)
  --first-poll-seconds S       stop the first polls after boot after S seconds, for a machine too busy for
                               every envoy to poll once in good time (default: every envoy polls)
  --workers N                  checkin.workers for vigosrv: check-in processes terminating agent connections
                               (default 1, the server's default: the server process alone; 0: one per core)
  --server-cpu-prof DIR        write a V8 CPU profile of vigosrv into DIR when it stops
  --quick                      small smoke run (1,000 envoys, short phases)
  --help`;

const full = {
  envoys: 100_000,
  seconds: 30,
  warmupSeconds: 3,
  cadenceSeconds: 60,
  pollEnvoys: 2000,
  stepSeconds: 15,
  held: 19_000,
  searchSteps: 5,
};
const quick = {
  envoys: 1_000,
  seconds: 2,
  warmupSeconds: 1,
  cadenceSeconds: 2,
  pollEnvoys: 400,
  stepSeconds: 2,
  held: 500,
  searchSteps: 1,
};

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
      mode: { type: 'string' },
      'envoy-loadgens': { type: 'string' },
      'poll-concurrency': { type: 'string' },
      'poll-envoys': { type: 'string' },
      'step-seconds': { type: 'string' },
      held: { type: 'string' },
      'search-steps': { type: 'string' },
      'first-poll-seconds': { type: 'string' },
      'server-cpu-prof': { type: 'string' },
      workers: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const base = values.quick ? quick : full;
  const mode = values.mode ?? 'both';
  if (!(benchModes as readonly string[]).includes(mode)) {
    throw new Error(`--mode must be one of ${benchModes.join(', ')}, got "${mode}"`);
  }
  const options: BenchOptions = {
    mode: mode as BenchMode,
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
    envoyLoadgens: positiveInteger('envoy-loadgens', values['envoy-loadgens'], 2),
    pollConcurrency: positiveInteger('poll-concurrency', values['poll-concurrency'], 16),
    pollEnvoys: positiveInteger('poll-envoys', values['poll-envoys'], base.pollEnvoys),
    stepSeconds: positiveInteger('step-seconds', values['step-seconds'], base.stepSeconds),
    held: positiveInteger('held', values.held, base.held),
    searchSteps: positiveInteger('search-steps', values['search-steps'], base.searchSteps),
    firstPollSeconds:
      values['first-poll-seconds'] === undefined
        ? undefined
        : positiveInteger('first-poll-seconds', values['first-poll-seconds'], 1),
    serverCpuProfDir: values['server-cpu-prof'],
    workers: values.workers === '0' ? 0 : positiveInteger('workers', values.workers, 1),
    quick: values.quick,
  };
  if (options.mode !== 'per-envoy') checkShared(options);
  if (options.mode !== 'shared') checkPerEnvoy(options);
  if (options.resultsPerRun > 10_000) {
    throw new Error(
      `--results-per-run is at most 10000 (the protocol's limit per run), got ${options.resultsPerRun}`,
    );
  }
  return options;
}

function checkShared(options: BenchOptions): void {
  const perLoadgen = Math.floor(options.envoys / options.loadgens);
  if (perLoadgen < options.concurrency * 2) {
    throw new Error(
      `${options.envoys} envoys over ${options.loadgens} load generators leaves ${perLoadgen} each, too few for ` +
        `${options.concurrency} calls in flight (at least twice as many envoys are needed so no envoy has two ` +
        'calls in flight); raise --envoys or lower --concurrency',
    );
  }
}

function checkPerEnvoy(options: BenchOptions): void {
  const perLoadgen = Math.floor(options.envoys / options.envoyLoadgens);
  if (options.pollEnvoys > perLoadgen) {
    throw new Error(
      `--poll-envoys ${options.pollEnvoys} is more than the ${perLoadgen} envoys each of the ` +
        `${options.envoyLoadgens} per-envoy load generators has; lower it or raise --envoys`,
    );
  }
  if (options.pollEnvoys < options.pollConcurrency * 2) {
    throw new Error(
      `--poll-envoys ${options.pollEnvoys} is too few for --poll-concurrency ${options.pollConcurrency} ` +
        '(at least twice as many envoys are needed so no envoy has two polls in flight)',
    );
  }
  const handshakes = options.pollConcurrency * options.envoyLoadgens;
  if (handshakes >= serverHandshakesPerAddress) {
    throw new Error(
      `--poll-concurrency ${options.pollConcurrency} × --envoy-loadgens ${options.envoyLoadgens} = ${handshakes} ` +
        `handshakes at once; the server refuses more than ${serverHandshakesPerAddress} from one address`,
    );
  }
}
