/**
 * vigosrv entry point: parse configuration, start, report readiness, and turn signals into a drain
 * (SIGTERM/SIGINT), an immediate stop (a second signal) or a config reload (SIGHUP). Exit codes are
 * documented in docs/exit-codes.md.
 */
import { writeSync } from 'node:fs';
import type { ConfigReload, LoadedConfig } from './config/index.ts';
import { loadConfig, reloadConfig, renderHelp } from './config/index.ts';
import type { LogLevelRef, Logger } from './core/index.ts';
import { createLogger, exitCodes, guardStandardStreams, isVigoError } from './core/index.ts';
import type { ConfigView, RunningServer } from './lifecycle/start.ts';
import type { RunningNode } from './lifecycle/run-node.ts';
import { startNode } from './lifecycle/run-node.ts';
import { checkinWorkers } from './lifecycle/agent-port.ts';
import { StartupError } from './lifecycle/startup-error.ts';
import { firstAdminBannerLines } from './lifecycle/admin-bootstrap-notice.ts';
import { heldFleetLimitProblem, openFileLimits } from './net/index.ts';
import { serverVersion } from './lifecycle/version.ts';
import { runRestoreCommand } from './backup/index.ts';
import { createServiceNotifier } from './lifecycle/sd-notify.ts';

function loadOrExit(): LoadedConfig {
  try {
    return loadConfig({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd() });
  } catch (err) {
    process.stderr.write(`vigosrv: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(exitCodes.config);
  }
}

function printStandbyBanner(node: RunningNode, loaded: LoadedConfig): void {
  const api = loaded.config['server.api_listen'];
  const host = api.host === '' ? 'localhost' : api.host.includes(':') ? `[${api.host}]` : api.host;
  process.stdout.write(
    [
      `vigosrv ${serverVersion} ${node.role} (follows its primary; promote with vigocli server promote)`,
      `  status:    https://${host}:${node.apiPort}/api/v1/server/replication`,
      `  config:    ${loaded.configFile ?? 'embedded defaults'}`,
      '',
    ].join('\n'),
  );
}

function printBanner(server: RunningServer, loaded: LoadedConfig): void {
  const host = (h: string): string => (h === '' ? 'localhost' : h.includes(':') ? `[${h}]` : h);
  const api = loaded.config['server.api_listen'];
  const grpc = loaded.config['server.grpc_listen'];
  const apiUrl = `https://${host(api.host)}:${server.apiPort}`;
  // On a terminal the operator sees the secret; elsewhere (systemd's journal, a container log) it is only
  // named by its file, so it is never kept wherever standard output is collected.
  const firstAdmin = firstAdminBannerLines(
    server.adminBootstrap,
    `${apiUrl}/setup`,
    process.stdout.isTTY === true,
  );
  process.stdout.write(
    [
      `vigosrv ${serverVersion} ready (${loaded.mode} mode)`,
      `  data dir:  ${server.paths.dataDir}`,
      `  CA file:   ${server.pki.caFile}`,
      `  web UI:    ${apiUrl}/  (API docs at ${apiUrl}/docs; /readyz, /healthz)`,
      `  agents:    ${host(grpc.host)}:${server.grpcPort}  (gRPC, mTLS)`,
      `  config:    ${loaded.configFile ?? 'embedded defaults'}`,
      ...firstAdmin,
      '  stop with Ctrl-C or SIGTERM',
      '',
    ].join('\n'),
  );
}

function notifyReady(fd: number | undefined, log: Logger): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, '\n');
  } catch (err) {
    log.warn('cannot write readiness notification', { fd, err });
  }
}

