/**
 * `vigo daemon`: a cycle every interval (the server's, with ±10 % jitter), backing off while the server is
 * unreachable, and at once when the server asks (a ForcePush on the stream wakes the wait). The runner's
 * connection follows each reply's mode: held keeps the channel and stream between cycles, poll does not.
 */
import type { Logger } from '../../server/core/index.ts';
import { createAgentRunner } from './agent-runner.ts';
import type { AgentRunnerOptions, CycleResult } from './agent-runner.ts';
import type { AgentConnection } from './connection.ts';

export interface DaemonOptions extends Omit<AgentRunnerOptions, 'holdStreams' | 'onForcePush'> {
  readonly dryRun: boolean;
  /** The longest random wait before the first cycle, so a fleet restarted together spreads out. */
  readonly startSpreadMs?: number;
  /** Told after each cycle, with the connection as the cycle left it. */
  readonly onCycle?: (result: CycleResult, connection: AgentConnection) => void;
}

const defaultIntervalMs = 5 * 60_000;
const firstBackoffMs = 5_000;

function jittered(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}

/** Resolves after `ms`, when `signal` aborts, or when `wake` is called, whichever comes first. */
function createWaiter(signal: AbortSignal): { wait(ms: number): Promise<void>; wake(): void } {
  let wakeUp: (() => void) | undefined;
  let woken = false;
  return {
    wait: (ms) =>
      new Promise<void>((resolve) => {
        if (woken || signal.aborted) {
          woken = false;
          resolve();
          return;
        }
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wakeUp = undefined;
          woken = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        wakeUp = done;
      }),
    wake: () => {
      woken = true;
      wakeUp?.();
    },
  };
}

/** Runs cycles until `options.signal` aborts, then closes the connection. */
export async function runDaemon(options: DaemonOptions, log: Logger = options.log): Promise<void> {
  const { signal } = options;
  const waiter = createWaiter(signal);
  const runner = createAgentRunner({ ...options, holdStreams: true, onForcePush: () => waiter.wake() });
  let intervalMs = defaultIntervalMs;
  let backoffMs = firstBackoffMs;
  try {
    await waiter.wait(Math.random() * (options.startSpreadMs ?? 5_000));
    while (!signal.aborted) {
      const result = await runner.cycle(options.dryRun);
      options.onCycle?.(result, runner.connection);
      if (result.intervalMs !== undefined) intervalMs = result.intervalMs;
      let delayMs: number;
      if (result.reachable) {
        backoffMs = firstBackoffMs;
        delayMs = jittered(intervalMs);
      } else {
        delayMs = jittered(Math.min(backoffMs, intervalMs));
        backoffMs = Math.min(backoffMs * 2, intervalMs);
      }
      log.debug('next cycle', { inMs: delayMs, connection: runner.connection.mode });
      await waiter.wait(delayMs);
    }
  } catch (err) {
    // A cycle cut short by the stop (its commands are killed) ends the daemon quietly.
    if (!signal.aborted) throw err;
  } finally {
    runner.close();
  }
}
