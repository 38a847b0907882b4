/**
 * Random credentials and how they are kept. Every credential here is 256 random bits, so one SHA-256 is
 * enough to store it: nobody can brute-force the preimage, and lookup by hash is one indexed read.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const secretBytes = 32;
/** base64url of 32 bytes, no padding. */
const secretPattern = /^[A-Za-z0-9_-]{43}$/;

/** 256 random bits, base64url (43 characters). */
export function randomSecret(): string {
  return randomBytes(secretBytes).toString('base64url');
}

/** `prefix` followed by a fresh 256-bit secret. */
export function prefixedSecret(prefix: string): string {
  return `${prefix}${randomSecret()}`;
}

/** True when `text` is exactly `prefix` followed by a secret as `randomSecret` makes them. */
export function isPrefixedSecret(text: unknown, prefix: string): text is string {
  return typeof text === 'string' && text.startsWith(prefix) && secretPattern.test(text.slice(prefix.length));
}

export function isBareSecret(text: unknown): text is string {
  return typeof text === 'string' && secretPattern.test(text);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Constant-time equality of two strings of any length: both sides are hashed to 32 bytes first. */
export function sameText(a: string, b: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** A short random id such as `tok_3f9c…` (96 bits: unique, not secret). */
export function randomId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}
