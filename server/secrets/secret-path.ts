/**
 * Secret paths. A path the vault accepts must be one a `secret:` reference can name and a bundle marker
 * can carry back unchanged, so the grammar is the reference grammar of server/policy/secrets.ts (letters,
 * digits and `_ . / -`, starting and ending with a letter, digit or `_`) plus what keeps markers and
 * paths unambiguous.
 */
import { VigoError } from '../core/index.ts';

export const maxSecretPathLength = 256;

const pathPattern = /^[A-Za-z0-9_](?:[A-Za-z0-9_./-]*[A-Za-z0-9_])?$/;
const markerEnd = '__END__';

/** Why `path` is not a valid secret path, or undefined when it is. */
export function secretPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'it is empty';
  if (path.length > maxSecretPathLength)
    return `it is ${path.length} characters long, the limit is ${maxSecretPathLength}`;
  if (!pathPattern.test(path))
    return 'it may hold only letters, digits and _ . / -, and must start and end with a letter, digit or _';
  if (path.includes('..')) return 'it contains ".."';
  if (path.includes('//')) return 'it contains an empty segment ("//")';
  // A bundle marker is `__VIGO_SECRET__<path>__END__` read up to the first `__END__`; a path that lets
  // `__END__` start inside it would come back from the agent as a different path.
  if ((path + markerEnd).indexOf(markerEnd) !== path.length)
    return 'it contains "__END" (reserved for markers)';
  return undefined;
}

export function isValidSecretPath(path: string): boolean {
  return secretPathProblem(path) === undefined;
}

/** A short, printable rendering of untrusted input for error messages. */
export function quotePath(path: string): string {
  const shown = path.length > 80 ? `${path.slice(0, 80)}…` : path;
  return JSON.stringify(shown);
}

export function assertSecretPath(path: string): void {
  const problem = secretPathProblem(path);
  if (problem === undefined) return;
  throw new VigoError(
    'secrets.path_invalid',
    `secret path ${quotePath(path)} is invalid: ${problem}; write it like a secret: reference, e.g. vigo/db/password`,
    { path: path.slice(0, maxSecretPathLength) },
  );
}
