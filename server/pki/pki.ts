/**
 * The server's PKI as the rest of vigosrv sees it: the PEMs the listeners need, the bundle-signing
 * key, and the two operations enrollment and check-in need (sign an envoy CSR, name a peer cert's envoy).
 */
import type { KeyObject } from 'node:crypto';
import { VigoError, type Logger } from '../core/index.ts';
import { parseVerifiedCsr } from './csr.ts';
import { toPem } from './x509-setup.ts';
import { envoyIdFromCert, envoyUri, fingerprintSha256, isEnvoyId } from './envoy-identity.ts';
import { caValidityDays, envoyValidityDaysDefault, issueEnvoyCert, type CaMaterial } from './issue.ts';
import { loadOrCreateMaterial, pkiPaths } from './material.ts';
import { requiredServerSans } from './sans.ts';

export interface PkiOptions {
  /** Directory holding ca.crt, ca.key, server.crt, server.key and bundle-signing.key (created 0700). */
  tlsDir: string;
  /** The server's name as envoys dial it: CN and SAN of the server certificate. */
  hostname: string;
  /** More names for the server certificate: IP addresses or DNS names (a leading "*." is allowed). */
  extraSans: string[];
  log: Logger;
  now?: () => Date;
  /**
   * Set when something already depends on this PKI (enrolled envoys, published configuration): a missing CA
   * or bundle-signing key is then `pki.material_missing`, never a new PKI. Says what depends on it.
   */
  mustExistBecause?: string;
}

export interface SignEnvoyCsrInput {
  csrPem: string;
  envoyId: string;
  validityDays?: number;
}

export interface IssuedEnvoyCert {
  certPem: string;
  /** Lower-case hex, as @peculiar/x509 and `openssl x509 -serial` (modulo case) print it. */
  serial: string;
  /** Lower-case hex SHA-256 of the DER certificate. */
  fingerprintSha256: string;
}

export interface Pki {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** ed25519 key that signs policy bundles; envoys pin its public half at enrollment. */
  bundleSigningKey: KeyObject;
  bundlePublicKey: KeyObject;
  /** The 32 raw bytes of the ed25519 public key. */
  bundlePublicKeyRaw: Buffer;
  bundlePublicKeyPem: string;
  /** Absolute path of ca.crt, to print and to hand to local tools. */
  caFile: string;
  /**
   * Issues an envoy client certificate for the key in `csrPem`. The CSR's subject and extensions are
   * ignored: the certificate names `envoyId` (CN and SAN URI `urn:vigo:envoy:<id>`), EKU clientAuth.
   * Throws `pki.csr_invalid` for a malformed CSR, a bad self-signature, a key other than ECDSA P-256 or
   * ed25519, or an envoy id outside [A-Za-z0-9-]{1,64}.
   */
  signEnvoyCsr(input: SignEnvoyCsrInput): Promise<IssuedEnvoyCert>;
  /**
   * The envoy id a (TLS-verified) peer certificate names; pure and cheap, see envoy-identity.ts for
   * caching by `PeerCertificate.fingerprint256`.
   */
  envoyIdFromCert(certDerOrPem: Uint8Array | string): string | undefined;
}

function checkValidityDays(validityDays: number): void {
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > caValidityDays) {
    throw new VigoError(
      'request.invalid',
      `validityDays must be a whole number of days from 1 to ${caValidityDays}, got ${validityDays}`,
      { validityDays },
    );
  }
}

function envoyCsrSigner(ca: CaMaterial, now: () => Date): Pki['signEnvoyCsr'] {
  return async (input) => {
    if (typeof input.envoyId !== 'string' || !isEnvoyId(input.envoyId)) {
      throw new VigoError(
        'pki.csr_invalid',
        `certificate signing request refused: envoy id ${JSON.stringify(input.envoyId)} must be 1-64 characters of letters, digits and hyphens`,
        {},
      );
    }
    const validityDays = input.validityDays ?? envoyValidityDaysDefault;
    checkValidityDays(validityDays);
    const envoyPublicKey = await parseVerifiedCsr(input.csrPem);
    const cert = await issueEnvoyCert({
      ca,
      envoyPublicKey,
      envoyId: input.envoyId,
      envoyUri: envoyUri(input.envoyId),
      validityDays,
      now: now(),
    });
    return {
      certPem: toPem(cert),
      serial: cert.serialNumber.toLowerCase(),
      fingerprintSha256: fingerprintSha256(new Uint8Array(cert.rawData)),
    };
  };
}

/**
 * Loads the PKI from `tlsDir`, creating it on first start. Damaged CA or bundle-key files fail with
 * `pki.material_invalid` naming the file, missing ones with `pki.material_missing` naming all of them (as
 * does an empty directory when `mustExistBecause` is set); nothing is regenerated over them. A server
 * certificate that lacks a configured name, expires within 30 days or no longer matches its key or CA
 * is re-issued from the same CA (and logged).
 */
export async function loadOrCreatePki(options: PkiOptions): Promise<Pki> {
  const now = options.now ?? (() => new Date());
  const paths = pkiPaths(options.tlsDir);
  const material = await loadOrCreateMaterial({
    paths,
    hostname: options.hostname,
    sans: requiredServerSans(options.hostname, options.extraSans),
    log: options.log,
    now: now(),
    mustExistBecause: options.mustExistBecause,
  });
  return {
    caCertPem: material.caCertPem,
    serverCertPem: material.serverCertPem,
    serverKeyPem: material.serverKeyPem,
    bundleSigningKey: material.bundle.privateKey,
    bundlePublicKey: material.bundle.publicKey,
    bundlePublicKeyRaw: material.bundle.publicKeyRaw,
    bundlePublicKeyPem: material.bundle.publicKeyPem,
    caFile: paths.caCert,
    signEnvoyCsr: envoyCsrSigner(material.ca, now),
    envoyIdFromCert,
  };
}
