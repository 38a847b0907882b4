/**
 * checkin.workers > 1: the server process accepts agent connections and hands each, unread, to one of
 * its check-in processes in turn (node's IPC passes the descriptor itself); a check-in process terminates
 * it and relays every call back here (relay.ts). Session-ticket keys are this process's, copied to every
 * check-in process at start and at each rotation, so a session resumes whichever process takes the next
 * connection. A check-in process that ends is started again; meanwhile, and whenever none is ready, this
 * process serves connections itself.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/index.ts';
import type { GrpcListenerEvents } from '../../grpc/server.ts';
import type { TicketKeys } from '../../grpc/session-tickets.ts';
import { toWireKeys } from './messages.ts';
import type { FrontInit, FromFront, Reply, ToFront } from './messages.ts';
import { FrontRelay } from './relay.ts';
import type { RelayDeps } from './relay.ts';

const restartDelayMs = 1_000;

export interface CheckinFrontsOptions {
  readonly count: number;
  readonly init: Omit<FrontInit, 't' | 'keys'>;
  readonly ticketKeys: TicketKeys;
  readonly relay: RelayDeps;
  readonly events?: GrpcListenerEvents;
  readonly log: Logger;
}

export interface CheckinFronts {
  /** Gives `socket` to the next ready check-in process, or to `serveHere` when none can take it. */
  handOff(socket: Socket, serveHere: (socket: Socket) => void): void;
  /** Check-in processes ready now. */
  ready(): number;
  /** Resolves once every check-in process is ready. */
  whenReady(): Promise<void>;
  /** Agent connections the check-in processes hold (as of their last report, at most 1 s old). */
  openConnections(): number;
  /** Pids of the check-in processes running now. */
  pids(): number[];
  /** Stops them taking connections, waits for their calls to finish, and for them to exit. */
  drain(timeoutMs: number): Promise<void>;
  /** Ends them at once. */
  destroy(): void;
}

interface Front {
  readonly child: ChildProcess;
  readonly relay: FrontRelay;
  ready: boolean;
  open: number;
  outbox: Reply[];
}

/** The check-in process's entry: plain JavaScript that registers tsx itself (front-main.mjs). */
function frontModule(): string {
  return fileURLToPath(new URL('./front-main.mjs', import.meta.url));
}

