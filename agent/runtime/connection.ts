/**
 * How the agent connects, as every CheckIn reply says (agent.proto, "Connection modes"):
 *
 * - held (the default, and what the agent does before its first reply): one channel for the life of the
 *   process, with the AgentStream held on it;
 * - poll: a channel per cycle (check-in, results, secrets), closed when the cycle's calls are done, unless
 *   the reply said open_stream: then the stream is opened on that channel, and the channel closes once the
 *   stream has been released (idle for stream_idle_release_ms).
 *
 * Every channel resumes the TLS session the previous one received, and shares one envelope clock.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../server/core/index.ts';
import { ConnectionMode, createEnvelopeClock } from '../../protocol/index.ts';
import type { CheckInResponse } from '../../protocol/index.ts';
import { ServerLink } from './server-link.ts';
import type { LoadedIdentity } from './state-dir.ts';
import { StreamKeeper, defaultStreamKeeperTimings } from './stream-keeper.ts';
import type { StreamKeeperTimings, StreamWork } from './stream-keeper.ts';
import { TlsSessionCache, resumingCredentials } from './tls-session.ts';
import { cleanServerList } from './server-list.ts';

/** How long a stream opened for open_stream stays when the server names no time (agent.proto). */
export const defaultStreamIdleReleaseMs = 60_000;

export type ConnectionModeName = 'held' | 'poll';

export interface AgentConnectionOptions {
  readonly loaded: LoadedIdentity;
  readonly log: Logger;
  /** Whether this process holds streams (the daemon does; a single `vigo run --once` never opens one). */
  readonly holdStreams: boolean;
  /** The policy_version of the bundle the agent holds, for the stream's Hello. */
  readonly policyVersion: () => number;
  /** The server asked for a check-in now (ForcePush on the stream). */
  readonly onForcePush?: (reason: string, traceparent: string) => void;
  readonly streamTimings?: Partial<StreamKeeperTimings>;
  /** Runs the tasks and live queries the server pushes on the stream. */
  readonly work?: StreamWork;
  /** The servers known from earlier replies (servers.json), primary first; the enrolled one without. */
  readonly servers?: readonly string[];
  /** A reply named a new server list: keep it for the next start. */
  readonly onServers?: (servers: readonly string[]) => void;
}

export class AgentConnection {
  /** The TLS session offered on each new connection, and how handshakes went. */
  readonly sessions = new TlsSessionCache();
  readonly #options: AgentConnectionOptions;
  readonly #credentials = new Map<string, grpc.ChannelCredentials>();
  #servers: string[];
  #current = 0;
  readonly #clock = createEnvelopeClock();
  readonly #timings: StreamKeeperTimings;
  #mode: ConnectionModeName = 'held';
  #link: ServerLink | undefined;
  #keeper: StreamKeeper | undefined;
  #inCycle = false;
  #closed = false;

  constructor(options: AgentConnectionOptions) {
    this.#options = options;
    this.#servers =
      options.servers !== undefined && options.servers.length > 0
        ? [...options.servers]
        : [options.loaded.identity.grpcAddress];
    this.#credentialsFor(this.#servers[0]!);
    this.#timings = { ...defaultStreamKeeperTimings, ...options.streamTimings };
  }

  /** host:port of the server this connection uses now. */
  get address(): string {
    return this.#servers[this.#current] ?? this.#options.loaded.identity.grpcAddress;
  }

  /** How many servers the agent knows (1 without standby peers). */
  get serverCount(): number {
    return this.#servers.length;
  }

  /**
   * Moves to another server (the redirect's `primary` when given, else the next in the list) and returns
   * the cycle's channel to it; the stream, if held, is reopened there by the next reply.
   */
  failover(primary: string | undefined): ServerLink {
    this.#keeper?.stop();
    this.#keeper = undefined;
    this.#closeLink();
    const named = primary === undefined || primary === '' ? -1 : this.#servers.indexOf(primary);
    if (primary !== undefined && primary !== '' && named === -1) {
      this.#servers.push(primary);
      this.#current = this.#servers.length - 1;
    } else this.#current = named !== -1 ? named : (this.#current + 1) % this.#servers.length;
    this.#options.log.warn('moving to another server', { server: this.address });
    return this.#ensureLink();
  }

