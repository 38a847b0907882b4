/**
 * What GET /bootstrap and its companions serve: the rendered install script, the agent artifact and
 * its checksum, and the CA certificate. The template and the unit file are read when the service is
 * created, so a broken installation fails at startup rather than on a host's first request.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/index.ts';
import { createAgentArtifactSource } from './agent-artifact.ts';
import type { AgentArtifact, AgentArtifactSource } from './agent-artifact.ts';
import type { InstallCommand } from './install-command.ts';
import { renderInstallCommand } from './install-command.ts';
import {
  bootstrapTemplateFile,
  checkUnitFileText,
  loadBootstrapTemplate,
  renderBootstrapScript,
} from './script.ts';

const repoRoot = path.join(import.meta.dirname, '..', '..');

/** Where a source checkout keeps what the service needs. */
export const bootstrapDefaults = {
  agentEntry: path.join(repoRoot, 'agent', 'main.ts'),
  rootDir: repoRoot,
  unitFile: path.join(repoRoot, 'deploy', 'vigo-envoy.service'),
  templateFile: bootstrapTemplateFile,
} as const;

export interface BootstrapServiceOptions {
  readonly serverVersion: string;
  readonly caCertPem: string;
  /**
   * host:port of the HTTPS API as hosts reach it: server.hostname and the bound API port (see
   * apiDialAddress). Read on every request, so it may be called before the listener is bound as long as
   * requests come after. Never taken from a request, so the script cannot be pointed elsewhere.
   */
  readonly serverAddress: () => string;
  /** Build cache, e.g. <data-dir>/bootstrap. */
  readonly cacheDir: string;
  readonly log: Logger;
  readonly agentEntry?: string;
  readonly rootDir?: string;
  readonly unitFile?: string;
  readonly templateFile?: string;
  readonly buildRetryAfterMs?: number;
  readonly nowMs?: () => number;
}

export interface BootstrapService {
  /** The install script with this server's address in it. */
  script(): string;
  caCertPem(): string;
  /** The agent module; rejects with VigoError `bootstrap.agent_unavailable` when it cannot be built. */
  artifact(): Promise<AgentArtifact>;
  /** The one line an operator pastes on a new host (see install-command.ts). */
  installCommand(): InstallCommand;
}

/** The address hosts dial: `host:port`, with an IPv6 literal in brackets. */
export function apiDialAddress(hostname: string, apiPort: number): string {
  return `${hostname.includes(':') ? `[${hostname}]` : hostname}:${apiPort}`;
}

export function createBootstrapService(options: BootstrapServiceOptions): BootstrapService {
  const template = loadBootstrapTemplate(options.templateFile ?? bootstrapDefaults.templateFile);
  const unitFile = options.unitFile ?? bootstrapDefaults.unitFile;
  const unitFileText = readFileSync(unitFile, 'utf8');
  checkUnitFileText(unitFileText, unitFile);
  const artifacts: AgentArtifactSource = createAgentArtifactSource({
    entry: options.agentEntry ?? bootstrapDefaults.agentEntry,
    rootDir: options.rootDir ?? bootstrapDefaults.rootDir,
    cacheDir: options.cacheDir,
    serverVersion: options.serverVersion,
    log: options.log,
    retryAfterMs: options.buildRetryAfterMs,
    nowMs: options.nowMs,
  });
  return {
    script: () =>
      renderBootstrapScript({
        template,
        serverAddress: options.serverAddress(),
        serverVersion: options.serverVersion,
        unitFileText,
      }),
    caCertPem: () => options.caCertPem,
    artifact: () => artifacts.get(),
    installCommand: () =>
      renderInstallCommand({ serverAddress: options.serverAddress(), caCertPem: options.caCertPem }),
  };
}
