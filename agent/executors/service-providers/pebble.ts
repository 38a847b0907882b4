/** Canonical's pebble: its socket is $PEBBLE_SOCKET, else `.pebble.socket` in $PEBBLE (default /var/lib/pebble/default). */
import { join } from 'node:path';
import { createPebbleApiProvider } from './pebble-api.ts';
import type { ServiceProvider } from './types.ts';

export function defaultPebbleSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PEBBLE_SOCKET || join(env.PEBBLE || '/var/lib/pebble/default', '.pebble.socket');
}

export function createPebbleProvider(socketPath: string, signal?: AbortSignal): ServiceProvider {
  return createPebbleApiProvider({ name: 'pebble', socketPath, signal });
}
