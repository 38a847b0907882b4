/**
 * vigil, a service manager that speaks the Pebble API (pebble-api.ts). The reference notes name no socket
 * path, so it follows pebble's convention: $VIGIL_SOCKET, else `.vigil.socket` in $VIGIL (default /var/lib/vigil).
 */
import { join } from 'node:path';
import { createPebbleApiProvider } from './pebble-api.ts';
import type { ServiceProvider } from './types.ts';

export function defaultVigilSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.VIGIL_SOCKET || join(env.VIGIL || '/var/lib/vigil', '.vigil.socket');
}

export function createVigilProvider(socketPath: string, signal?: AbortSignal): ServiceProvider {
  return createPebbleApiProvider({ name: 'vigil', socketPath, signal });
}
