/** Messages between bench/held-connections.ts, its client processes and the probe inside vigosrv. */

export interface ClientInit {
  port: number;
  caFile: string;
  clientKeyFile: string;
  clientCertFile: string;
  /** The keys file of the seeded envoys. */
  envoysFile: string;
  /**
   * The first of the `concurrency` envoys this process checks in as, one per connection being set up at
   * once (an envoy's calls must arrive in timestamp order). What a server keeps per envoy (its index
   * entry, its parsed key) is paid once per envoy however it connects, so a few envoys over many
   * connections leave only what each connection costs.
   */
  firstEnvoy: number;
  /** Connections this process opens. */
  count: number;
  /**
   * Signed CheckIns made on each connection once it is open (the agent makes one right after connecting,
   * then one per interval for as long as it holds the connection); 0 = none.
   */
  checkInsPerConnection: number;
  /** Connections being set up at once. */
  concurrency: number;
}

export type ToClient = { type: 'open'; init: ClientInit } | { type: 'close' } | { type: 'exit' };

export type FromClient =
  | { type: 'opened'; open: number; failed: number; firstError: string | undefined; checkInsOk: number }
  | { type: 'closed' }
  | { type: 'failed'; message: string };

export type ToProbe = { type: 'measure' } | { type: 'snapshot'; file: string };

export interface ServerMemory {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Open file descriptors: sockets held by the server. */
  openFds: number;
}

export type FromProbe = { type: 'memory'; memory: ServerMemory } | { type: 'snapshot'; file: string };
