/**
 * Password rules and hashing. bcrypt reads only the first 72 bytes of its input, and we allow passwords
 * of up to 1024 characters, so the password is first condensed with HMAC-SHA256 (keyed with a fixed
 * domain label, so a leaked plain-SHA-256 table cannot be matched against our hashes) and bcrypt hashes
 * that digest. Hashing and comparing use bcrypt's async API so they run on the libuv thread pool instead of
 * blocking the event loop for the whole work factor.
 */
import { createHmac } from 'node:crypto';
import bcrypt from 'bcrypt';
import { VigoError } from '../core/index.ts';

export const passwordLimits = { minLength: 12, maxLength: 1024 } as const;
/** bcrypt work factor for passwords: ~250 ms a hash on a server core, paid at login only. */
export const productionBcryptRounds = 12;
const prehashKey = 'vigo/password/v1';

/**
 * The password as hashed: Unicode NFC, so the same password typed on two systems matches. Length counts
 * characters (code points), not bytes.
 */
export function checkPassword(input: unknown): string {
  if (typeof input !== 'string') {
    throw new VigoError('identity.password_invalid', 'password must be a string', { field: 'password' });
  }
  const password = input.normalize('NFC');
  const length = [...password].length;
  if (length < passwordLimits.minLength || length > passwordLimits.maxLength) {
    throw new VigoError(
      'identity.password_invalid',
      `password must be ${passwordLimits.minLength} to ${passwordLimits.maxLength} characters long, ` +
        `got ${length}; a passphrase of several words is easiest to remember`,
      { field: 'password' },
    );
  }
  return password;
}

function prehash(password: string): string {
  return createHmac('sha256', prehashKey).update(password.normalize('NFC')).digest('base64');
}

export function hashPassword(password: string, rounds: number): Promise<string> {
  return bcrypt.hash(prehash(password), rounds);
}

export function passwordMatches(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(prehash(password), hash);
}

/** True for a bcrypt work factor bcrypt accepts. */
export function isBcryptRounds(rounds: number): boolean {
  return Number.isSafeInteger(rounds) && rounds >= 4 && rounds <= 31;
}
