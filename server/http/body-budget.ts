/**
 * How many request-body bytes the server holds at once, per client address and in all. A body reserves
 * its bytes as they arrive (all of them up front when Content-Length announces them) and gives them back
 * when its request is done; a body that would take its client, or the server, past the budget is refused
 * at once (`request.busy`, 429; `server.busy`, 503; both with Retry-After) instead of being buffered.
 *
 * A body that is its client's only one in flight may always use its route's whole cap, and likewise a
 * body that is the server's only one: the budget limits how many bodies pile up, never whether the
 * largest allowed upload can be sent at all, whatever the two settings are.
 */
import { VigoError } from '../core/index.ts';

export interface BodyBudgetOptions {
  /** Body bytes one client address (IPv4, or IPv6 /64) may have in flight at once. */
  readonly perClientBytes: number;
  /** Body bytes all clients together may have in flight at once. */
  readonly totalBytes: number;
}

export const defaultBodyBudget: BodyBudgetOptions = {
  perClientBytes: 128 * 1024 * 1024,
  totalBytes: 256 * 1024 * 1024,
};

/** One body's share of the budget. */
export interface BodyReservation {
  /** Takes `bytes` more; throws request.busy or server.busy (nothing taken) when they do not fit. */
  take(bytes: number): void;
  /** Gives everything back; idempotent. */
  release(): void;
}

interface Holdings {
  bytes: number;
  /** Reservations holding at least one byte. */
  holders: number;
}

const retryAfterSeconds = 1;

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

export class BodyBudget {
  readonly #options: BodyBudgetOptions;
  readonly #total: Holdings = { bytes: 0, holders: 0 };
  readonly #byClient = new Map<string, Holdings>();

  constructor(options: BodyBudgetOptions = defaultBodyBudget) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`${name} must be a whole number of bytes above 0, got ${String(value)}`);
      }
    }
    this.#options = options;
  }

  /** Body bytes now held, by `client` or (without it) by everyone. */
  held(client?: string): number {
    return client === undefined ? this.#total.bytes : (this.#byClient.get(client)?.bytes ?? 0);
  }

  /** A reservation for one body from `client` (its address key). */
  open(client: string): BodyReservation {
    let held = 0;
    const holdings = (): Holdings => {
      let found = this.#byClient.get(client);
      if (found === undefined) {
        found = { bytes: 0, holders: 0 };
        this.#byClient.set(client, found);
      }
      return found;
    };
    return {
      take: (bytes) => {
        if (bytes <= 0) return;
        const mine = holdings();
        this.#check(client, mine, held, bytes);
        if (held === 0) {
          mine.holders += 1;
          this.#total.holders += 1;
        }
        held += bytes;
        mine.bytes += bytes;
        this.#total.bytes += bytes;
      },
      release: () => {
        if (held === 0) return;
        const mine = holdings();
        mine.bytes -= held;
        mine.holders -= 1;
        this.#total.bytes -= held;
        this.#total.holders -= 1;
        held = 0;
        if (mine.holders === 0) this.#byClient.delete(client);
      },
    };
  }

  /** Throws when `bytes` more would overrun a budget this body does not have to itself. */
  #check(client: string, mine: Holdings, held: number, bytes: number): void {
    const alone = (h: Holdings): boolean => h.holders === (held > 0 ? 1 : 0);
    const { perClientBytes, totalBytes } = this.#options;
    if (!alone(mine) && mine.bytes + bytes > perClientBytes) {
      throw new VigoError(
        'request.busy',
        `${client} already has ${mib(mine.bytes)} of request bodies in flight and may have at most ` +
          `${mib(perClientBytes)}; send this request again once the others have finished`,
        { retryAfterSeconds },
      );
    }
    if (!alone(this.#total) && this.#total.bytes + bytes > totalBytes) {
      throw new VigoError(
        'server.busy',
        `the server is receiving ${mib(this.#total.bytes)} of request bodies and takes at most ` +
          `${mib(totalBytes)} at once; send this request again shortly`,
        { retryAfterSeconds },
      );
    }
  }
}
