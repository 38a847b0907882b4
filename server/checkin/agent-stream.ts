/**
 * AgentStream, server side. Streams are bounded both before and after the agent proves who it is:
 *
 * - before its Hello a stream is unauthenticated (TLS only proves the certificate), so each client
 *   certificate may hold only a few such streams, and each must send its Hello within a short time;
 * - after its Hello the stream belongs to its envoy, and an envoy has at most one: a newer stream replaces
 *   the older, which is ended with stream.replaced.
 *
 * Every message is verified as it arrives, and takes effect, in order, once its replay watermark is durable.
 * A stream that has said Hello marks its envoy's entry (streamOpen), and clears the server's wish for it
 * (streamRequested); a drain ends every stream with server.draining, so that no stream holds the drain up.
 *
 * Work travels over the streams through `send` (server to agent) and the attached `StreamWork` handlers
 * (agent to server: TaskResult and QueryResult, each within its documented limits, and the news that an
 * envoy's stream opened so unfinished work can be dispatched again).
 */
import { protocolLimits, streamTimings } from '../../protocol/index.ts';
import type {
  AgentRpc,
  AgentStreamResponse,
  PayloadOf,
  QueryResult,
  SignedEnvelope,
  TaskResult,
} from '../../protocol/index.ts';
import type { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
import { streamProblem } from './payload-limits.ts';
import { rejection } from './rejection.ts';
import type { Rejection } from './rejection.ts';
import { EnvelopeRejection, callPeer } from './verify.ts';
import type { PeerCall } from './verify.ts';

/**
 * What a stream session uses of its call: grpc-js's duplex stream, or a stream relayed from a check-in
 * process (server/checkin/front). Ending it with a status is emitting 'error' with the status, as in
 * grpc-js.
 */
export interface AgentStreamCall extends PeerCall {
  readonly cancelled: boolean;
  readonly destroyed: boolean;
  on(event: 'data', listener: (request: { envelope?: SignedEnvelope }) => void): this;
  on(event: 'end' | 'cancelled' | 'error', listener: () => void): this;
  emit(event: 'error', status: Rejection): boolean;
  write(message: AgentStreamResponse): boolean;
  end(): void;
}

type StreamCall = AgentStreamCall;
type StreamRefusal = 'stream.pending_limit' | 'stream.hello_required';

export interface AgentStreamDeps {
  index: FleetIndex;
  now: () => number;
  verify(rpc: 'AgentStream', envelope: SignedEnvelope | undefined, call: PeerCall): EnvoyEntry;
  decode(rpc: 'AgentStream', envelope: SignedEnvelope | undefined): PayloadOf<'AgentStream'>;
  /** Resolves once the envoy's watermark, as just raised, is durable. */
  durable(entry: EnvoyEntry): Promise<void>;
  fail(rpc: AgentRpc, err: unknown): Rejection;
  /** Told each time a stream is ended for a stream.* reason (for the rejection metric). */
  onRefused(code: StreamRefusal): void;
  /** A StreamWork handler threw; the stream goes on. */
  onWorkError?(err: unknown): void;
  /** Default streamTimings.helloTimeoutMs. */
  helloTimeoutMs?: number;
}

/** What the orchestration side hears from the streams; every handler runs after the message is durable. */
export interface StreamWork {
  /** The envoy's stream said Hello: work it has not finished may be sent again. */
  opened?(entry: EnvoyEntry): void;
  /** The envoy's stream ended (its envoy may still open another). */
  closed?(entry: EnvoyEntry): void;
  taskResult?(entry: EnvoyEntry, result: TaskResult): void;
  queryResult?(entry: EnvoyEntry, result: QueryResult): void;
}

export interface AgentStreams {
  handle(call: StreamCall): void;
  /** Writes `message` to the envoy's open stream; false when it has none (nothing is queued). */
  send(envoyId: string, message: AgentStreamResponse): boolean;
  /** Whether the envoy has a stream that said Hello. */
  isOpen(envoyId: string): boolean;
  /** Adds handlers for what agents send; returns how to remove them. */
  attach(work: StreamWork): () => void;
  /** Streams that have said Hello and are open. */
  openCount(): number;
  /** Ends every stream with UNAVAILABLE server.draining (the server is stopping), and any opened later. */
  drain(): void;
}

export function createAgentStreams(deps: AgentStreamDeps): AgentStreams {
  const byEnvoy = new Map<string, StreamCall>();
  /** Streams without a verified Hello yet, by the client certificate they came with. */
  const pendingByPeer = new Map<string, number>();

  /** Counts one stream waiting for its Hello; returns how to stop counting it, or undefined when full. */
  const admit = (peer: string): (() => void) | undefined => {
    const count = pendingByPeer.get(peer) ?? 0;
    if (count >= protocolLimits.streamsAwaitingHelloPerPeer) return undefined;
    pendingByPeer.set(peer, count + 1);
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      const left = (pendingByPeer.get(peer) ?? 1) - 1;
      if (left === 0) pendingByPeer.delete(peer);
      else pendingByPeer.set(peer, left);
    };
  };

  const sessions = new Set<StreamSession>();
  const workers = new Set<StreamWork>();
  const tell = (deliver: (work: StreamWork) => void): void => {
    for (const work of workers) {
      try {
        deliver(work);
      } catch (err) {
        deps.onWorkError?.(err);
      }
    }
  };
  let draining = false;
  const drainingRefusal = (): Rejection =>
    rejection('server.draining', 'the server is stopping; open the stream again with backoff');

  const handle = (call: StreamCall): void => {
    if (draining) {
      call.emit('error', drainingRefusal());
      return;
    }
    const release = admit(callPeer(call).fingerprint ?? '');
    if (release === undefined) {
      deps.onRefused('stream.pending_limit');
      call.emit(
        'error',
        rejection(
          'stream.pending_limit',
          `this client certificate already holds ${protocolLimits.streamsAwaitingHelloPerPeer} streams ` +
            'that have not said Hello; finish or close them first',
        ),
      );
      return;
    }
    const session = new StreamSession(call, release, deps, byEnvoy, tell, () => sessions.delete(session));
    sessions.add(session);
  };

  return {
    handle,
    openCount: () => byEnvoy.size,
    send: (envoyId, message) => {
      const call = byEnvoy.get(envoyId);
      if (call === undefined || call.cancelled || call.destroyed) return false;
      call.write(message);
      return true;
    },
    isOpen: (envoyId) => byEnvoy.has(envoyId),
    attach: (work) => {
      workers.add(work);
      return () => workers.delete(work);
    },
    drain: () => {
      draining = true;
      for (const session of [...sessions]) session.end(drainingRefusal());
    },
  };
}

