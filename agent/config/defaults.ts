/** Where the agent's settings live; its own module so `vigo --help` can name it without loading YAML. */
export const defaultAgentConfigFile = '/etc/vigo/agent.yaml';
