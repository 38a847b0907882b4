/**
 * The local secrets vault: one AES-256-GCM ciphertext per secret path in `<secrets dir>/vault.json`, under a
 * master key in `<secrets dir>/master.key`. State lives in memory and every change rewrites the file
 * atomically before it is adopted, so a failed change leaves both the file and this object as they were.
 * One process owns the directory (the data-dir lock); another Vault on the same directory sees changes
 * after it is reopened. Values never appear in logs or error messages: those name paths and versions only.
 */
import { join } from 'node:path';
import { VigoError, ensurePrivateDir } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { ReplacedNotDurableError, removeStaleTemps, renameDurable } from './atomic-file.ts';
import { seal, unseal } from './cipher.ts';
import type { SealedSecret } from './cipher.ts';
import {
  generateMasterKey,
  keyFiles,
  masterKeyFileName,
  nextMasterKeyFileName,
  reconcileMasterKey,
  writeMasterKeyFile,
} from './master-key.ts';
import type { MasterKey } from './master-key.ts';
import { assertSecretPath, isValidSecretPath, quotePath } from './secret-path.ts';
import { readVaultFile, vaultFileName, writeVaultFile } from './vault-file.ts';

export const maxSecretValueBytes = 64 * 1024;

export interface OpenVaultOptions {
  /** The secrets directory (`<data-dir>/secrets`, i.e. ServerPaths.secretsDir); created 0700 if missing. */
  readonly dir: string;
  readonly log: Logger;
  readonly nowMs?: () => number;
}

export interface SecretInfo {
  readonly path: string;
  readonly version: number;
  readonly updatedAtMs: number;
}

export interface SecretSetResult extends SecretInfo {
  readonly created: boolean;
  readonly epoch: number;
}

export interface SecretDeleteResult {
  readonly path: string;
  /** The version that was deleted. */
  readonly version: number;
  readonly epoch: number;
}

export interface MasterKeyRotation {
  readonly keyId: string;
  readonly previousKeyId: string;
  /** How many secrets were re-encrypted. */
  readonly secrets: number;
  readonly epoch: number;
}

export interface BundleSecrets {
  /** Requested paths that are allowed and exist, with their values. */
  readonly values: Map<string, Buffer>;
  /** Requested paths outside `allowedPaths`, each once, in request order. */
  readonly denied: string[];
  /** Allowed paths the vault no longer holds (deleted after the bundle was built). */
  readonly missing: string[];
}

export interface Vault {
  readonly dir: string;
  readonly vaultFile: string;
  readonly masterKeyFile: string;
  /** Bumps on every set, delete and master key rotation; bundles carry it as `secrets_epoch`. */
  readonly epoch: number;
  /** Id of the current master key (a hash, not the key). */
  readonly keyId: string;
  set(path: string, value: string): SecretSetResult;
  get(path: string): string | undefined;
  /** False for a path that is not a valid secret path, as no such secret can exist. */
  has(path: string): boolean;
  list(): SecretInfo[];
  delete(path: string): SecretDeleteResult;
  rotateMasterKey(): MasterKeyRotation;
  resolveForBundle(allowedPaths: ReadonlySet<string>, requested: readonly string[]): BundleSecrets;
}

interface VaultState {
  readonly key: MasterKey;
  readonly epoch: number;
  readonly secrets: ReadonlyMap<string, SealedSecret>;
}

function checkValue(path: string, value: string): Buffer {
  if (typeof value !== 'string')
    throw new VigoError('secrets.value_invalid', `the value for secret ${quotePath(path)} must be a string`, {
      path,
    });
  // UTF-8 encoding would silently turn a lone surrogate into U+FFFD and store a different secret.
  if (/\p{Cs}/u.test(value))
    throw new VigoError(
      'secrets.value_invalid',
      `the value for secret ${quotePath(path)} is not valid Unicode text (it holds a lone UTF-16 surrogate); send it as UTF-8 text`,
      { path },
    );
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > maxSecretValueBytes)
    throw new VigoError(
      'secrets.value_too_large',
      `the value for secret ${quotePath(path)} is ${bytes.length} bytes; the limit is ${maxSecretValueBytes} bytes (64 KiB)`,
      { path, bytes: bytes.length, limitBytes: maxSecretValueBytes },
    );
  return bytes;
}

/** Opens (creating on first use) the vault in `options.dir`, finishing or undoing an interrupted rotation. */
export function openVault(options: OpenVaultOptions): Vault {
  const { dir } = options;
  const log = options.log.child({ component: 'secrets' });
  ensurePrivateDir(dir);
  const leftovers = removeStaleTemps(dir, [vaultFileName, masterKeyFileName, nextMasterKeyFileName]);
  if (leftovers.length > 0)
    log.warn('removed temp files an interrupted write left behind', { files: leftovers });
  const vaultFile = join(dir, vaultFileName);
  const doc = readVaultFile(vaultFile);
  const state: VaultState = {
    key: reconcileMasterKey(dir, doc?.keyId, log),
    epoch: doc?.secretsEpoch ?? 0,
    secrets: doc?.secrets ?? new Map(),
  };
  return new LocalVault(dir, vaultFile, log, options.nowMs ?? Date.now, state);
}

