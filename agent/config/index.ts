/** The agent's own settings: /etc/vigo/agent.yaml (documented by agent.example.yaml beside this file). */
export {
  AgentConfigError,
  defaultAgentConfig,
  defaultAgentConfigFile,
  loadAgentConfig,
  parseAgentConfig,
} from './load.ts';
export type { AgentConfig } from './load.ts';