export function startCheckinFronts(options: CheckinFrontsOptions): CheckinFronts {
  const { log, events } = options;
  const fronts: (Front | undefined)[] = Array.from({ length: options.count }, () => undefined);
  const readyWaiters: (() => void)[] = [];
  let next = 0;
  let stopping = false;

  const post = (front: Front, message: ToFront): void => {
    if (front.child.connected) front.child.send(message);
  };
  const flushReplies = (front: Front): void => {
    const items = front.outbox;
    front.outbox = [];
    if (items.length > 0) post(front, { t: 'replies', items });
  };
  const queue = (front: Front, reply: Reply): void => {
    if (front.outbox.length === 0) setImmediate(() => flushReplies(front));
    front.outbox.push(reply);
  };
  const readyCount = (): number => fronts.filter((front) => front?.ready === true).length;
  const settleWaiters = (): void => {
    if (readyCount() < options.count) return;
    for (const waiter of readyWaiters.splice(0)) waiter();
  };

  const onMessage = (front: Front, message: FromFront): void => {
    switch (message.t) {
      case 'ready': {
        front.ready = true;
        // Keys rotated while it was starting reach it now; its init carried the keys of its spawn.
        const { current, previous } = options.ticketKeys;
        post(front, { t: 'keys', keys: toWireKeys(current, previous) });
        settleWaiters();
        return;
      }
      case 'calls':
        front.relay.receive(message.items);
        return;
      case 'stats':
        front.open = message.open;
        for (let i = 0; i < message.full; i++) events?.handshake?.('full');
        for (let i = 0; i < message.resumed; i++) events?.handshake?.('resumed');
        for (let i = 0; i < message.refused; i++) events?.refused?.();
        for (let i = 0; i < message.timedOut; i++) events?.timedOut?.('handshake');
        for (let i = 0; i < message.expiredSessionRefused; i++) events?.expiredSessionRefused?.();
        if (message.acceptFailed > 0)
          events?.acceptFailed?.(new Error('a check-in process failed to take a connection'));
        return;
    }
  };

  const spawn = (slot: number): void => {
    const child = fork(frontModule(), [], {
      execArgv: [],
      serialization: 'advanced',
      // Not the server's own output pipes: whoever reads them sees them close when the server ends.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const front: Front = {
      child,
      ready: false,
      open: 0,
      outbox: [],
      relay: new FrontRelay(
        options.relay,
        (reply) => queue(front, reply),
        (identity) => {
          // Each process verifies the envoy's next calls itself, whichever one its connection lands on.
          for (const other of fronts) if (other?.ready === true) queue(other, { k: 'identity', identity });
        },
      ),
    };
    fronts[slot] = front;
    child.on('message', (message: FromFront) => onMessage(front, message));
    child.on('error', (err) => log.error('check-in process failed', { pid: child.pid, err }));
    child.once('exit', (code, signal) => {
      fronts[slot] = undefined;
      front.relay.closeAll();
      if (stopping) return;
      log.warn('check-in process ended; starting another', { pid: child.pid, code, signal });
      setTimeout(() => {
        if (!stopping) spawn(slot);
      }, restartDelayMs).unref();
    });
    const { current, previous } = options.ticketKeys;
    post(front, { t: 'init', ...options.init, keys: toWireKeys(current, previous) });
  };

  for (let slot = 0; slot < options.count; slot++) spawn(slot);
  const stopKeys = options.ticketKeys.onChange(() => {
    const { current, previous } = options.ticketKeys;
    for (const front of fronts)
      if (front?.ready) post(front, { t: 'keys', keys: toWireKeys(current, previous) });
  });

  const live = (): Front[] => fronts.filter((front): front is Front => front !== undefined);
  return {
    handOff: (socket, serveHere) => {
      if (!stopping) {
        for (let tried = 0; tried < fronts.length; tried++) {
          const front = fronts[next];
          next = (next + 1) % fronts.length;
          if (front?.ready !== true || !front.child.connected) continue;
          front.child.send({ t: 'conn' } satisfies ToFront, socket, { keepOpen: false }, (err) => {
            // Not handed over (the process just ended): served here, unless it was closed meanwhile.
            if (err !== null && !socket.destroyed) serveHere(socket);
          });
          return;
        }
      }
      serveHere(socket);
    },
    ready: readyCount,
    whenReady: () =>
      readyCount() >= options.count
        ? Promise.resolve()
        : new Promise((resolve) => readyWaiters.push(resolve)),
    openConnections: () => live().reduce((sum, front) => sum + front.open, 0),
    pids: () => live().flatMap((front) => (front.child.pid === undefined ? [] : [front.child.pid])),
    drain: async (timeoutMs) => {
      stopping = true;
      stopKeys();
      const running = live();
      await Promise.all(
        running.map(
          (front) =>
            new Promise<void>((resolve) => {
              if (front.child.exitCode !== null || front.child.signalCode !== null) {
                resolve();
                return;
              }
              // One still starting holds no connection: nothing to wait for.
              if (!front.ready) {
                front.child.once('exit', () => resolve());
                front.child.kill('SIGKILL');
                return;
              }
              const timer = setTimeout(() => front.child.kill('SIGKILL'), timeoutMs);
              front.child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              // What the streams' ends and the last answers queued goes first.
              flushReplies(front);
              post(front, { t: 'drain' });
            }),
        ),
      );
    },
    destroy: () => {
      stopping = true;
      stopKeys();
      for (const front of live()) front.child.kill('SIGKILL');
    },
  };
}