class LocalVault implements Vault {
  readonly masterKeyFile: string;
  readonly #nextKeyFile: string;
  #state: VaultState;

  constructor(
    readonly dir: string,
    readonly vaultFile: string,
    private readonly log: Logger,
    private readonly nowMs: () => number,
    state: VaultState,
  ) {
    const files = keyFiles(dir);
    this.masterKeyFile = files.current;
    this.#nextKeyFile = files.next;
    this.#state = state;
  }

  get epoch(): number {
    return this.#state.epoch;
  }

  get keyId(): string {
    return this.#state.key.id;
  }

  set(path: string, value: string): SecretSetResult {
    assertSecretPath(path);
    const plaintext = checkValue(path, value);
    const { key, epoch, secrets } = this.#state;
    const existing = secrets.get(path);
    const now = this.nowMs();
    const version = (existing?.version ?? 0) + 1;
    const createdAtMs = existing?.createdAtMs ?? now;
    const sealed = seal(key, { path, version, createdAtMs, updatedAtMs: now }, plaintext);
    plaintext.fill(0);
    this.#commit({ key, epoch: epoch + 1, secrets: new Map(secrets).set(path, sealed) });
    this.log.info('secret set', { path, version, epoch: this.epoch });
    return { path, version, updatedAtMs: now, created: existing === undefined, epoch: this.epoch };
  }

  get(path: string): string | undefined {
    assertSecretPath(path);
    const sealed = this.#state.secrets.get(path);
    return sealed ? this.#decrypt(sealed).toString('utf8') : undefined;
  }

  has(path: string): boolean {
    return isValidSecretPath(path) && this.#state.secrets.has(path);
  }

  list(): SecretInfo[] {
    return [...this.#state.secrets.values()]
      .map(({ path, version, updatedAtMs }) => ({ path, version, updatedAtMs }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  delete(path: string): SecretDeleteResult {
    assertSecretPath(path);
    const { key, epoch, secrets } = this.#state;
    const existing = secrets.get(path);
    if (!existing)
      throw new VigoError(
        'secrets.not_found',
        `secret ${quotePath(path)} does not exist; list the stored paths with vigocli secrets list`,
        { path },
      );
    const remaining = new Map(secrets);
    remaining.delete(path);
    this.#commit({ key, epoch: epoch + 1, secrets: remaining });
    this.log.info('secret deleted', { path, version: existing.version, epoch: this.epoch });
    return { path, version: existing.version, epoch: this.epoch };
  }

  rotateMasterKey(): MasterKeyRotation {
    // Settles what an earlier failed rotation left behind, judged by the vault on disk (which a write that
    // failed after its rename may have changed), so the staged key file is free to reuse.
    reconcileMasterKey(this.dir, readVaultFile(this.vaultFile)?.keyId, this.log);
    const previousKeyId = this.keyId;
    const key = generateMasterKey();
    const secrets = new Map<string, SealedSecret>();
    for (const old of this.#state.secrets.values()) {
      const plaintext = this.#decrypt(old);
      secrets.set(old.path, seal(key, old, plaintext));
      plaintext.fill(0);
    }
    // Order is the crash-safety argument: the new key is on disk before any ciphertext needs it, and the
    // old key stays master.key until the vault written under the new key is durable. On a failure the
    // staged key stays too (the vault may already need it); the next open or rotation settles it.
    writeMasterKeyFile(this.#nextKeyFile, key);
    this.#commit({ key, epoch: this.epoch + 1, secrets });
    renameDurable(this.#nextKeyFile, this.masterKeyFile);
    this.log.info('rotated the secrets master key', { keyId: key.id, previousKeyId, secrets: secrets.size });
    return { keyId: key.id, previousKeyId, secrets: secrets.size, epoch: this.epoch };
  }

  resolveForBundle(allowedPaths: ReadonlySet<string>, requested: readonly string[]): BundleSecrets {
    const result: BundleSecrets = { values: new Map(), denied: [], missing: [] };
    const seen = new Set<string>();
    for (const path of requested) {
      if (seen.has(path)) continue;
      seen.add(path);
      const sealed = this.#state.secrets.get(path);
      if (!allowedPaths.has(path)) result.denied.push(path);
      else if (!sealed) result.missing.push(path);
      else result.values.set(path, this.#decrypt(sealed));
    }
    return result;
  }

  #decrypt(sealed: SealedSecret): Buffer {
    return unseal(this.#state.key, sealed, this.vaultFile);
  }

  // Keeps the state equal to the vault on disk even when a write fails after its rename: the rotation's
  // crash safety relies on the in-memory key being the key the file on disk needs.
  #commit(next: VaultState): void {
    const doc = { keyId: next.key.id, secretsEpoch: next.epoch, secrets: next.secrets };
    try {
      writeVaultFile(this.vaultFile, doc);
    } catch (err) {
      if (err instanceof ReplacedNotDurableError) this.#state = next;
      throw err;
    }
    this.#state = next;
  }
}
