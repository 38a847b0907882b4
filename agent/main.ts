/**
 * vigo, the reference agent.
 *
 *   vigo enroll --server https://HOST:8443 --token-file FILE|--token T --ca FILE [--hostname H] [--state-dir DIR]
 *   vigo run --once [--dry-run] [--format text|json]
 *                                   one check-in and convergence, then exit; prints a line per resource
 *                                   that changed or failed and a summary (run-report.ts)
 *   vigo daemon [--config FILE]     check in and converge every interval until SIGTERM; runs the tasks
 *                                   and live queries the server pushes (agent.yaml decides which tasks)
 *   vigo status [--json]            cached bundle, its version and expiry, queued results, last run
 *   vigo traits                     the traits this host reports, as JSON
 *
 * Exit codes (docs/agent.md): 0 converged, 1 some resources failed, 2 usage error, invalid agent config or
 * enroll pointed at the agent (gRPC) port, 3 nothing applied / no valid bundle held (no bundle yet, expired or
 * tampered bundle; `vigo status` says which), 4 not enrolled or enrollment refused, 5 server unreachable (enroll).
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
// Only what every command needs is imported here; each command loads its own modules, so that
// `vigo --help`, `vigo version` and `vigo status` start without the gRPC and X.509 libraries.
import { createLogger, isLogLevel } from '../server/core/index.ts';
import type { Logger } from '../server/core/index.ts';
import type { AgentConfig } from './config/index.ts';
import { defaultAgentConfigFile } from './config/defaults.ts';
import {
  ServerAddressError,
  agentPortHint,
  answersAsAgentPort,
  parseEnrollServer,
} from './runtime/enroll-target.ts';
import type { RenderedRun, RunOutputFormat } from './runtime/run-report.ts';
import { runOutputFormats } from './runtime/run-report.ts';
import { NotEnrolledError, defaultStateDir, loadIdentity, statePaths } from './runtime/state-dir.ts';
import type { StatePaths } from './runtime/state-dir.ts';
import { agentVersion } from './runtime/version.ts';

const exit = { ok: 0, failed: 1, usage: 2, notApplied: 3, notEnrolled: 4, unreachable: 5 } as const;

const usage = `vigo ${agentVersion}: the Vigo reference agent

Usage:
  vigo enroll --server https://HOST:8443 --token-file FILE|--token TOKEN --ca FILE [--hostname NAME]
    (--token-file - reads the token from stdin; a file or stdin keeps it out of the process list)
  vigo run --once [--dry-run] [--format text|json]
  vigo daemon [--dry-run] [--config FILE]
  vigo status [--json]
  vigo traits
  vigo version

Common flags: --state-dir DIR (default ${defaultStateDir}, or $VIGO_STATE_DIR),
  --log-level debug|info|warn|error (JSON lines on stderr; default warn for run, info otherwise),
  --config FILE (default ${defaultAgentConfigFile}, or $VIGO_AGENT_CONFIG; read by daemon, run and traits)
Exit codes: 0 converged, 1 some resources failed, 2 usage or invalid config, 3 nothing applied or no bundle held,
  4 not enrolled, 5 unreachable
`;

class UsageError extends Error {}
/** An invalid agent config file (exit 2, like a usage error, but without the usage text). */
class ConfigError extends Error {}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'state-dir': { type: 'string' },
        config: { type: 'string' },
        'log-level': { type: 'string' },
        server: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        hostname: { type: 'string' },
        ca: { type: 'string' },
        once: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

type Parsed = ReturnType<typeof parse>;

function need(parsed: Parsed, name: 'server' | 'token' | 'ca'): string {
  const value = parsed.values[name];
  if (value === undefined || value === '') throw new UsageError(`vigo enroll needs --${name}`);
  return value;
}

/** Longer than any token the server issues; a bigger file is not a token file. */
const maxTokenFileBytes = 4096;

