/**
 * Certificate issuance: the CA, the server certificate and envoy client certificates. Every
 * certificate is signed ECDSA P-256 / SHA-256 and gets a fresh random 128-bit serial.
 */
import { randomBytes } from 'node:crypto';
import type { JsonGeneralName, PublicKey } from '@peculiar/x509';
import { ecSigningAlgorithm, x509, type EcKeyPair } from './x509-setup.ts';

const dayMs = 24 * 60 * 60 * 1000;

export const caValidityDays = 3650;
export const serverValidityDays = 825;
export const envoyValidityDaysDefault = 365;
/** Certificates start an hour in the past so a host whose clock lags a little still accepts them. */
const backdateMs = 60 * 60 * 1000;
/** ub-common-name (RFC 5280): longer CNs are rejected by strict parsers; SANs carry the real name. */
const maxCommonNameLength = 64;

export interface CaMaterial {
  cert: x509.X509Certificate;
  keys: EcKeyPair;
}

export function commonName(text: string): string {
  return text.length <= maxCommonNameLength ? text : text.slice(0, maxCommonNameLength);
}

/** 128 random bits; @peculiar/x509 adds the leading zero octet DER needs to keep the INTEGER positive. */
export function randomSerialHex(): string {
  let bytes = randomBytes(16);
  // A leading zero octet would be stripped and leave fewer than 128 bits.
  while (bytes[0] === 0) bytes = randomBytes(16);
  return bytes.toString('hex');
}

function validity(now: Date, days: number, notAfterCap?: Date): { notBefore: Date; notAfter: Date } {
  const notAfter = new Date(now.getTime() + days * dayMs);
  return {
    notBefore: new Date(now.getTime() - backdateMs),
    notAfter: notAfterCap && notAfterCap < notAfter ? notAfterCap : notAfter,
  };
}

export async function createCaCert(
  keys: EcKeyPair,
  hostname: string,
  now: Date,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: [{ CN: [commonName(`Vigo CA ${hostname}`)] }],
    ...validity(now, caValidityDays),
    keys,
    signingAlgorithm: ecSigningAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
}

interface LeafParams {
  ca: CaMaterial;
  subjectCn: string;
  publicKey: PublicKey;
  sans: JsonGeneralName[];
  extendedKeyUsage: x509.ExtendedKeyUsage;
  validityDays: number;
  now: Date;
}

/** A leaf certificate signed by the CA; it never outlives the CA that vouches for it. */
async function issueLeaf(params: LeafParams): Promise<x509.X509Certificate> {
  const { ca } = params;
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: [{ CN: [commonName(params.subjectCn)] }],
    issuer: ca.cert.subjectName,
    ...validity(params.now, params.validityDays, ca.cert.notAfter),
    publicKey: params.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ecSigningAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([params.extendedKeyUsage]),
      new x509.SubjectAlternativeNameExtension(params.sans),
      await x509.SubjectKeyIdentifierExtension.create(params.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
}

export async function issueServerCert(input: {
  ca: CaMaterial;
  serverPublicKey: PublicKey;
  hostname: string;
  sans: JsonGeneralName[];
  now: Date;
}): Promise<x509.X509Certificate> {
  return issueLeaf({
    ca: input.ca,
    subjectCn: input.hostname,
    publicKey: input.serverPublicKey,
    sans: input.sans,
    extendedKeyUsage: x509.ExtendedKeyUsage.serverAuth,
    validityDays: serverValidityDays,
    now: input.now,
  });
}

export async function issueEnvoyCert(input: {
  ca: CaMaterial;
  envoyPublicKey: PublicKey;
  envoyId: string;
  envoyUri: string;
  validityDays: number;
  now: Date;
}): Promise<x509.X509Certificate> {
  return issueLeaf({
    ca: input.ca,
    subjectCn: input.envoyId,
    publicKey: input.envoyPublicKey,
    sans: [{ type: 'url', value: input.envoyUri }],
    extendedKeyUsage: x509.ExtendedKeyUsage.clientAuth,
    validityDays: input.validityDays,
    now: input.now,
  });
}
