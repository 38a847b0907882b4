/**
 * docker {installed, engine, client_version, server_version, daemon_running}: whether a container engine
 * CLI is installed (docker first, then podman), its version and, for docker, whether the daemon
 * answers. Asked through `<cli> version --format '{{json .}}'`, bounded to 5 seconds: a hung daemon
 * makes the CLI wait for ever. A host with neither reports installed false.
 */
import type { CommandResult } from '../executors/types.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

const commandTimeoutMs = 5000;

function versionOf(part: unknown): string | null {
  const v = (part as { Version?: unknown } | null)?.Version;
  return typeof v === 'string' && /^[0-9A-Za-z.+~_-]{1,64}$/.test(v) ? v : null;
}

/** The client and server versions in `version --format '{{json .}}'` output (the server part may be null). */
export function parseVersionJson(stdout: string): { client: string | null; server: string | null } | null {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('{'));
  if (line === undefined) return null;
  try {
    const doc = JSON.parse(line) as Record<string, unknown>;
    return { client: versionOf(doc.Client), server: versionOf(doc.Server) };
  } catch {
    return null;
  }
}

async function ask(env: TraitEnv, cli: string): Promise<CommandResult> {
  return env.run(cli, ['version', '--format', '{{json .}}'], {
    timeoutMs: commandTimeoutMs,
    env: { LC_ALL: 'C' },
  });
}

export const dockerCollector: TraitCollector = {
  name: 'docker',
  volatile: false,
  timeoutMs: 2 * commandTimeoutMs + 1000,
  async collect(env) {
    for (const engine of ['docker', 'podman'] as const) {
      const result = await ask(env, engine);
      if (result.exitCode === 127) continue;
      const versions = parseVersionJson(result.stdout);
      if (versions === null && result.timedOut)
        throw new Error(`${engine} version did not answer within ${commandTimeoutMs} ms`);
      // podman runs without a daemon: its own version is the engine's.
      const server =
        engine === 'podman' ? (versions?.server ?? versions?.client ?? null) : (versions?.server ?? null);
      return {
        docker: {
          installed: true,
          engine,
          client_version: versions?.client ?? null,
          server_version: server,
          daemon_running: server !== null,
        },
      };
    }
    return {
      docker: {
        installed: false,
        engine: null,
        client_version: null,
        server_version: null,
        daemon_running: false,
      },
    };
  },
};
