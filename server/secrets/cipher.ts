/**
 * AES-256-GCM for one secret: a fresh random 96-bit nonce per encryption, and the path and version bound in
 * as associated data, so a ciphertext moved to another path or version fails authentication.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VigoError } from '../core/index.ts';
import type { MasterKey } from './master-key.ts';

export const nonceBytes = 12;
export const tagBytes = 16;

export interface SealedSecret {
  readonly path: string;
  /** Bumped on every set of this path; a rotation re-encrypts without changing it. */
  readonly version: number;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
  readonly keyId: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export interface SealInput {
  readonly path: string;
  readonly version: number;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

function associatedData(path: string, version: number): Buffer {
  return Buffer.from(`vigo/secrets/v1\0${path}\0${version}`, 'utf8');
}

export function seal(key: MasterKey, input: SealInput, plaintext: Buffer): SealedSecret {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: tagBytes });
  cipher.setAAD(associatedData(input.path, input.version));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const { path, version, createdAtMs, updatedAtMs } = input;
  const tag = cipher.getAuthTag();
  return { path, version, nonce, ciphertext, tag, keyId: key.id, createdAtMs, updatedAtMs };
}

/** The plaintext of `sealed`; `secrets.vault_corrupt` when anything about it was altered. */
export function unseal(key: MasterKey, sealed: SealedSecret, vaultFile: string): Buffer {
  if (sealed.keyId !== key.id) throw corrupt(sealed.path, vaultFile, `it names key ${sealed.keyId}`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.nonce, { authTagLength: tagBytes });
    decipher.setAAD(associatedData(sealed.path, sealed.version));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (err) {
    throw corrupt(sealed.path, vaultFile, 'it fails authentication', err);
  }
}

function corrupt(path: string, vaultFile: string, problem: string, cause?: unknown): VigoError {
  return new VigoError(
    'secrets.vault_corrupt',
    `secret ${JSON.stringify(path)} in ${vaultFile} cannot be decrypted: ${problem} (its ciphertext, nonce, ` +
      'tag, path or version was altered); restore vault.json and master.key together from a backup',
    { path, file: vaultFile },
    cause === undefined ? undefined : { cause },
  );
}
