/**
 * Opening the parts of vigosrv that live on disk, each failure turned into a StartupError with its documented
 * exit code and a message that names the file and what to do.
 */
import type { LoadedConfig, ResolvedPaths } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import { isVigoError } from '../core/index.ts';
import type { Pki } from '../pki/index.ts';
import { loadOrCreatePki } from '../pki/index.ts';
import { advertisedSans } from '../enroll/index.ts';
import { openVault } from '../secrets/index.ts';
import type { Vault } from '../secrets/index.ts';
import type { Store } from '../store/index.ts';
import { openStore } from '../store/index.ts';
import { StartupError } from './startup-error.ts';

function isAddressInUse(err: unknown): boolean {
  const text =
    err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` : String(err);
  return /EADDRINUSE|address already in use|EACCES|EADDRNOTAVAIL|No address added/i.test(text);
}

export function listenFailure(what: string, address: string, err: unknown): StartupError {
  const detail = err instanceof Error ? err.message : String(err);
  return new StartupError(
    isAddressInUse(err) ? 'portInUse' : 'internal',
    `cannot listen for ${what} on ${address}: ${detail}`,
    { cause: err },
  );
}

export function openStoreOrFail(paths: ResolvedPaths, loaded: LoadedConfig, log: Logger): Store {
  try {
    return openStore({
      file: paths.dbFile,
      log: log.child({ component: 'store' }),
      busyTimeoutMs: loaded.config['database.busy_timeout'],
    });
  } catch (err) {
    throw new StartupError('store', isVigoError(err) ? err.message : `cannot open database: ${String(err)}`, {
      cause: err,
    });
  }
}

/** `mustExistBecause`: what already depends on the PKI (see pkiDependents), so it is never created anew. */
export async function loadPkiOrFail(
  paths: ResolvedPaths,
  loaded: LoadedConfig,
  log: Logger,
  mustExistBecause: string | undefined,
): Promise<Pki> {
  try {
    return await loadOrCreatePki({
      tlsDir: paths.tlsDir,
      hostname: loaded.config['server.hostname'],
      extraSans: [
        ...loaded.config['server.tls_sans'],
        ...advertisedSans(loaded.config['server.grpc_advertise']),
      ],
      log: log.child({ component: 'pki' }),
      mustExistBecause,
    });
  } catch (err) {
    throw new StartupError(
      'pki',
      isVigoError(err) ? err.message : `cannot prepare TLS material: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
}

export function openVaultOrFail(paths: ResolvedPaths, log: Logger): Vault {
  try {
    return openVault({ dir: paths.secretsDir, log: log.child({ component: 'secrets' }) });
  } catch (err) {
    throw new StartupError(
      'pki',
      isVigoError(err) ? err.message : `cannot open the secrets vault: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
}
