/**
 * What every sink adapter implements: send one batch of deliveries (one event for webhooks, several for
 * the batching sinks) and say what came of it, for the whole batch or per delivery.
 */
import type { SecretRef } from '../config.ts';
import type { Delivery } from '../queue.ts';

export type Outcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly error: string }
  | { readonly kind: 'dead'; readonly error: string };

export interface AdapterContext {
  /** The secret's value now (a rotated secret applies at the next try); throws when it is not stored. */
  secret(ref: SecretRef): string;
  /** This server's host name, for syslog HOSTNAME and ECS host.name defaults. */
  readonly serverHostname: string;
  now(): number;
}

export interface Adapter {
  /** One outcome for the whole batch, or one per delivery in batch order. */
  send(batch: readonly Delivery[]): Promise<Outcome | readonly Outcome[]>;
  /** Releases connections; sends in flight fail with a retry outcome. */
  close(): void;
}

export class MissingSecretError extends Error {
  constructor(readonly secretPath: string) {
    super(`secret:${secretPath} is not stored in the vault; set it with vigocli secrets set ${secretPath}`);
    this.name = 'MissingSecretError';
  }
}

/** A one-line, bounded rendering of an error for last_error and the status page. */
export function errorText(err: unknown, max = 500): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
