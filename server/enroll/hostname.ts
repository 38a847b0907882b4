/**
 * Hostnames as envoys present them at enrollment. They become part of the fleet's identity and are
 * matched against token globs, so only RFC 1123 names are accepted, compared lower-cased.
 */
import { VigoError } from '../core/index.ts';

export const maxHostnameLength = 253;
// RFC 1123 relaxed RFC 952 to let labels start with a digit; hyphens stay inside a label.
const labelPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function problemOf(hostname: string): string | undefined {
  if (hostname.length === 0) return 'it is empty';
  if (hostname.length > maxHostnameLength) {
    return `it is ${hostname.length} characters long, over the limit of ${maxHostnameLength}`;
  }
  const bad = hostname.split('.').find((label) => !labelPattern.test(label));
  if (bad === undefined) return undefined;
  if (bad === '') return 'it has an empty label (a leading, trailing or doubled dot)';
  if (bad.length > 63) return `its label "${bad.slice(0, 20)}…" is longer than 63 characters`;
  return `its label "${bad}" may hold only letters, digits and inner hyphens`;
}

/** The lower-cased hostname, or throws `enroll.hostname_invalid` saying what is wrong. */
export function normalizeHostname(raw: string): string {
  const hostname = raw.toLowerCase();
  const problem = problemOf(hostname);
  if (problem !== undefined) {
    throw new VigoError(
      'enroll.hostname_invalid',
      `hostname ${JSON.stringify(raw.slice(0, 300))} is not a valid RFC 1123 host name: ${problem}. ` +
        'Send the host name as the machine reports it, e.g. "web-01.example.com".',
      {},
    );
  }
  return hostname;
}