/** The enrollment token: --token, or the first line of --token-file (`-` is stdin). */
function enrollToken(parsed: Parsed): string {
  const file = parsed.values['token-file'];
  if (file === undefined) return need(parsed, 'token');
  if (parsed.values.token !== undefined) throw new UsageError('give --token or --token-file, not both');
  let text: string;
  try {
    const bytes = fs.readFileSync(file === '-' ? 0 : file);
    if (bytes.length > maxTokenFileBytes)
      throw new UsageError(`--token-file ${file}: larger than ${maxTokenFileBytes} bytes, not a token`);
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read --token-file ${file}: ${(err as Error).message}`);
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token === '') throw new UsageError(`--token-file ${file}: the first line is empty`);
  return token;
}

async function enrollCommand(parsed: Parsed, paths: StatePaths): Promise<number> {
  let server: string;
  try {
    server = parseEnrollServer(need(parsed, 'server'));
  } catch (err) {
    if (err instanceof ServerAddressError) throw new UsageError(err.message);
    throw err;
  }
  const caFile = need(parsed, 'ca');
  let caPem: string;
  try {
    caPem = fs.readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --ca ${caFile}: ${(err as Error).message}`);
  }
  const hostname = parsed.values.hostname ?? os.hostname();
  const { EnrollError, enroll } = await import('./runtime/enroll.ts');
  try {
    const identity = await enroll({ server, token: enrollToken(parsed), hostname, caPem, paths });
    process.stdout.write(
      `enrolled ${identity.hostname} as envoy ${identity.envoyId}; checking in at ${identity.grpcAddress}\n`,
    );
    return exit.ok;
  } catch (err) {
    if (!(err instanceof EnrollError)) throw err;
    if (err.code === 'unreachable') {
      if (await answersAsAgentPort(server, caPem)) {
        process.stderr.write(`vigo: ${agentPortHint(server)}\n`);
        return exit.usage;
      }
    }
    process.stderr.write(`vigo: ${err.message}\n`);
    return err.code === 'unreachable' ? exit.unreachable : exit.notEnrolled;
  }
}

function runFormat(parsed: Parsed): RunOutputFormat {
  const format = parsed.values.format ?? 'text';
  if (!(runOutputFormats as readonly string[]).includes(format))
    throw new UsageError(`--format must be ${runOutputFormats.join(' or ')}, got ${JSON.stringify(format)}`);
  return format as RunOutputFormat;
}

function print(rendered: RenderedRun): void {
  if (rendered.stdout !== '') process.stdout.write(rendered.stdout);
  if (rendered.stderr !== '') process.stderr.write(rendered.stderr);
}

async function runOnce(parsed: Parsed, paths: StatePaths, log: Logger): Promise<number> {
  if (parsed.values.once !== true)
    throw new UsageError('vigo run needs --once (use "vigo daemon" to keep running)');
  const format = runFormat(parsed);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const loaded = loadIdentity(paths);
  const { createAgentRunner } = await import('./runtime/agent-runner.ts');
  const report = await import('./runtime/run-report.ts');
  const config = await agentConfig(parsed);
  const runner = createAgentRunner({
    paths,
    loaded,
    log,
    signal: controller.signal,
    traitSettings: config.traits,
  });
  try {
    const result = await runner.cycle(parsed.values['dry-run'] === true);
    if (result.run === undefined) {
      print(report.renderBlocked(result.blockedReason ?? 'no bundle to apply', format));
      return exit.notApplied;
    }
    const source = result.reachable ? 'server' : 'cache';
    print(format === 'json' ? report.renderRunJson(result.run, source) : report.renderRunText(result.run));
    return report.runFailed(result.run) ? exit.failed : exit.ok;
  } finally {
    runner.close();
  }
}