  #credentialsFor(address: string): grpc.ChannelCredentials {
    let credentials = this.#credentials.get(address);
    if (credentials === undefined) {
      const host = grpc.experimental.splitHostPort(address)?.host;
      if (host === undefined) throw new Error(`cannot read the server address ${address}`);
      const { loaded } = this.#options;
      credentials = resumingCredentials({
        caPem: loaded.caPem,
        keyPem: loaded.tlsKeyPem,
        certPem: loaded.tlsCertPem,
        host,
        sessions: this.sessions,
      });
      this.#credentials.set(address, credentials);
    }
    return credentials;
  }

  /** The mode the latest reply named (held before the first). */
  get mode(): ConnectionModeName {
    return this.#mode;
  }

  /** Whether a channel is open now. */
  get linkOpen(): boolean {
    return this.#link !== undefined;
  }

  /** Whether the agent holds an AgentStream now (open, or held and about to be reopened). */
  get streamKept(): boolean {
    return this.#keeper !== undefined;
  }

  /** The channel for this cycle's calls, opened if none is. */
  beginCycle(): ServerLink {
    if (this.#closed) throw new Error('the connection is closed');
    this.#inCycle = true;
    return this.#ensureLink();
  }

  /** Follows what a CheckIn reply says about connecting. */
  followReply(reply: CheckInResponse): void {
    this.#learnServers(reply.servers);
    this.#mode = reply.connection === ConnectionMode.POLL ? 'poll' : 'held';
    if (!this.#options.holdStreams || this.#closed) return;
    if (this.#mode === 'held') this.#keepStream(undefined);
    else if (reply.openStream) {
      this.#keepStream(
        reply.streamIdleReleaseMs > 0 ? reply.streamIdleReleaseMs : defaultStreamIdleReleaseMs,
      );
    } else if (this.#keeper?.held === true) {
      // Switched from held to poll: the stream goes with the channel.
      this.#keeper.stop();
      this.#keeper = undefined;
    }
  }

  /** The cycle's calls are done: a polling agent closes its channel unless a stream holds it. */
  endCycle(): void {
    this.#inCycle = false;
    if (this.#mode === 'poll' && this.#keeper === undefined) this.#closeLink();
  }

  close(): void {
    this.#closed = true;
    this.#keeper?.stop();
    this.#keeper = undefined;
    this.#closeLink();
  }

  /** The reply's list replaces the held one; the server that answered stays the current one. */
  #learnServers(list: readonly string[]): void {
    const servers = cleanServerList(list);
    if (servers.length === 0 || servers.join(',') === this.#servers.join(',')) return;
    const address = this.address;
    this.#servers = servers.includes(address) ? servers : [address, ...servers];
    this.#current = this.#servers.indexOf(address);
    this.#options.onServers?.(this.#servers);
  }

  #ensureLink(): ServerLink {
    this.#link ??= new ServerLink(this.#options.loaded, {
      credentials: this.#credentialsFor(this.address),
      clock: this.#clock,
      address: this.address,
    });
    return this.#link;
  }

  #closeLink(): void {
    this.#link?.close();
    this.#link = undefined;
  }

  #keepStream(releaseAfterMs: number | undefined): void {
    if (this.#keeper !== undefined) {
      this.#keeper.setRelease(releaseAfterMs);
      return;
    }
    const keeper: StreamKeeper = new StreamKeeper(
      {
        link: this.#ensureLink(),
        log: this.#options.log,
        timings: this.#timings,
        policyVersion: this.#options.policyVersion,
        onForcePush: (reason, traceparent) => this.#options.onForcePush?.(reason, traceparent),
        work: this.#options.work,
        onReleased: () => {
          if (this.#keeper !== keeper) return;
          this.#keeper = undefined;
          if (this.#mode === 'poll' && !this.#inCycle) this.#closeLink();
        },
      },
      releaseAfterMs,
    );
    this.#keeper = keeper;
  }
}