function reload(
  server: RunningServer,
  current: { loaded: LoadedConfig },
  view: ConfigView,
  levelRef: LogLevelRef,
  log: Logger,
): void {
  const target = current.loaded.configFile ?? 'embedded defaults';
  let result: ConfigReload;
  try {
    result = reloadConfig(current.loaded, {
      argv: process.argv.slice(2),
      env: process.env,
      cwd: process.cwd(),
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error('config reload refused: the running configuration is unchanged', { error: message });
    server.audit.appendSystem({
      action: 'server.config_reload_failed',
      target,
      details: { error: message, code: isVigoError(err) ? err.code : 'internal' },
    });
    return;
  }
  // The start-up refusal of held mode for a fleet the open-file limit cannot hold applies to a reload too:
  // agents switched to held would run the server out of descriptors, and the HTTPS port with it.
  const heldProblem =
    result.applied.includes('checkin.connection') && result.loaded.config['checkin.connection'] === 'held'
      ? heldFleetLimitProblem(
          openFileLimits(),
          server.fleet.activeCount(),
          // Not reloadable: the check-in processes running are those the server started with.
          checkinWorkers(current.loaded.config['checkin.workers']),
        )
      : undefined;
  if (heldProblem !== undefined) {
    log.error('config reload refused: the running configuration is unchanged', { error: heldProblem });
    server.audit.appendSystem({
      action: 'server.config_reload_failed',
      target,
      details: { error: heldProblem, code: 'server.open_file_limit' },
    });
    return;
  }
  // Audited before it is applied, so a reload that cannot be audited (a broken chain) changes nothing.
  const audited = server.audit.appendSystem({
    action: 'server.config_reloaded',
    target,
    details: { applied: [...result.applied], restartRequired: [...result.restartRequired] },
  });
  if (!audited) {
    log.error('config reload refused: it cannot be audited; the running configuration is unchanged');
    return;
  }
  current.loaded = result.loaded;
  view.current = result.loaded.config;
  levelRef.value = result.loaded.config['log.level'];
  if (result.restartRequired.length > 0) {
    log.warn('config keys changed that take effect only after a restart', { keys: result.restartRequired });
  }
  log.info('config reloaded', { applied: result.applied });
}

async function main(): Promise<void> {
  // `vigosrv restore …` works on a stopped server's data dir and starts nothing.
  if (process.argv[2] === 'restore') {
    const io = { out: (t: string) => process.stdout.write(t), err: (t: string) => process.stderr.write(t) };
    process.exit(await runRestoreCommand(process.argv.slice(3), io));
  }
  const loaded = loadOrExit();
  if (loaded.help) {
    process.stdout.write(renderHelp());
    process.exit(exitCodes.ok);
  }
  if (loaded.version) {
    process.stdout.write(`vigosrv ${serverVersion}\n`);
    process.exit(exitCodes.ok);
  }
  const levelRef: LogLevelRef = { value: loaded.config['log.level'] };
  const log = createLogger({
    level: levelRef,
    format: loaded.config['log.format'],
    fields: { component: 'vigosrv' },
  });
  // Read (and removed from the environment) before any child process starts.
  const notifier = createServiceNotifier({ env: process.env, log });

  const view: ConfigView = { current: loaded.config };
  const current = { loaded };
  let node: RunningNode | undefined;
  let stopSignal: NodeJS.Signals | undefined;

  const drainAndExit = (running: RunningNode, signal: NodeJS.Signals): void => {
    const budgetMs = current.loaded.config['shutdown.budget'];
    const timer = setTimeout(() => {
      log.error('drain did not finish within shutdown.budget; stopping anyway', { budgetMs });
      running.abort();
      process.exit(exitCodes.shutdownBudgetExceeded);
    }, budgetMs);
    void notifier.stopping(`draining after ${signal}`);
    running.drain(signal).then(
      () => {
        clearTimeout(timer);
        process.exit(exitCodes.ok);
      },
      (err: unknown) => {
        log.error('drain failed', { err });
        process.exit(exitCodes.internal);
      },
    );
  };

  // Handlers go in before anything starts: until a handler exists the kernel's default action kills the
  // process outright, so a supervisor signalling right after readiness would skip the drain.
  const onStopSignal = (signal: NodeJS.Signals): void => {
    if (stopSignal !== undefined) {
      log.warn('second signal: stopping at once', { signal });
      node?.abort();
      process.exit(exitCodes.forced);
    }
    stopSignal = signal;
    if (node === undefined)
      log.info('stop requested during start-up; draining as soon as it completes', { signal });
    else drainAndExit(node, signal);
  };
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  process.on('SIGHUP', () => {
    if (node?.server !== undefined && stopSignal === undefined)
      reload(node.server, current, view, levelRef, log);
  });

  // A role change (promotion, fence, re-join) drains what runs and starts what the new role runs.
  for (;;) {
    try {
      node = await startNode(current.loaded, log, view);
    } catch (err) {
      const exitCode = err instanceof StartupError ? exitCodes[err.exitCode] : exitCodes.internal;
      log.error('start-up failed', { error: err instanceof Error ? err.message : String(err), exitCode });
      process.stderr.write(`vigosrv: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(exitCode);
    }
    if (stopSignal !== undefined) {
      drainAndExit(node, stopSignal);
      return;
    }
    const running = node;
    log.info('ready', {
      dataDir: running.server?.paths.dataDir,
      caFile: running.caFile,
      grpcPort: running.grpcPort,
      apiPort: running.apiPort,
      bootId: running.server?.bootId,
      mode: loaded.mode,
      role: running.role,
    });
    if (running.server !== undefined) printBanner(running.server, loaded);
    else printStandbyBanner(running, loaded);
    notifyReady(loaded.notifyFd, log);
    void notifier.ready(
      running.server !== undefined
        ? `serving: API port ${running.apiPort}, agent port ${running.grpcPort}`
        : `${running.role}: API port ${running.apiPort}, agent port ${running.grpcPort} (redirects to the primary)`,
    );
    const change = await running.roleChange;
    if (stopSignal !== undefined) return;
    log.warn('replication role changes: restarting in the new role', { change });
    node = undefined;
    await running.drain(`role change: ${change}`);
    if (stopSignal !== undefined) process.exit(exitCodes.ok);
  }
}

// Before anything is written: a full disk or a closed pipe on stdout/stderr must not end the server.
guardStandardStreams();

process.on('uncaughtException', (err) => {
  process.stderr.write(`vigosrv: unexpected error: ${err.stack ?? err.message}\n`);
  process.exit(exitCodes.internal);
});

await main();
