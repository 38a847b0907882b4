/**
 * Parsing of what people type for a user: username, display name, e-mail. Each check returns the value as
 * stored or throws a VigoError naming the field and how to fix it.
 */
import { VigoError } from '../core/index.ts';

/** User ids are `usr_` and 24 hex digits; no username may start so, so one lookup can take either. */
export const userIdPrefix = 'usr_';

export const userLimits = {
  maxUsernameLength: 64,
  maxDisplayNameLength: 128,
  maxEmailLength: 254,
} as const;

const usernamePattern = /^[a-z0-9][a-z0-9._-]*$/;
/** Names that read like the server's own principals in logs and audit entries. */
export const reservedUsernames: ReadonlySet<string> = new Set(['localhost', 'local-admin', 'system']);
// Control characters would let a name forge lines in logs or the terminal of whoever reads them.
const controlCharacters = /\p{Cc}/u;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function quoted(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
}

function usernameProblem(input: unknown, username: string): string | undefined {
  if (typeof input !== 'string') return 'it must be a string';
  if (username.length === 0 || username.length > userLimits.maxUsernameLength) {
    return `it must be 1 to ${userLimits.maxUsernameLength} characters long`;
  }
  if (!usernamePattern.test(username)) {
    return 'use only a-z, 0-9, ".", "_" and "-", starting with a letter or digit';
  }
  if (reservedUsernames.has(username)) return 'this name is reserved for the server itself; choose another';
  if (username.startsWith(userIdPrefix))
    return `names starting with "${userIdPrefix}" look like user ids; choose another`;
  return undefined;
}

/** Lower-cases and checks a username: 1–64 of a-z 0-9 . _ -, starting with a letter or digit, not reserved. */
export function normalizeUsername(input: unknown): string {
  const username = typeof input === 'string' ? input.trim().toLowerCase() : '';
  const problem = usernameProblem(input, username);
  if (problem !== undefined) {
    throw new VigoError('identity.username_invalid', `username ${quoted(input)} is not valid: ${problem}`, {
      field: 'username',
    });
  }
  return username;
}

/** True when `input` would pass normalizeUsername (for logging what a failed login tried). */
export function isValidUsername(input: unknown): input is string {
  return typeof input === 'string' && usernameProblem(input, input.trim().toLowerCase()) === undefined;
}

function invalidField(field: string, problem: string): VigoError {
  return new VigoError('request.invalid', `${field}: ${problem}`, { field });
}

/** Trimmed display name, or null for none/blank. */
export function checkDisplayName(input: string | null | undefined): string | null {
  if (input === undefined || input === null) return null;
  if (typeof input !== 'string') throw invalidField('displayName', 'must be a string or null');
  const name = input.trim();
  if (name === '') return null;
  if (name.length > userLimits.maxDisplayNameLength) {
    throw invalidField('displayName', `at most ${userLimits.maxDisplayNameLength} characters`);
  }
  if (controlCharacters.test(name)) throw invalidField('displayName', 'must not contain control characters');
  return name;
}

/** Trimmed e-mail address, or null for none/blank. */
export function checkEmail(input: string | null | undefined): string | null {
  if (input === undefined || input === null) return null;
  if (typeof input !== 'string') throw invalidField('email', 'must be a string or null');
  const email = input.trim();
  if (email === '') return null;
  if (email.length > userLimits.maxEmailLength || !emailPattern.test(email)) {
    throw invalidField('email', `${quoted(email)} is not an e-mail address like ann@example.com`);
  }
  return email;
}

export function userNotFound(idOrUsername: unknown): VigoError {
  return new VigoError(
    'identity.user_not_found',
    `no user has the id or username ${quoted(idOrUsername)}; listing the users shows who exists`,
  );
}
