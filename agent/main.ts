/**
 * vigo, the reference agent.
 *
 *   vigo enroll --server HOST:8443 --token-file FILE|--token T --ca FILE [--hostname H] [--state-dir DIR]
 *   vigo run --once [--dry-run]     one check-in and convergence, then exit
 *   vigo daemon [--config FILE]     check in and converge every interval until SIGTERM; runs the tasks
 *                                   and live queries the server pushes (agent.yaml decides which tasks)
 *   vigo status [--json]            cached bundle, its version and expiry, queued results, last run
 *   vigo traits                     the traits this host reports, as JSON
 *
 * Exit codes: 0 converged, 1 some resources failed, 2 usage error or invalid agent config, 3 nothing applied (no bundle,
 * expired or tampered bundle), 4 not enrolled or enrollment refused, 5 server unreachable (enroll).
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger, isLogLevel } from '../server/core/index.ts';
import { AgentConfigError, defaultAgentConfigFile, loadAgentConfig } from './config/index.ts';
import type { AgentConfig } from './config/index.ts';
import type { Logger } from '../server/core/index.ts';
import { createAgentRunner } from './runtime/agent-runner.ts';
import { BundleCache } from './runtime/bundle-cache.ts';
import { runDaemon } from './runtime/daemon.ts';
import { EnrollError, enroll } from './runtime/enroll.ts';
import { ResultsQueue } from './runtime/results-queue.ts';
import { agentVersion } from './runtime/server-link.ts';
import {
  NotEnrolledError,
  defaultStateDir,
  loadIdentity,
  readStatus,
  statePaths,
} from './runtime/state-dir.ts';
import type { StatePaths } from './runtime/state-dir.ts';
import { createTraitCollector } from './traits/index.ts';

const exit = { ok: 0, failed: 1, usage: 2, notApplied: 3, notEnrolled: 4, unreachable: 5 } as const;

const usage = `vigo ${agentVersion}: the Vigo reference agent

Usage:
  vigo enroll --server HOST:PORT --token-file FILE|--token TOKEN --ca FILE [--hostname NAME]
    (--token-file - reads the token from stdin; a file or stdin keeps it out of the process list)
  vigo run --once [--dry-run]
  vigo daemon [--dry-run] [--config FILE]
  vigo status [--json]
  vigo traits
  vigo version

Common flags: --state-dir DIR (default ${defaultStateDir}, or $VIGO_STATE_DIR), --log-level debug|info|warn|error,
  --config FILE (default ${defaultAgentConfigFile}, or $VIGO_AGENT_CONFIG; read by daemon)
Exit codes: 0 converged, 1 some resources failed, 2 usage or invalid config, 3 nothing applied, 4 not enrolled, 5 unreachable
`;

class UsageError extends Error {}

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
  const server = need(parsed, 'server');
  if (!/^[^\s/]+:\d{1,5}$/.test(server))
    throw new UsageError(`--server must be HOST:PORT, got ${JSON.stringify(server)}`);
  const caFile = need(parsed, 'ca');
  let caPem: string;
  try {
    caPem = fs.readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --ca ${caFile}: ${(err as Error).message}`);
  }
  const hostname = parsed.values.hostname ?? os.hostname();
  try {
    const identity = await enroll({ server, token: enrollToken(parsed), hostname, caPem, paths });
    process.stdout.write(
      `enrolled ${identity.hostname} as envoy ${identity.envoyId}; checking in at ${identity.grpcAddress}\n`,
    );
    return exit.ok;
  } catch (err) {
    if (!(err instanceof EnrollError)) throw err;
    process.stderr.write(`vigo: ${err.message}\n`);
    return err.code === 'unreachable' ? exit.unreachable : exit.notEnrolled;
  }
}

function runnerFor(paths: StatePaths, log: Logger, signal: AbortSignal) {
  return createAgentRunner({ paths, loaded: loadIdentity(paths), log, signal });
}

async function runOnce(parsed: Parsed, paths: StatePaths, log: Logger): Promise<number> {
  if (parsed.values.once !== true)
    throw new UsageError('vigo run needs --once (use "vigo daemon" to keep running)');
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const runner = runnerFor(paths, log, controller.signal);
  try {
    const result = await runner.cycle(parsed.values['dry-run'] === true);
    if (result.run === undefined) return exit.notApplied;
    const failed = result.run.results.filter((r) => r.outcome === 'failed').length;
    return failed > 0 ? exit.failed : exit.ok;
  } finally {
    runner.close();
  }
}

/** The agent's config file: --config, else $VIGO_AGENT_CONFIG (both must exist), else the default path if present. */
function agentConfig(parsed: Parsed): AgentConfig {
  const named = parsed.values.config ?? process.env['VIGO_AGENT_CONFIG'];
  return loadAgentConfig(named ?? defaultAgentConfigFile, named !== undefined);
}

async function daemon(parsed: Parsed, paths: StatePaths, log: Logger): Promise<number> {
  const config = agentConfig(parsed);
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
  await runDaemon({
    paths,
    loaded: loadIdentity(paths),
    log,
    signal: controller.signal,
    dryRun: parsed.values['dry-run'] === true,
    taskPolicy: {
      ...config.tasks,
      observeOnly: parsed.values['dry-run'] === true,
      configFile: config.file ?? defaultAgentConfigFile,
    },
  });
  return exit.ok;
}

function status(parsed: Parsed, paths: StatePaths): number {
  const { identity } = loadIdentity(paths);
  const cached = new BundleCache(paths.bundleFile, identity.bundlePublicKey).read(Date.now());
  const queued = new ResultsQueue(paths.queueDir).size();
  const last = readStatus(paths) ?? null;
  const bundle =
    cached.state === 'valid' || cached.state === 'expired'
      ? {
          state: cached.state,
          policyVersion: cached.document.policy_version,
          entryId: cached.document.entry_id,
          resources: cached.document.resources.length,
          expiresAt:
            cached.document.expires_at_ms === 0
              ? null
              : new Date(cached.document.expires_at_ms).toISOString(),
          receivedAt: new Date(cached.receivedAtMs).toISOString(),
        }
      : { state: cached.state, reason: cached.state === 'invalid' ? cached.reason : null };
  const report = {
    envoyId: identity.envoyId,
    hostname: identity.hostname,
    server: identity.grpcAddress,
    bundle,
    queuedRuns: queued,
    lastRun: last,
  };
  if (parsed.values.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const lines = [
      `envoy:        ${identity.envoyId} (${identity.hostname})`,
      `server:       ${identity.grpcAddress}`,
      'policyVersion' in bundle
        ? `bundle:       version ${bundle.policyVersion}, ${bundle.resources} resources, ${bundle.state}${bundle.expiresAt ? `, expires ${bundle.expiresAt}` : ''}`
        : `bundle:       ${bundle.state}${bundle.reason ? ` (${bundle.reason})` : ''}`,
      `queued runs:  ${queued}`,
      last === null
        ? 'last run:     never'
        : `last run:     ${new Date(last.finishedAtMs).toISOString()} from ${last.bundleSource}: ${
            last.blockedReason ??
            Object.entries(last.counts)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')
          }`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return cached.state === 'valid' ? exit.ok : exit.notApplied;
}

async function traits(paths: StatePaths): Promise<number> {
  const { traits: collected, errors } = await createTraitCollector({
    cacheFile: paths.traitsCacheFile,
  }).collect();
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
  const level = parsed.values['log-level'] ?? 'info';
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
      return traits(paths);
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
      if (err instanceof AgentConfigError) {
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
