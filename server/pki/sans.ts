/**
 * Subject alternative names of the server certificate. Names are compared by their DER encoding, so
 * `2001:db8::1` and `2001:0db8:0:0:0:0:0:1` (or `LOCALHOST` and `localhost`) count as the same name.
 */
import { isIP } from 'node:net';
import type { JsonGeneralName } from '@peculiar/x509';
import { VigoError } from '../core/index.ts';
import { x509 } from './x509-setup.ts';

/** Always present so local tools and the server's own envoy can dial it without configuration. */
const builtInSans: readonly JsonGeneralName[] = [
  { type: 'dns', value: 'localhost' },
  { type: 'ip', value: '127.0.0.1' },
  { type: 'ip', value: '::1' },
];

const dnsLabel = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

function isDnsName(name: string, allowWildcard: boolean): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (allowWildcard && labels[0] === '*' && labels.length > 1) labels.shift();
  return labels.every((label) => dnsLabel.test(label));
}

/** An IP if it parses as one (zone ids like `fe80::1%eth0` cannot go in a certificate), else a DNS name. */
export function parseSan(value: string, source: string): JsonGeneralName {
  const trimmed = value.trim();
  if (!trimmed.includes('%') && isIP(trimmed) !== 0) return { type: 'ip', value: trimmed };
  // "host.example." is the same name written fully qualified; certificates carry it without the dot.
  const dns = trimmed.toLowerCase().replace(/\.$/, '');
  if (isDnsName(dns, source !== 'hostname')) return { type: 'dns', value: dns };
  throw new VigoError(
    'config.invalid',
    `${source} "${value}" is neither an IP address nor a valid DNS name; ` +
      'use letters, digits, hyphens and dots (a leading "*." is allowed in extra SANs)',
    { source, value },
  );
}

function sanKey(name: JsonGeneralName): string {
  return Buffer.from(new x509.GeneralName(name.type, name.value).rawData).toString('hex');
}

/** The SANs the server certificate must carry, deduplicated, built-ins first. */
export function requiredServerSans(hostname: string, extraSans: readonly string[]): JsonGeneralName[] {
  const wanted = [
    ...builtInSans,
    parseSan(hostname, 'hostname'),
    ...extraSans.map((san, index) => parseSan(san, `extra SAN #${index + 1}`)),
  ];
  const seen = new Set<string>();
  return wanted.filter((name) => {
    const key = sanKey(name);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The required names a certificate lacks, as `dns:name` / `ip:addr` strings for logs. */
export function missingSans(cert: x509.X509Certificate, required: readonly JsonGeneralName[]): string[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const present = new Set(
    (ext?.names.items ?? []).map((name) => sanKey({ type: name.type, value: name.value.toLowerCase() })),
  );
  return required.filter((name) => !present.has(sanKey(name))).map((name) => `${name.type}:${name.value}`);
}
