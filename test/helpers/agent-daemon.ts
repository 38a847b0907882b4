/**
 * The real reference agent for end-to-end tests: `vigo enroll` against a running vigosrv, then `vigo
 * daemon`, which checks in and holds its AgentStream. Its output is kept for failure messages; `stop`
 * ends it with SIGTERM and waits.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadyServer } from './server-process.ts';
import { repoRoot } from './server-process.ts';
import { cleanCliEnv } from './vigocli.ts';

export const vigoBin = join(repoRoot, 'bin', 'vigo');

export interface VigoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One `vigo` command on the agent whose state is in `stateDir`, with `home` as its HOME. */
export function runVigo(stateDir: string, home: string, args: string[]): Promise<VigoRun> {
  return new Promise((resolve) => {
    execFile(
      vigoBin,
      [...args, '--state-dir', stateDir, '--log-level', 'warn'],
      { env: cleanCliEnv(home), timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
    );
  });
}

export interface AgentDaemon {
  readonly hostname: string;
  readonly envoyId: string;
  readonly stateDir: string;
  /** What the daemon wrote so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Enrolls `hostname` with `enrollToken` and starts its daemon; the daemon's state lives under `home`. */
export async function startAgentDaemon(
  server: ReadyServer,
  options: { hostname: string; enrollToken: string; home: string; logLevel?: string },
): Promise<AgentDaemon> {
  const stateDir = join(options.home, options.hostname);
  const enrolled = await runVigo(stateDir, options.home, [
    'enroll',
    '--server',
    `127.0.0.1:${server.apiPort}`,
    '--token',
    options.enrollToken,
    '--ca',
    join(server.dataDir, 'tls', 'ca.crt'),
    '--hostname',
    options.hostname,
  ]);
  if (enrolled.code !== 0) throw new Error(`vigo enroll ${options.hostname} failed: ${enrolled.stderr}`);
  const { envoyId } = JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8')) as {
    envoyId: string;
  };
  return spawnDaemon({ hostname: options.hostname, envoyId, stateDir, home: options.home }, options.logLevel);
}

/** Starts the daemon of an agent enrolled before (its state kept in `stateDir`) again. */
export function resumeAgentDaemon(agent: AgentDaemon, home: string, logLevel?: string): AgentDaemon {
  return spawnDaemon(
    { hostname: agent.hostname, envoyId: agent.envoyId, stateDir: agent.stateDir, home },
    logLevel,
  );
}

function spawnDaemon(
  agent: { hostname: string; envoyId: string; stateDir: string; home: string },
  logLevel = 'info',
): AgentDaemon {
  let log = '';
  const child: ChildProcess = spawn(
    vigoBin,
    ['daemon', '--state-dir', agent.stateDir, '--log-level', logLevel],
    {
      env: cleanCliEnv(agent.home),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  return {
    hostname: agent.hostname,
    envoyId: agent.envoyId,
    stateDir: agent.stateDir,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** AgentStreams the server counts open (vigo_agent_streams_open). */
export async function streamsOpen(server: ReadyServer, adminToken: string): Promise<number> {
  const metrics = await server.request('/metrics', { headers: { authorization: `Bearer ${adminToken}` } });
  return Number(/^vigo_agent_streams_open (\d+)$/m.exec(metrics.body)?.[1] ?? 0);
}
