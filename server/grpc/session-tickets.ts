/**
 * TLS 1.3 session tickets on the agent port, so that a polling agent resumes its session instead of paying
 * a full handshake (certificate exchange and signatures) at every check-in.
 *
 * The keys that encrypt tickets live only in this process's memory: random at start, replaced every
 * `rotationMs`, never written anywhere. node keeps exactly one ticket key per server, and
 * `tls.Server#setTicketKeys` replaces it: a ticket issued under the old key no longer resumes. Rotating
 * that way would send every polling agent of the fleet through a full handshake within one interval after
 * each rotation. Instead the key ring answers OpenSSL's ticket-key callback (the hook node's own
 * `setTicketKeys` sits on, reached the same way): new tickets are encrypted under the current key, tickets
 * under the previous key still resume and are renewed under the current one, and older tickets cost a full
 * handshake. Should a node release lack the hook, the ring falls back to `setTicketKeys` (no grace) and
 * says so.
 *
 * A resumed session carries the client certificate of the handshake that created it, and OpenSSL does not
 * look at that certificate again: `resumedCertificateExpired` lets the listener refuse a resumed
 * connection whose certificate has expired since, so no session outlives its certificate.
 */
import { randomBytes } from 'node:crypto';
import type { Server, TLSSocket } from 'node:tls';

export interface SessionTicketOptions {
  /** How often a new ticket key replaces the current one; the replaced key is honoured one period more. */
  readonly rotationMs: number;
  /** The longest a session resumes after its ticket was issued (the TLS server's sessionTimeout). */
  readonly lifetimeMs: number;
}

export const defaultSessionTickets: SessionTicketOptions = {
  rotationMs: 30 * 60_000,
  lifetimeMs: 60 * 60_000,
};

/** One ticket key: its name (sent in tickets), HMAC and AES parts, 16 bytes each. */
export interface TicketKey {
  readonly name: Buffer;
  readonly hmac: Buffer;
  readonly aes: Buffer;
}

/** OpenSSL's ticket-key callback results (SSL_CTX_set_tlsext_ticket_key_cb). */
const ticketResult = { unknown: 0, accepted: 1, acceptedRenew: 2 } as const;
const keyPartBytes = 16;

export interface TicketKeyRing {
  /** Whether tickets under the previous key still resume (false on a node without the ticket-key hook). */
  readonly graceful: boolean;
  /** Makes a new current key now; the current one becomes the previous one, the previous one is wiped. */
  rotate(): void;
  /** Stops the rotation timer. */
  stop(): void;
}

function newKey(): TicketKey {
  return { name: randomBytes(keyPartBytes), hmac: randomBytes(keyPartBytes), aes: randomBytes(keyPartBytes) };
}

function wipe(key: TicketKey | undefined): void {
  key?.name.fill(0);
  key?.hmac.fill(0);
  key?.aes.fill(0);
}

/**
 * The current and previous ticket keys, shared by every TLS server that installs them, so a session one
 * server issued resumes on another: the agent port's check-in processes (server/checkin/front) get the
 * keys of the process that owns the ring with `replace`, never from disk.
 */
export class TicketKeys {
  #current: TicketKey = newKey();
  #previous: TicketKey | undefined;
  readonly #listeners = new Set<() => void>();

  get current(): TicketKey {
    return this.#current;
  }

  get previous(): TicketKey | undefined {
    return this.#previous;
  }

  /** A new current key; the current one becomes the previous one, the previous one is wiped. */
  rotate(): void {
    this.replace(newKey(), this.#current);
  }

  /** Takes `current` and `previous` (copies of another ring's keys). */
  replace(current: TicketKey, previous: TicketKey | undefined): void {
    if (this.#previous !== previous && this.#previous !== current) wipe(this.#previous);
    this.#previous = previous;
    this.#current = current;
    for (const listener of this.#listeners) listener();
  }

  /** Calls `listener` after each change; returns how to stop. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

type TicketKeyCallback = (name: Buffer, iv: Buffer, encrypt: boolean) => unknown[];

/** The native SecureContext's ticket-key hook, or undefined where this node has none. */
function ticketKeyHook(server: Server): { install(callback: TicketKeyCallback): void } | undefined {
  const credentials: unknown = Reflect.get(server, '_sharedCreds');
  if (typeof credentials !== 'object' || credentials === null) return undefined;
  const context: unknown = Reflect.get(credentials, 'context');
  if (typeof context !== 'object' || context === null) return undefined;
  const enable: unknown = Reflect.get(context, 'enableTicketKeyCallback');
  if (typeof enable !== 'function') return undefined;
  return {
    install: (callback) => {
      Reflect.apply(enable, context, []);
      Reflect.set(context, 'onticketkeycallback', callback);
    },
  };
}

/**
 * Gives `server` the ticket keys of `keys` (a new ring by default). With `rotate` (the default) the
 * ring rotates every `options.rotationMs`; a server that takes its keys from another process's ring
 * passes false. Set the server's sessionTimeout to `sessionTimeoutSeconds(options)` when creating it.
 */
export function installSessionTickets(
  server: Server,
  options: SessionTicketOptions,
  keys: TicketKeys = new TicketKeys(),
  rotate = true,
): TicketKeyRing {
  const hook = ticketKeyHook(server);

  if (hook !== undefined) {
    hook.install((name, _iv, encrypt) => {
      const { current, previous } = keys;
      if (encrypt) return [ticketResult.accepted, current.hmac, current.aes, current.name, randomBytes(16)];
      if (name.equals(current.name)) return [ticketResult.accepted, current.hmac, current.aes];
      if (previous !== undefined && name.equals(previous.name)) {
        return [ticketResult.acceptedRenew, previous.hmac, previous.aes];
      }
      // Not ours, or too old: a full handshake. node wants key buffers of the right size even here.
      return [ticketResult.unknown, Buffer.alloc(keyPartBytes), Buffer.alloc(keyPartBytes)];
    });
  }
  const applyWithoutHook = (): void => {
    const { current } = keys;
    if (hook === undefined) server.setTicketKeys(Buffer.concat([current.name, current.hmac, current.aes]));
  };
  applyWithoutHook();
  const unsubscribe = keys.onChange(applyWithoutHook);

  const timer = rotate ? setInterval(() => keys.rotate(), options.rotationMs) : undefined;
  timer?.unref();
  return {
    graceful: hook !== undefined,
    rotate: () => keys.rotate(),
    stop: () => {
      clearInterval(timer);
      unsubscribe();
    },
  };
}

/** The TLS server's sessionTimeout for `options`, in whole seconds (at least 1). */
export function sessionTimeoutSeconds(options: SessionTicketOptions): number {
  return Math.max(1, Math.floor(options.lifetimeMs / 1000));
}

/**
 * Whether `socket` resumed a session whose client certificate is no longer valid at `nowMs`. A full
 * handshake has just verified the certificate; only resumed sessions need the check.
 */
export function resumedCertificateExpired(socket: TLSSocket, nowMs: number): boolean {
  if (!socket.isSessionReused()) return false;
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) return true;
  const notAfterMs = Date.parse(certificate.validTo);
  const notBeforeMs = Date.parse(certificate.validFrom);
  return !(notBeforeMs <= nowMs && nowMs <= notAfterMs);
}
