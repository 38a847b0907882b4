/**
 * The enrollment token as it travels: `vget_<id>_<secret>`. The id is public (it names the token in
 * lists, audit entries and revocation) and finds the one stored record, so a presented token costs a
 * single bcrypt comparison instead of one per stored token. The secret is 256 random bits, base64url.
 */
import { randomBytes } from 'node:crypto';

export const enrollTokenPrefix = 'vget_';
const idBytes = 8;
const secretBytes = 32;
// A fixed-length hex id keeps the split unambiguous even though base64url secrets may contain "_".
const tokenPattern = /^vget_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const idPattern = /^[0-9a-f]{16}$/;

export interface EnrollTokenParts {
  readonly id: string;
  readonly secret: string;
}

export function newEnrollToken(): EnrollTokenParts & { readonly token: string } {
  const id = randomBytes(idBytes).toString('hex');
  const secret = randomBytes(secretBytes).toString('base64url');
  return { id, secret, token: `${enrollTokenPrefix}${id}_${secret}` };
}

/** The parts of a well-formed token, or undefined for anything else. */
export function parseEnrollToken(token: string): EnrollTokenParts | undefined {
  const match = tokenPattern.exec(token.trim());
  if (match === null) return undefined;
  const [, id, secret] = match;
  return id === undefined || secret === undefined ? undefined : { id, secret };
}

export function isEnrollTokenId(id: string): boolean {
  return idPattern.test(id);
}
