/**
 * One server's place among its peers: its persisted role and epoch, its peer listener, and what its role
 * runs — a primary ships images and files to every standby that follows it and checks its peers' epochs; a
 * standby follows the first peer that answers as primary at an epoch no lower than its own. A primary that
 * meets a higher epoch (a promoted standby) records itself as fenced and reports it, never to act as primary
 * again until an operator re-joins it as a standby.
 */
import { createHash } from 'node:crypto';
import type tls from 'node:tls';
import type { Logger } from '../core/index.ts';
import type { PeerConfig } from './config.ts';
import type { RootDirs } from './files.ts';
import { buildManifest } from './files.ts';
import { followBatches } from './follow.ts';
import { dialPeer, listenForPeers } from './link.ts';
import type { PeerIdentity } from './peer-identity.ts';
import { Replica } from './replica.ts';
import type { Cycle, StandbyLinkStatus } from './ship.ts';
import { StandbySession, receiveHashes, sendHashes } from './ship.ts';
import type { DatabaseImage, Snapshotter } from './snapshot.ts';
import { startSnapshotter } from './snapshot.ts';
import type { ReplicationState, Role } from './state.ts';
import { writeState } from './state.ts';
import type { FrameChannel } from './wire.ts';
import { intField, textField } from './wire.ts';

export interface ReplicationOptions {
  readonly dataDir: string;
  readonly name: string;
  readonly listen: { host: string; port: number };
  readonly peers: readonly PeerConfig[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly dirs: RootDirs;
  readonly dbFile: string;
  readonly busyTimeoutMs: number;
  readonly identity: PeerIdentity;
  readonly log: Logger;
}

export interface FollowStatus {
  primary: string;
  connected: boolean;
  lastAppliedAtMs: number | undefined;
  /** Snapshot time (the primary's clock) of the last image applied. */
  takenAtMs: number | undefined;
  batches: number;
  lastError: string;
}

export interface ReplicationStatus {
  readonly name: string;
  readonly role: Role;
  readonly epoch: number;
  readonly primary: string;
  readonly fingerprint: string;
  readonly listenPort: number;
  readonly peers: readonly { name: string; agentAddress: string }[];
  readonly standbys: readonly StandbyLinkStatus[];
  readonly follow: FollowStatus | undefined;
}

/** A standby's page hashes are held in memory: at most this many pages (64 GiB of 4 KiB pages). */
const maxStandbyPages = 1 << 24;

interface Hello {
  name: string;
  epoch: number;
  role: Role;
  primary: string;
  intent: 'probe' | 'follow' | 'answer';
}

function readHello(header: Record<string, unknown>): Hello {
  const role = textField(header, 'role', 16) as Role;
  const intent = textField(header, 'intent', 16) as Hello['intent'];
  return {
    name: textField(header, 'name', 64),
    epoch: intField(header, 'epoch'),
    role: ['primary', 'standby', 'fenced'].includes(role) ? role : 'fenced',
    primary: textField(header, 'primary', 64),
    intent: ['probe', 'follow', 'answer'].includes(intent) ? intent : 'probe',
  };
}

export class ReplicationNode {
  private server: tls.Server | undefined;
  private snapshotter: Snapshotter | undefined;
  private readonly sessions = new Set<StandbySession>();
  private cycle: Cycle | undefined;
  private readonly cycleWaiters: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private followStatus: FollowStatus | undefined;
  private followChannel: FrameChannel | undefined;
  private readonly links = new Set<FrameChannel>();
  readonly replica: Replica;
  /** Called once when this primary learns of a higher epoch; the state is already persisted as fenced. */
  onFenced: (by: { peer: string; epoch: number }) => void = () => undefined;

  constructor(
    private readonly options: ReplicationOptions,
    private current: ReplicationState,
  ) {
    this.replica = new Replica(options.dataDir);
  }

  get state(): ReplicationState {
    return this.current;
  }

  /** Records a new state (role change, a higher epoch learnt) before anything acts on it. */
  setState(next: Omit<ReplicationState, 'changedAtMs'>): void {
    this.current = { ...next, changedAtMs: Date.now() };
    writeState(this.options.dataDir, this.current);
  }

  /** Opens the peer listener: probes are answered in every role; images are shipped by a primary. */
  async listen(): Promise<void> {
    const { log } = this.options;
    this.server = await listenForPeers({
      identity: this.options.identity,
      peers: () => this.options.peers,
      host: this.options.listen.host,
      port: this.options.listen.port,
      handshakeTimeoutMs: this.options.timeoutMs,
      onRefused: (why, remote) => log.warn('peer link refused', { remote, why }),
      onLink: (channel, peer) => {
        this.links.add(channel);
        channel.socket.once('close', () => this.links.delete(channel));
        this.serveLink(channel, peer).catch((err: unknown) => {
          channel.close();
          if (!this.stopped)
            log.warn('peer link ended', {
              peer: peer.name,
              error: err instanceof Error ? err.message : String(err),
            });
        });
      },
    });
  }

