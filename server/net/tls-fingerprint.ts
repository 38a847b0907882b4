/** Converts node's `AB:CD:…` TLS peer-certificate fingerprint to the lower-case hex the index stores. */
export function fromTlsFingerprint(colonHex: string): string {
  return colonHex.replaceAll(':', '').toLowerCase();
}
