/** The agent's version, reported at check-in; its own module so `vigo --help` loads nothing else. */
export const agentVersion = '0.1.0';
