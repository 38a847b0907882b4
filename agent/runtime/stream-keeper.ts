/**
 * Holds the agent's AgentStream on one channel: a signed Hello first, a Heartbeat at least every
 * heartbeat interval and in answer to each Ping; a ForcePush wakes the agent for a check-in now. Tasks
 * and live queries go to the StreamWork (tasks/), which answers on the stream once it has said Hello.
 *
 * - held (no release): the stream is reopened with exponential backoff and jitter whenever it ends
 *   (server restart, stream.replaced, a broken connection); the backoff starts over once a stream has
 *   lasted a heartbeat interval.
 * - released after `releaseAfterMs` (a polling agent told to open_stream): the stream is ended once the
 *   server has sent nothing on it for that long, or when it ends by itself; it is not reopened (the next
 *   check-in says open_stream again if the server still wants it). Work in flight (a task queued or
 *   running, a live query being answered) holds the release until its answer has gone out.
 */
import type { Logger } from '../../server/core/index.ts';
import { parseTraceparent, traceIdOf } from '../../server/core/index.ts';
import { errorCodeOf, streamTimings } from '../../protocol/index.ts';
import type { AgentStreamResponse, LiveQuery, PayloadInit, TaskDispatch } from '../../protocol/index.ts';
import type { LinkStream, ServerLink } from './server-link.ts';
import { agentVersion } from './server-link.ts';

export interface StreamKeeperTimings {
  /** A Heartbeat goes out this often (the server ends a stream silent for 90 s). */
  readonly heartbeatMs: number;
  /** First and longest wait before a held stream is opened again. */
  readonly reopenInitialMs: number;
  readonly reopenMaxMs: number;
}

export const defaultStreamKeeperTimings: StreamKeeperTimings = {
  heartbeatMs: streamTimings.heartbeatIntervalMs,
  reopenInitialMs: 1_000,
  reopenMaxMs: 60_000,
};

/** Writes one signed message on the stream it belongs to; throws once that stream has ended. */
export type StreamSend = (payload: PayloadInit<'AgentStream'>) => void;

/** What runs the work the server pushes (tasks, live queries) and answers it on the stream. */
export interface StreamWork {
  /** A stream said Hello: answers may go out with `send` until `closed(send)`. */
  opened(send: StreamSend): void;
  closed(send: StreamSend): void;
  taskDispatch(dispatch: TaskDispatch): void;
  /** Answered on the stream it came on. */
  liveQuery(query: LiveQuery, send: StreamSend): void;
  /** Work is in flight whose answer has not gone out: a stream due for release is kept for it. */
  readonly busy: boolean;
}

export interface StreamKeeperOptions {
  readonly link: ServerLink;
  readonly log: Logger;
  readonly timings: StreamKeeperTimings;
  /** The policy_version the Hello reports: the bundle the agent holds. */
  readonly policyVersion: () => number;
  /** The server asked for a check-in now. */
  /** `traceparent`: the push's W3C traceparent when it is a valid one, else "". */
  readonly onForcePush: (reason: string, traceparent: string) => void;
  /** A stream that is released ended (idle, or by itself); the keeper is done. */
  readonly onReleased: () => void;
  /** Runs pushed work; without it, tasks and live queries are logged and ignored. */
  readonly work?: StreamWork;
}

