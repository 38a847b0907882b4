/**
 * The benchmark's child processes — load generators and the echo server — and the one place that makes
 * sure none outlives the run, whether it ends normally, with an error or with Ctrl-C.
 */
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { LoadgenInit, LoadgenMessage, ParentMessage } from './loadgen-protocol.ts';

const here = import.meta.dirname;
const children = new Set<ChildProcess>();

function adopt(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** SIGKILLs every child still running (synchronous, so it also works from an 'exit' handler). */
export function killChildren(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
}

type Reply<T extends LoadgenMessage['type']> = Extract<LoadgenMessage, { type: T }>;

interface Waiter {
  type: LoadgenMessage['type'];
  resolve: (message: LoadgenMessage) => void;
  reject: (err: Error) => void;
}

export class LoadgenProcess {
  readonly #child: ChildProcess;
  readonly #waiters: Waiter[] = [];

  constructor(readonly index: number) {
    this.#child = adopt(
      fork(join(here, 'loadgen.ts'), [], {
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    this.#child.on('message', (message: LoadgenMessage) => {
      if (message.type === 'failed') {
        this.#failAll(new Error(`load generator ${index} failed: ${message.message}`));
        return;
      }
      const at = this.#waiters.findIndex((w) => w.type === message.type);
      if (at >= 0) this.#waiters.splice(at, 1)[0]!.resolve(message);
    });
    this.#child.on('exit', (code, signal) =>
      this.#failAll(new Error(`load generator ${index} exited (${signal ?? code})`)),
    );
  }

  get pid(): number {
    return this.#child.pid!;
  }

  #failAll(err: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err);
  }

  /** Sends `message` and waits for the generator's reply of type `reply`. */
  ask<T extends LoadgenMessage['type']>(message: ParentMessage, reply: T): Promise<Reply<T>> {
    return new Promise<Reply<T>>((resolve, reject) => {
      this.#waiters.push({ type: reply, resolve: (m) => resolve(m as Reply<T>), reject });
      this.#child.send(message);
    });
  }

  /** Asks the generator to close its connections and exit, and waits for it. */
  async exit(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.send({ type: 'exit' } satisfies ParentMessage);
    await exited;
  }
}

/** Forks `count` load generators, each over its own slice of the seeded envoys, and waits until each has read its keys. */
export async function startLoadgens(
  count: number,
  init: Omit<LoadgenInit, 'first' | 'count'>,
  envoys: number,
): Promise<{ loadgens: LoadgenProcess[]; keysMs: number }> {
  const loadgens = Array.from({ length: count }, (_, i) => new LoadgenProcess(i));
  const share = Math.floor(envoys / count);
  const ready = await Promise.all(
    loadgens.map((loadgen, i) =>
      loadgen.ask(
        {
          type: 'init',
          init: { ...init, first: i * share, count: i === count - 1 ? envoys - i * share : share },
        },
        'ready',
      ),
    ),
  );
  return { loadgens, keysMs: Math.max(...ready.map((r) => r.keysMs)) };
}

export interface EchoServer {
  readonly pid: number;
  readonly port: number;
  readonly responseBytes: number;
  stop(): Promise<void>;
}

/**
 * Starts bench/checkin/echo-server.ts with vigosrv's TLS material, answering every call with `reply`,
 * and waits until it listens.
 */
export function startEchoServer(tlsDir: string, reply: Uint8Array): Promise<EchoServer> {
  const args = ['--import', 'tsx', join(here, 'echo-server.ts'), tlsDir, Buffer.from(reply).toString('hex')];
  const child = adopt(
    spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<EchoServer>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (!out.includes('\n') || line === undefined) return;
      const { port, responseBytes } = JSON.parse(line) as { port: number; responseBytes: number };
      resolve({
        pid: child.pid!,
        port,
        responseBytes,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`the echo server exited (${code}) before listening`)));
  });
}
