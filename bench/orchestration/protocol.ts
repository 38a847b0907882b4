/** Messages between bench/orchestration.ts and its simulated-agent processes (IPC, structured clone). */

export interface AgentsInit {
  keysFile: string;
  certsFile: string;
  keyFile: string;
  caFile: string;
  /** This process speaks for envoys [first, first + count) of the keys file. */
  first: number;
  count: number;
  grpcPort: number;
  /** Connections being opened at once. */
  concurrency: number;
}

export type ToAgents = { type: 'init'; init: AgentsInit } | { type: 'stats' } | { type: 'exit' };

export interface AgentStats {
  streamsOpen: number;
  tasksAnswered: number;
  queriesAnswered: number;
  /** Streams the server ended, by how. */
  ended: Record<string, number>;
  cpuUs: number;
}

export type FromAgents =
  | { type: 'ready'; open: number; failed: number; errors: Record<string, number>; ms: number }
  | { type: 'stats'; stats: AgentStats }
  | { type: 'failed'; message: string };