function jittered(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

export class StreamKeeper {
  readonly #options: StreamKeeperOptions;
  /** undefined: held, never released. */
  #releaseAfterMs: number | undefined;
  #stream: LinkStream | undefined;
  #send: StreamSend | undefined;
  #openedAtMs = 0;
  #backoffMs: number;
  #stopped = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  #reopen: NodeJS.Timeout | undefined;

  constructor(options: StreamKeeperOptions, releaseAfterMs: number | undefined) {
    this.#options = options;
    this.#releaseAfterMs = releaseAfterMs;
    this.#backoffMs = options.timings.reopenInitialMs;
    this.#open();
  }

  /** Whether the stream is held for good (not released when idle). */
  get held(): boolean {
    return this.#releaseAfterMs === undefined;
  }

  /** Whether a stream is open now (not between a drop and its reopening). */
  get open(): boolean {
    return this.#stream !== undefined;
  }

  /** Holds the stream for good (undefined), or releases it after `ms` without a message from the server. */
  setRelease(ms: number | undefined): void {
    this.#releaseAfterMs = ms;
    this.#armIdle();
  }

  /** Ends the stream for good. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#reopen);
    this.#end();
  }

  #open(): void {
    const { link, log } = this.#options;
    const stream = link.openStream();
    this.#stream = stream;
    this.#openedAtMs = Date.now();
    stream.call.on('data', (message: AgentStreamResponse) => this.#receive(message));
    // The outcome arrives as 'status'; 'error' repeats it for a non-OK status.
    stream.call.on('error', () => undefined);
    const send: StreamSend = (payload) => {
      if (this.#stream !== stream) throw new Error('the stream has ended');
      stream.send(payload);
    };
    stream.call.on('status', (status) => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#send = undefined;
      this.#options.work?.closed(send);
      this.#clearTimers();
      log.debug('agent stream ended', { code: errorCodeOf(status) ?? status.code, details: status.details });
      this.#ended();
    });
    stream.send({ kind: { case: 'hello', value: { agentVersion, policyVersion: this.#policyVersion() } } });
    this.#send = send;
    // After the Hello: results that waited for a stream go out first.
    this.#options.work?.opened(send);
    this.#heartbeat = setInterval(
      () => stream.send({ kind: { case: 'heartbeat', value: { pingId: 0n } } }),
      this.#options.timings.heartbeatMs,
    );
    this.#heartbeat.unref();
    this.#armIdle();
    log.debug('agent stream opened', { held: this.held });
  }

  #policyVersion(): bigint {
    return BigInt(Math.max(0, Math.trunc(this.#options.policyVersion())));
  }

  #receive(message: AgentStreamResponse): void {
    this.#armIdle();
    const { kind } = message;
    switch (kind.case) {
      case 'ping':
        this.#stream?.send({ kind: { case: 'heartbeat', value: { pingId: kind.value.pingId } } });
        return;
      case 'forcePush':
        {
          const traceparent = parseTraceparent(kind.value.traceparent) ?? '';
          this.#options.log.info('the server asked for a check-in now', {
            reason: kind.value.reason,
            ...(traceparent === '' ? {} : { traceId: traceIdOf(traceparent) }),
          });
          this.#options.onForcePush(kind.value.reason, traceparent);
        }
        return;
      case 'taskDispatch':
        if (this.#options.work === undefined) break;
        this.#options.work.taskDispatch(kind.value);
        return;
      case 'liveQuery':
        if (this.#options.work === undefined || this.#send === undefined) break;
        this.#options.work.liveQuery(kind.value, this.#send);
        return;
      default:
        break;
    }
    this.#options.log.warn('the server sent work this agent does not run; ignored', {
      kind: kind.case ?? 'empty',
    });
  }

  /** (Re)starts the idle release of a released stream; a held stream has none. */
  #armIdle(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    const releaseAfterMs = this.#releaseAfterMs;
    if (releaseAfterMs === undefined || this.#stream === undefined) return;
    this.#idle = setTimeout(() => {
      // A task still running (or a query being answered) keeps the stream until its answer is out.
      if (this.#options.work?.busy === true) {
        this.#armIdle();
        return;
      }
      this.#options.log.debug('releasing the agent stream: the server sent nothing', { releaseAfterMs });
      this.#end();
    }, releaseAfterMs);
    this.#idle.unref();
  }

  #ended(): void {
    if (this.#stopped) return;
    if (!this.held) {
      this.#stopped = true;
      this.#options.onReleased();
      return;
    }
    if (Date.now() - this.#openedAtMs >= this.#options.timings.heartbeatMs) {
      this.#backoffMs = this.#options.timings.reopenInitialMs;
    }
    const waitMs = jittered(this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.timings.reopenMaxMs);
    this.#reopen = setTimeout(() => {
      if (!this.#stopped) this.#open();
    }, waitMs);
    this.#reopen.unref();
  }

  /** Cancels the open stream, if any; its 'status' then runs #ended. */
  #end(): void {
    this.#clearTimers();
    this.#stream?.call.cancel();
  }

  #clearTimers(): void {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#idle);
    this.#heartbeat = undefined;
    this.#idle = undefined;
  }
}
