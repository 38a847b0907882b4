export { apiDialAddress, bootstrapDefaults, createBootstrapService } from './service.ts';
export type { BootstrapService, BootstrapServiceOptions } from './service.ts';
export { agentBuildRecipe, createAgentArtifactSource, defaultBuildRetryAfterMs } from './agent-artifact.ts';
export type { AgentArtifact, AgentArtifactOptions, AgentArtifactSource } from './agent-artifact.ts';
export { artifactFileName, artifactKey } from './artifact-cache.ts';
export { renderBootstrapScript, shellQuote } from './script.ts';
export { caFingerprintSha256, defaultTokenFileName, renderInstallCommand } from './install-command.ts';
export type { InstallCommand } from './install-command.ts';
