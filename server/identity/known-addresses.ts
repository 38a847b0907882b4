/**
 * Client addresses (IPv4, or IPv6 /64) that signed in with a right password lately. Their logins wait in
 * the bcrypt queue's priority lane, so a login flood from many other addresses does not lock out the
 * people who run the server. Knowing an address needs a right password first, so an attacker cannot
 * make theirs known; an address that is known and then guesses is still held to the failure limit.
 * In memory and bounded: the least recently successful addresses are forgotten first.
 */

export interface KnownAddressesOptions {
  readonly maxAddresses?: number;
  /** How long a successful login keeps its address known. */
  readonly ttlMs?: number;
  readonly nowMs?: () => number;
}

export class KnownAddresses {
  readonly #maxAddresses: number;
  readonly #ttlMs: number;
  readonly #nowMs: () => number;
  /** key → time of the latest successful login; Map order is least recent first. */
  readonly #seen = new Map<string, number>();

  constructor(options: KnownAddressesOptions = {}) {
    this.#maxAddresses = options.maxAddresses ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 30 * 86_400_000;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  has(key: string): boolean {
    const at = this.#seen.get(key);
    if (at === undefined) return false;
    if (this.#nowMs() - at <= this.#ttlMs) return true;
    this.#seen.delete(key);
    return false;
  }

  /** Records a successful login from `key`. */
  add(key: string): void {
    this.#seen.delete(key);
    this.#seen.set(key, this.#nowMs());
    while (this.#seen.size > this.#maxAddresses) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}