/** One stream's life: Hello first (within its deadline), then messages until it ends or goes idle. */
class StreamSession {
  #entry: EnvoyEntry | undefined;
  #helloSeen = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** Each message takes effect only once its watermark is durable, and in the order it arrived. */
  #applied: Promise<void> = Promise.resolve();

  constructor(
    private readonly call: StreamCall,
    private readonly releasePending: () => void,
    private readonly deps: AgentStreamDeps,
    private readonly byEnvoy: Map<string, StreamCall>,
    private readonly tell: (deliver: (work: StreamWork) => void) => void,
    private readonly onClosed: () => void,
  ) {
    const helloTimeoutMs = deps.helloTimeoutMs ?? streamTimings.helloTimeoutMs;
    this.#arm(helloTimeoutMs, () =>
      this.#helloRequired(`no Hello within ${helloTimeoutMs} ms of opening the stream`),
    );
    call.on('data', (request: { envelope?: SignedEnvelope }) => {
      try {
        const refusal = this.#receive(request);
        if (refusal !== undefined) this.#end(refusal);
      } catch (err) {
        this.#end(deps.fail('AgentStream', err));
      }
    });
    call.on('end', () => {
      this.#cleanup();
      call.end();
    });
    call.on('cancelled', () => this.#cleanup());
    call.on('error', () => this.#cleanup());
  }

  /** Verifies and queues one message; returns why the stream must end, if it must. */
  #receive(request: { envelope?: SignedEnvelope }): Rejection | undefined {
    const verified = this.deps.verify('AgentStream', request.envelope, this.call);
    const durable = this.deps.durable(verified);
    const payload = this.deps.decode('AgentStream', request.envelope);
    const hello = payload.kind.case === 'hello';
    if (!this.#helloSeen && !hello)
      return this.#helloRequired(
        `the first message of a stream must be Hello, not ${payload.kind.case ?? 'empty'}`,
      );
    if (this.#helloSeen && hello)
      throw new EnvelopeRejection('checkin.payload_invalid', 'hello is sent once, as the first message');
    const problem = streamProblem(payload);
    if (problem !== undefined) throw new EnvelopeRejection('checkin.payload_invalid', problem);
    if (hello) {
      this.#helloSeen = true;
      this.releasePending();
      if (this.#timer) clearTimeout(this.#timer);
    }
    this.#applied = this.#applied
      .then(() => durable)
      .then(
        () => this.#takeEffect(verified, payload),
        (err: unknown) => this.#end(this.deps.fail('AgentStream', err)),
      );
    return undefined;
  }

  #takeEffect(verified: EnvoyEntry, payload: PayloadOf<'AgentStream'>): void {
    if (this.#closed) return;
    const { kind } = payload;
    if (kind.case === 'hello') {
      this.#entry = verified;
      this.byEnvoy
        .get(verified.id)
        ?.emit('error', rejection('stream.replaced', 'a newer stream from the same envoy replaced this one'));
      this.byEnvoy.set(verified.id, this.call);
      verified.streamOpen = true;
      verified.streamRequested = false;
      this.tell((work) => work.opened?.(verified));
    } else if (kind.case === 'taskResult') {
      this.tell((work) => work.taskResult?.(verified, kind.value));
    } else if (kind.case === 'queryResult') {
      this.tell((work) => work.queryResult?.(verified, kind.value));
    }
    verified.lastSeenAtMs = this.deps.now();
    this.deps.index.markDirty(verified);
    this.#arm(streamTimings.idleTimeoutMs, () =>
      rejection('stream.idle', 'no message from the agent within the idle timeout'),
    );
  }

  #helloRequired(why: string): Rejection {
    this.deps.onRefused('stream.hello_required');
    return rejection('stream.hello_required', why);
  }

  #arm(ms: number, why: () => Rejection): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#end(why()), ms);
    this.#timer.unref();
  }

  /** Ends the stream with `refusal` (once). */
  end(refusal: Rejection): void {
    this.#end(refusal);
  }

  #end(refusal: Rejection): void {
    if (this.#closed) return;
    this.#cleanup();
    this.call.emit('error', refusal);
  }

  #cleanup(): void {
    this.#closed = true;
    this.releasePending();
    this.onClosed();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#entry && this.byEnvoy.get(this.#entry.id) === this.call) {
      const entry = this.#entry;
      this.byEnvoy.delete(entry.id);
      entry.streamOpen = false;
      this.tell((work) => work.closed?.(entry));
    }
  }
}