/** The agent's config file: --config, else $VIGO_AGENT_CONFIG (both must exist), else the default path if present. */
async function agentConfig(parsed: Parsed): Promise<AgentConfig> {
  const { AgentConfigError, loadAgentConfig } = await import('./config/index.ts');
  const named = parsed.values.config ?? process.env['VIGO_AGENT_CONFIG'];
  try {
    return loadAgentConfig(named ?? defaultAgentConfigFile, named !== undefined);
  } catch (err) {
    if (err instanceof AgentConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

async function daemon(parsed: Parsed, paths: StatePaths, log: Logger): Promise<number> {
  const config = await agentConfig(parsed);
  const controller = new AbortController();
  const stop = (): void => {
    log.info('stopping');
    controller.abort();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  log.info('vigo daemon started', {
    version: agentVersion,
    stateDir: paths.root,
    config: config.file ?? 'defaults',
    adhocTasks: config.tasks.adhoc,
    namedTasks: [...config.tasks.allow].join(','),
  });
  const { runDaemon } = await import('./runtime/daemon.ts');
  await runDaemon({
    paths,
    loaded: loadIdentity(paths),
    log,
    signal: controller.signal,
    dryRun: parsed.values['dry-run'] === true,
    traitSettings: config.traits,
    taskPolicy: {
      ...config.tasks,
      observeOnly: parsed.values['dry-run'] === true,
      configFile: config.file ?? defaultAgentConfigFile,
    },
  });
  return exit.ok;
}

async function status(parsed: Parsed, paths: StatePaths): Promise<number> {
  const { statusReport } = await import('./runtime/status-report.ts');
  const report = statusReport(paths, parsed.values.json === true);
  process.stdout.write(report.stdout);
  return report.code === 0 ? exit.ok : exit.notApplied;
}

async function traits(parsed: Parsed, paths: StatePaths): Promise<number> {
  const config = await agentConfig(parsed);
  const { createTraitCollector } = await import('./traits/index.ts');
  const { traits: collected, errors } = await createTraitCollector({
    cacheFile: paths.traitsCacheFile,
    env: { settings: config.traits },
  }).collect({ awaitBackground: true });
  process.stdout.write(`${JSON.stringify(collected, null, 2)}\n`);
  for (const e of errors) process.stderr.write(`vigo: trait collector ${e.collector}: ${e.message}\n`);
  return exit.ok;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  const [command] = parsed.positionals;
  if (parsed.values.help === true || command === undefined) {
    process.stdout.write(usage);
    return command === undefined && parsed.values.help !== true ? exit.usage : exit.ok;
  }
  // A one-off run prints its own report; its log carries only what needs attention.
  const level = parsed.values['log-level'] ?? (command === 'run' ? 'warn' : 'info');
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be debug, info, warn or error`);
  const log = createLogger({ level, fields: { component: 'vigo' } });
  const paths = statePaths(parsed.values['state-dir'] ?? process.env['VIGO_STATE_DIR'] ?? defaultStateDir);
  switch (command) {
    case 'enroll':
      return enrollCommand(parsed, paths);
    case 'run':
      return runOnce(parsed, paths, log);
    case 'daemon':
      return daemon(parsed, paths, log);
    case 'status':
      return status(parsed, paths);
    case 'traits':
      return traits(parsed, paths);
    case 'version':
      process.stdout.write(`vigo ${agentVersion}\n`);
      return exit.ok;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

const isEntry = process.argv[1] !== undefined && /(^|[/\\])(vigo|vigo\.mjs|main\.ts)$/.test(process.argv[1]);
if (isEntry || process.env['VIGO_AGENT_MAIN'] === '1') {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`vigo: ${err.message}\n${usage}`);
        process.exit(exit.usage);
      }
      if (err instanceof ConfigError) {
        process.stderr.write(`vigo: ${err.message}\n`);
        process.exit(exit.usage);
      }
      if (err instanceof NotEnrolledError) {
        process.stderr.write(`vigo: ${err.message}\n`);
        process.exit(exit.notEnrolled);
      }
      process.stderr.write(`vigo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(70);
    },
  );
}
