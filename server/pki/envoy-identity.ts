/**
 * Binding a TLS client certificate to an envoy id. Envoy certificates carry the id twice: as the SAN
 * URI `urn:vigo:envoy:<id>` (authoritative) and as the subject CN (fallback for tools that only show
 * the subject).
 *
 * `envoyIdFromCert` is a pure function of the certificate bytes and parses with node's native X.509
 * code (a few microseconds), so the gRPC layer may call it per request or cache its answer keyed by the
 * certificate fingerprint (`tls.PeerCertificate.fingerprint256` is computed by node for free). It does
 * not check who issued the certificate: it is meant for peers the TLS handshake already verified
 * against ca.crt.
 */
import { createHash, X509Certificate } from 'node:crypto';

const envoyIdPattern = /^[A-Za-z0-9-]{1,64}$/;
export const envoyUriPrefix = 'urn:vigo:envoy:';

export function isEnvoyId(value: string): boolean {
  return envoyIdPattern.test(value);
}

export function envoyUri(envoyId: string): string {
  return `${envoyUriPrefix}${envoyId}`;
}

/** Lower-case hex SHA-256 of a certificate's DER (node's `fingerprint256` is the same, upper-case with colons). */
export function fingerprintSha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Splits node's `subjectAltName` text ("DNS:a, URI:b, email:\"x, y\""): node JSON-quotes any value
 * holding a comma, quote or backslash precisely so the list can be split without ambiguity.
 */
export function splitSubjectAltNames(text: string): { type: string; value: string }[] {
  const entries: { type: string; value: string }[] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon < 0) break;
    const type = text.slice(at, colon);
    let end: number;
    let value: string;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      end += 1;
      value = JSON.parse(text.slice(colon + 1, end)) as string;
    } else {
      const comma = text.indexOf(', ', colon + 1);
      end = comma < 0 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    entries.push({ type, value });
    at = end + 2;
  }
  return entries;
}

/** The id from SAN URIs: a string, `null` when the URIs are unusable (conflicting or malformed), `undefined` when absent. */
function idFromSan(cert: X509Certificate): string | null | undefined {
  const ids = new Set(
    splitSubjectAltNames(cert.subjectAltName ?? '')
      .filter((entry) => entry.type === 'URI' && entry.value.startsWith(envoyUriPrefix))
      .map((entry) => entry.value.slice(envoyUriPrefix.length)),
  );
  if (ids.size === 0) return undefined;
  // Two different envoy URIs in one certificate name nobody in particular.
  const [id] = ids;
  return ids.size === 1 && id !== undefined && isEnvoyId(id) ? id : null;
}

function idFromCommonName(cert: X509Certificate): string | undefined {
  const cns = cert.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  if (cns.length !== 1) return undefined;
  const [cn] = cns;
  return cn !== undefined && isEnvoyId(cn) ? cn : undefined;
}

/** The envoy id a certificate names (DER bytes or PEM), or undefined if it names none or is unreadable. */
export function envoyIdFromCert(certDerOrPem: Uint8Array | string): string | undefined {
  try {
    const cert = new X509Certificate(certDerOrPem);
    const fromSan = idFromSan(cert);
    if (fromSan === null) return undefined;
    return fromSan ?? idFromCommonName(cert);
  } catch {
    return undefined;
  }
}
