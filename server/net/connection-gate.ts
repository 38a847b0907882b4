/**
 * Per-address connection caps for the listeners. A gate sits in front of everything else a server does
 * with a new connection (TLS included): it counts open connections per client address — an IPv4 address,
 * or the /64 an IPv6 address belongs to, since one host usually holds a whole /64 — and closes at once any
 * connection beyond the cap, before a byte of it is read. A listener may stop counting a connection once
 * it has proven who it is (an agent's verified client certificate), so that only anonymous connections
 * are capped and a fleet behind one NAT address is not.
 */
import type { Server, Socket } from 'node:net';
import { rateLimitKey } from './address-key.ts';

export interface ConnectionGateOptions {
  /** Most counted connections one address may hold at once. */
  readonly maxPerAddress: number;
  /** Called for each connection closed at accept because its address was at the cap. */
  readonly onRefused?: (addressKey: string) => void;
}

export interface ConnectionGate {
  /** Connections closed at accept since the gate was installed. */
  readonly refused: number;
  /** Counted connections now open from `address`. */
  openFrom(address: string): number;
  /** Counted connections now open, all addresses. */
  openTotal(): number;
  /** Stops counting the connection whose remote end is `socket`'s (the raw socket or a TLS socket over it). */
  release(socket: Socket): void;
  /** Closes every connection still counted (a drain does not wait for unfinished handshakes). */
  destroyCounted(): void;
}

/** What a connection is counted against: the address, or its IPv6 /64. */
export function addressKey(address: string | undefined): string {
  return address === undefined ? 'unknown' : rateLimitKey(address);
}

function endpointOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}`;
}

/** Installs a gate on `server`, ahead of every other 'connection' listener. */
export function gateConnections(server: Server, options: ConnectionGateOptions): ConnectionGate {
  if (!Number.isSafeInteger(options.maxPerAddress) || options.maxPerAddress < 1) {
    throw new RangeError(`maxPerAddress must be a whole number above 0, got ${options.maxPerAddress}`);
  }
  const perAddress = new Map<string, number>();
  /** Counted connections by remote endpoint (address and port identify one open connection to this port). */
  const counted = new Map<string, { readonly key: string; readonly socket: Socket }>();
  let refused = 0;

  const forget = (endpoint: string, key: string): void => {
    counted.delete(endpoint);
    const left = (perAddress.get(key) ?? 1) - 1;
    if (left <= 0) perAddress.delete(key);
    else perAddress.set(key, left);
  };
  const release = (socket: Socket): void => {
    const endpoint = endpointOf(socket);
    const entry = counted.get(endpoint);
    if (entry !== undefined) forget(endpoint, entry.key);
  };

  server.prependListener('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const open = perAddress.get(key) ?? 0;
    if (open >= options.maxPerAddress) {
      refused += 1;
      // Nothing has been read yet; the TLS layer, which also sees this socket, finds it closed.
      socket.destroy();
      options.onRefused?.(key);
      return;
    }
    perAddress.set(key, open + 1);
    const endpoint = endpointOf(socket);
    counted.set(endpoint, { key, socket });
    // Only this socket's own entry: once released, a later connection may reuse the same endpoint.
    socket.once('close', () => {
      if (counted.get(endpoint)?.socket === socket) forget(endpoint, key);
    });
  });

  return {
    get refused() {
      return refused;
    },
    openFrom: (address) => perAddress.get(addressKey(address)) ?? 0,
    openTotal: () => counted.size,
    release,
    destroyCounted: () => {
      for (const { socket } of [...counted.values()]) socket.destroy();
    },
  };
}
