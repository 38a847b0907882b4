/**
 * Optional encryption of a backup with age (age-encryption.org/v1): to an X25519 recipient (`age1…`), or
 * with a passphrase (scrypt). The archive is streamed through it; age authenticates every 64 KiB chunk and
 * the last one, so a truncated or altered encrypted backup fails to decrypt.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter } from 'age-encryption';
import { VigoError } from '../core/index.ts';

export type BackupKey =
  | { readonly kind: 'recipient'; readonly recipient: string }
  | {
      readonly kind: 'passphrase';
      readonly passphrase: string;
      /** scrypt's cost as log2(N); age's default (18) unless given. */
      readonly scryptLogN?: number;
    };

export type RestoreKey =
  | { readonly kind: 'identity'; readonly identity: string }
  | { readonly kind: 'passphrase'; readonly passphrase: string };

/** What every age file begins with. */
export const ageMagic = Buffer.from('age-encryption.org/v1\n');

const recipientPattern = /^age1[02-9ac-hj-np-z]{58}$/;
const identityPattern = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

export function isAgeRecipient(text: string): boolean {
  return recipientPattern.test(text);
}

/** Reads the first identity line of an age identity file (comments and blank lines skipped). */
export function parseIdentityFile(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  if (line === undefined || !identityPattern.test(line)) {
    throw new VigoError(
      'backup.invalid',
      'the identity file holds no age X25519 identity (AGE-SECRET-KEY-1…)',
    );
  }
  return line;
}

/** A passphrase file's first line; empty is refused. */
export function parsePassphraseFile(text: string): string {
  const line = text.split('\n')[0]?.replace(/\r$/, '') ?? '';
  if (line === '') throw new VigoError('backup.invalid', 'the passphrase file is empty');
  return line;
}

function toWeb(stream: Readable): WebReadableStream<Uint8Array> {
  return Readable.toWeb(stream) as WebReadableStream<Uint8Array>;
}

export async function encryptStream(plain: Readable, key: BackupKey): Promise<Readable> {
  const encrypter = new Encrypter();
  if (key.kind === 'recipient') encrypter.addRecipient(key.recipient);
  else {
    encrypter.setPassphrase(key.passphrase);
    if (key.scryptLogN !== undefined) encrypter.setScryptWorkFactor(key.scryptLogN);
  }
  const out = await encrypter.encrypt(toWeb(plain));
  return Readable.fromWeb(out);
}

/** Decrypts a stream; a wrong key or a damaged header is `backup.decrypt_failed` before a byte is yielded. */
export async function decryptStream(encrypted: Readable, key: RestoreKey): Promise<Readable> {
  const decrypter = new Decrypter();
  if (key.kind === 'identity') decrypter.addIdentity(key.identity);
  else decrypter.addPassphrase(key.passphrase);
  try {
    const out = await decrypter.decrypt(toWeb(encrypted));
    return Readable.fromWeb(out);
  } catch (err) {
    throw new VigoError(
      'backup.decrypt_failed',
      `the backup cannot be decrypted with the key given: ${(err as Error).message}`,
    );
  }
}
