/**
 * The longest event-loop stall of a benchmarked vigosrv's serving process, read from its own /metrics
 * (prom-client's nodejs_eventloop_lag_max_seconds, which every scrape resets) with the local admin token.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadyServer } from '../../test/helpers/server-process.ts';

const maxLag = /^nodejs_eventloop_lag_max_seconds (\S+)$/m;

export class StallProbe {
  static readonly #byPid = new Map<number, StallProbe>();

  /** Probes `server` from now on, found again by its pid (the id every phase plan carries). */
  static watch(server: ReadyServer): void {
    const pid = server.child.pid;
    if (pid !== undefined) StallProbe.#byPid.set(pid, new StallProbe(server));
  }

  static of(pid: number): StallProbe | undefined {
    return StallProbe.#byPid.get(pid);
  }

  readonly #server: ReadyServer;
  readonly #token: string;

  private constructor(server: ReadyServer) {
    this.#server = server;
    this.#token = readFileSync(join(server.dataDir, 'local-admin.token'), 'utf8').trim();
  }

  /** The longest stall since the previous reading, ms; NaN when the server did not answer. */
  async maxStallMs(): Promise<number> {
    try {
      const reply = await this.#server.request('/metrics', {
        headers: { authorization: `Bearer ${this.#token}` },
      });
      const found = reply.status === 200 ? maxLag.exec(reply.body) : null;
      return found === null ? Number.NaN : Number(found[1]) * 1000;
    } catch {
      return Number.NaN;
    }
  }
}