  get listenPort(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  private hello(intent: Hello['intent']): Hello {
    return {
      name: this.options.name,
      epoch: this.current.epoch,
      role: this.current.role,
      primary: this.current.primary,
      intent,
    };
  }

  /** A higher epoch seen from `peer`: a primary fences itself, anyone records the epoch. */
  private learnEpoch(peer: string, epoch: number, peerIsPrimary: boolean): void {
    if (epoch <= this.current.epoch) return;
    if (this.current.role === 'primary') {
      this.options.log.error(
        'a peer is primary at a higher epoch: this server is fenced and stops acting as primary',
        {
          peer,
          epoch,
          ownEpoch: this.current.epoch,
        },
      );
      this.setState({
        role: 'fenced',
        epoch,
        primary: peer,
        reason: `peer ${peer} is primary at epoch ${epoch}`,
      });
      this.onFenced({ peer, epoch });
    } else this.setState({ ...this.current, epoch, primary: peerIsPrimary ? peer : this.current.primary });
  }

  private async serveLink(channel: FrameChannel, peer: PeerConfig): Promise<void> {
    const theirs = readHello((await channel.next(this.options.timeoutMs, ['hello'])).header);
    await channel.send('hello', this.hello('answer'));
    this.learnEpoch(peer.name, theirs.epoch, theirs.role === 'primary');
    if (theirs.intent !== 'follow') {
      channel.close();
      return;
    }
    if (this.current.role !== 'primary' || this.snapshotter === undefined) {
      await channel.send('error', {
        code: 'replication.not_primary',
        message: `${this.options.name} is ${this.current.role}`,
      });
      channel.close();
      return;
    }
    const baseline = await receiveHashes(channel, this.options.timeoutMs, maxStandbyPages);
    const session = new StandbySession(
      channel,
      peer.name,
      baseline,
      () => this.current.epoch,
      this.options.dirs,
      this.options.timeoutMs,
      this.options.log,
    );
    this.sessions.add(session);
    this.options.log.info('standby following', { peer: peer.name, pages: baseline.length / 16 });
    try {
      while (!this.stopped && this.current.role === 'primary') {
        const cycle = await this.nextCycle();
        if (this.stopped || this.current.role !== 'primary') break;
        await session.ship(cycle);
      }
    } finally {
      this.sessions.delete(session);
      channel.close();
    }
  }

  /** The next cycle's image and manifest (each standby ships the newest one when it is ready for it). */
  private nextCycle(): Promise<Cycle> {
    return new Promise((resolve) => {
      this.cycleWaiters.push(() => resolve(this.cycle!));
    });
  }

  private async takeCycle(): Promise<void> {
    const snapshotter = this.snapshotter;
    if (snapshotter === undefined) return;
    const taken = await snapshotter.take(this.cycle === undefined);
    let image: DatabaseImage;
    if (taken === 'unchanged') {
      // Nothing committed: the image still stands; it is re-sent (empty) as the heartbeat that measures lag.
      image = { ...this.cycle!.image, takenAtMs: Date.now() };
    } else image = taken;
    const { entries, skipped } = await buildManifest(this.options.dirs);
    if (skipped.length > 0)
      this.options.log.warn('files too large or too many to ship to standbys', {
        skipped: skipped.slice(0, 20),
      });
    const manifestSha = createHash('sha256').update(JSON.stringify(entries)).digest('hex');
    this.cycle = { image, manifest: entries, manifestSha };
    for (const wake of this.cycleWaiters.splice(0)) wake();
  }

  /** Primary: snapshot each interval for the standbys, and check the peers' epochs. */
  startShipping(): void {
    this.snapshotter = startSnapshotter({
      file: this.options.dbFile,
      busyTimeoutMs: this.options.busyTimeoutMs,
    });
    let busy = false;
    const tick = (): void => {
      // Images are taken only while a standby waits for one: a primary whose standbys are away copies nothing.
      if (busy || this.stopped || this.current.role !== 'primary' || this.cycleWaiters.length === 0) return;
      busy = true;
      this.takeCycle()
        .catch((err: unknown) =>
          this.options.log.error('replication snapshot failed', { error: String(err) }),
        )
        .finally(() => (busy = false));
    };
    tick();
    this.timers.push(setInterval(tick, this.options.intervalMs));
    const probe = (): void => void this.probePeers();
    this.timers.push(setInterval(probe, Math.max(this.options.intervalMs, 1000) * 5));
    for (const timer of this.timers) timer.unref();
  }

  /** Asks every peer its role and epoch; a primary that learns of a higher epoch fences itself. */
  async probePeers(timeoutMs = this.options.timeoutMs): Promise<void> {
    await Promise.all(
      this.options.peers.map(async (peer) => {
        let channel: FrameChannel | undefined;
        try {
          channel = await dialPeer(this.options.identity, peer, timeoutMs);
          await channel.send('hello', this.hello('probe'));
          const theirs = readHello((await channel.next(timeoutMs, ['hello'])).header);
          this.learnEpoch(peer.name, theirs.epoch, theirs.role === 'primary');
          if (
            theirs.role === 'primary' &&
            theirs.epoch === this.current.epoch &&
            this.current.role === 'primary'
          )
            this.options.log.error(
              'two primaries at the same epoch: promote one with vigocli server promote',
              {
                peer: peer.name,
                epoch: theirs.epoch,
              },
            );
        } catch {
          // An unreachable peer cannot show a higher epoch; it is asked again at the next probe.
        } finally {
          channel?.close();
        }
      }),
    );
  }

  /** Standby: follow the peer that is primary, reconnecting (and catching up) whenever the link ends. */
  startFollowing(): void {
    const status: FollowStatus = {
      primary: '',
      connected: false,
      lastAppliedAtMs: undefined,
      takenAtMs: this.replica.meta()?.takenAtMs,
      batches: 0,
      lastError: '',
    };
    this.followStatus = status;
    const recovered = this.replica.recover();
    if (recovered !== 'none') this.options.log.info('replica journal recovered', { action: recovered });
    const loop = async (): Promise<void> => {
      while (!this.stopped && this.current.role === 'standby') {
        for (const peer of this.options.peers) {
          if (this.stopped || this.current.role !== 'standby') return;
          try {
            await this.followPeer(peer, status);
          } catch (err) {
            status.connected = false;
            status.lastError = err instanceof Error ? err.message : String(err);
            if (!this.stopped)
              this.options.log.warn('not following peer', { peer: peer.name, error: status.lastError });
          } finally {
            this.followChannel?.close();
            this.followChannel = undefined;
          }
        }
        if (!this.stopped)
          await new Promise((resolve) => this.timers.push(setTimeout(resolve, this.options.intervalMs)));
      }
    };
    void loop();
  }

  private async followPeer(peer: PeerConfig, status: FollowStatus): Promise<void> {
    const channel = await dialPeer(this.options.identity, peer, this.options.timeoutMs);
    this.followChannel = channel;
    await channel.send('hello', this.hello('follow'));
    const theirs = readHello((await channel.next(this.options.timeoutMs, ['hello'])).header);
    if (theirs.role !== 'primary') throw new Error(`${peer.name} is ${theirs.role}, not primary`);
    if (theirs.epoch < this.current.epoch)
      throw new Error(
        `${peer.name} is primary at epoch ${theirs.epoch}, below this server's ${this.current.epoch}: it is stale`,
      );
    this.learnEpoch(peer.name, theirs.epoch, true);
    if (this.current.primary !== peer.name) this.setState({ ...this.current, primary: peer.name });
    const pageSize = this.replica.meta()?.pageSize ?? 4096;
    await sendHashes(channel, this.replica.pageHashes(pageSize).hashes);
    status.primary = peer.name;
    status.connected = true;
    status.lastError = '';
    this.options.log.info('following primary', { peer: peer.name, epoch: theirs.epoch });
    await followBatches({
      channel,
      replica: this.replica,
      dirs: this.options.dirs,
      pageSize,
      timeoutMs: this.options.timeoutMs,
      log: this.options.log,
      onApplied: (batch) => {
        status.batches += 1;
        status.lastAppliedAtMs = Date.now();
        status.takenAtMs = batch.takenAtMs;
      },
    });
  }

  status(): ReplicationStatus {
    return {
      name: this.options.name,
      role: this.current.role,
      epoch: this.current.epoch,
      primary: this.current.role === 'primary' ? this.options.name : this.current.primary,
      fingerprint: this.options.identity.fingerprint,
      listenPort: this.listenPort,
      peers: this.options.peers.map((peer) => ({ name: peer.name, agentAddress: peer.agentAddress })),
      standbys: [...this.sessions].map((session) => ({ ...session.status })),
      follow: this.followStatus === undefined ? undefined : { ...this.followStatus },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.followChannel?.close();
    for (const channel of this.links) channel.close();
    for (const wake of this.cycleWaiters.splice(0)) wake();
    await this.snapshotter?.stop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
