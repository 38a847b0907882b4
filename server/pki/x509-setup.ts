/**
 * The one place @peculiar/x509 is imported for its values: it needs the Reflect metadata polyfill loaded
 * first and node's WebCrypto registered as its crypto provider, exactly once per process.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto);

export { x509, webcrypto };

export type CryptoKey = webcrypto.CryptoKey;

export interface EcKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** Every certificate and CSR we sign is ECDSA P-256 with SHA-256. */
export const ecKeyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ecSigningAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** PEM text as files conventionally hold it: ending in a newline (node's key PEMs already do). */
export function toPem(data: { toString(format: 'pem'): string }): string {
  const pem = data.toString('pem');
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
