/**
 * What the server process and its check-in processes say to each other over their IPC channel (node's
 * 'advanced' serialization: structured clone, so byte arrays travel as they are). Messages travel in
 * batches, one per event-loop turn each way, so thousands of calls a second cost a few messages.
 */
import * as grpc from '@grpc/grpc-js';
import type { GrpcConnectionLimits } from '../../grpc/server.ts';
import type { SessionTicketOptions, TicketKey } from '../../grpc/session-tickets.ts';

/** The unary RPCs a check-in process relays. */
export type RelayedRpc = 'CheckIn' | 'ReportResults' | 'ResolveSecrets';

export interface WireKey {
  name: Uint8Array;
  hmac: Uint8Array;
  aes: Uint8Array;
}

export interface WireKeys {
  current: WireKey;
  previous?: WireKey;
}

/** A call's final status as grpc-js sends it; metadata as ASCII key and values. */
export interface WireStatus {
  code: number;
  details: string;
  metadata: [string, string][];
}

/** The key a check-in process may verify an envoy's signatures with, until its generation changes. */
export interface WireIdentity {
  envoyId: string;
  generation: number;
  publicKeyRaw: Uint8Array;
}

export interface FrontInit {
  t: 'init';
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  maxMessageBytes: number;
  limits: GrpcConnectionLimits;
  sessionTickets: SessionTicketOptions;
  keys: WireKeys;
}

/** Server process → check-in process. A 'conn' message carries the accepted socket as its handle. */
export type ToFront =
  | FrontInit
  | { t: 'keys'; keys: WireKeys }
  | { t: 'conn' }
  | { t: 'replies'; items: Reply[] }
  | { t: 'drain' };

export type Reply =
  | { k: 'unary'; id: number; ok?: Uint8Array; status?: WireStatus }
  /** A key the server process verified an envoy's call with: every check-in process gets it. */
  | { k: 'identity'; identity: WireIdentity }
  /** A message for the agent on stream `sid`. */
  | { k: 'write'; sid: number; bytes: Uint8Array }
  /** Ends stream `sid`: with its status, or normally (OK) without one. */
  | { k: 'close'; sid: number; status?: WireStatus };

/** Check-in process → server process. */
export type FromFront = { t: 'ready' } | { t: 'calls'; items: Call[] } | ({ t: 'stats' } & FrontStats);

export type Call =
  | {
      k: 'unary';
      id: number;
      rpc: RelayedRpc;
      bytes: Uint8Array;
      fingerprint: string | undefined;
      /** The identity generation whose key verified the signature here; 0 when not verified. */
      generation: number;
    }
  | { k: 'open'; sid: number; fingerprint: string | undefined }
  | { k: 'data'; sid: number; bytes: Uint8Array; generation: number }
  /** The agent half-closed stream `sid`. */
  | { k: 'end'; sid: number }
  /** Stream `sid` is gone (cancelled, failed, its connection closed). */
  | { k: 'cancel'; sid: number };

/** Connection events since the last stats message, and the connections open now. */
export interface FrontStats {
  full: number;
  resumed: number;
  refused: number;
  timedOut: number;
  acceptFailed: number;
  expiredSessionRefused: number;
  open: number;
}

export function toWireKeys(current: TicketKey, previous: TicketKey | undefined): WireKeys {
  return previous === undefined ? { current } : { current, previous };
}

export function fromWireKey(key: WireKey): TicketKey {
  return { name: Buffer.from(key.name), hmac: Buffer.from(key.hmac), aes: Buffer.from(key.aes) };
}

export function toWireStatus(status: Partial<grpc.StatusObject>): WireStatus {
  const metadata: [string, string][] = [];
  for (const [key, values] of Object.entries(status.metadata?.toJSON() ?? {})) {
    for (const value of values) if (typeof value === 'string') metadata.push([key, value]);
  }
  return { code: status.code ?? grpc.status.UNKNOWN, details: status.details ?? '', metadata };
}

export function fromWireStatus(wire: WireStatus): grpc.StatusObject {
  const metadata = new grpc.Metadata();
  for (const [key, value] of wire.metadata) metadata.add(key, value);
  return { code: wire.code, details: wire.details, metadata };
}
